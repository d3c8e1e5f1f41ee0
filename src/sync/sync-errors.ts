/** Errors the sync domain raises itself (the clients raise their own typed errors). */
import { AppError } from '../lib/errors.js';

/** The reconcile's safety stop: Odoo lists far fewer of the records we hold than it used to. */
export class ReconcileSafetyStop extends AppError {
  constructor(message: string) {
    super('SYNC_RECONCILE_SAFETY_STOP', message, { retryable: false });
  }
}

/** A job of a run that no longer holds the lease: it stops, and writes nothing more. */
export class LeaseLostError extends AppError {
  constructor(message: string) {
    super('SYNC_LEASE_LOST', message, { retryable: false });
  }
}

/**
 * A job of a run that was halted: another job met an error no job of the run may meet again
 * (Odoo refused the credentials), so this one does not call Odoo at all.
 */
export class RunHaltedError extends AppError {
  constructor(readonly haltCode: string) {
    super('SYNC_RUN_HALTED', `the run was halted (${haltCode}); this job makes no Odoo call`, {
      retryable: false,
    });
  }
}

/**
 * Another transaction created rows this one planned to create, between its look at the copy and
 * its write: the transaction is rolled back and decides again, now that it sees those rows
 * (write-records.ts). Two writers of one new record are a page run again beside its first
 * execution, or a webhook's job beside a first copy's page.
 */
export class ConcurrentCreateError extends AppError {
  constructor(model: string, odooIds: readonly number[]) {
    super(
      'SYNC_CONCURRENT_CREATE',
      `another writer created ${model} ${odooIds.join(', ')} meanwhile; the batch decides again`,
      { retryable: true },
    );
  }
}

/**
 * A record that changed in Odoo within each of its reads (root-pages.ts): its stamp moved between
 * its parts (a record read in parts), or its children changed between its read and theirs. What
 * was read would not describe one version of it. Retryable: its own job reads it again later.
 */
export class RecordChangingError extends AppError {
  constructor(model: string, odooId: number, reads: number, between: 'parts' | 'children') {
    super(
      'SYNC_RECORD_CHANGING',
      between === 'parts'
        ? `${model} ${odooId} was written in Odoo between the parts of each of ${reads} reads`
        : `the children of ${model} ${odooId} changed in Odoo between its read and theirs, in each of ${reads} reads`,
      { retryable: true },
    );
  }
}

/**
 * A root a record job found it should read with its own (a child moved from or to it, or to a
 * root read with it), past the page of roots one job reads: left to the next run, which reads it
 * as a pending failure. Retryable.
 */
export class NeighbourDeferredError extends AppError {
  constructor(noun: string, odooId: number, withId: number, pageSize: number) {
    super(
      'SYNC_NEIGHBOUR_DEFERRED',
      `${noun} ${odooId} is to be read with ${noun} ${withId} (a child moved from or to it), past the ${pageSize} roots a job reads with its own: left to the next run`,
      { retryable: true },
    );
  }
}
