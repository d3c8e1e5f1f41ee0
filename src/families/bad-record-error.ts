/** A record Odoo sent that cannot be copied. */
import { AppError } from '../lib/errors.js';

/** A required field empty or malformed, a child of another root. Not retryable. */
export class BadRecordError extends AppError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('SYNC_BAD_RECORD', message, { cause: options.cause, retryable: false });
  }
}
