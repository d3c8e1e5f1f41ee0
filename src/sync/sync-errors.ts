/** Errors the sync domain raises itself (the clients raise their own typed errors). */
import { AppError } from '../lib/errors.js';

/** A record Odoo sent that cannot be copied (a required field empty or malformed). Not retryable. */
export class SyncDataError extends AppError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('SYNC_BAD_RECORD', message, { cause: options.cause, retryable: false });
  }
}

/** The reconcile's safety stop: Odoo reports far fewer BCs than we hold. */
export class ReconcileSafetyStop extends AppError {
  constructor(message: string) {
    super('SYNC_RECONCILE_SAFETY_STOP', message, { retryable: false });
  }
}

/** A run that lost its lease to another (its worker stalled past the lease). */
export class LeaseLostError extends AppError {
  constructor(message: string) {
    super('SYNC_LEASE_LOST', message, { retryable: false });
  }
}
