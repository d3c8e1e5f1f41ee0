/** Records Odoo sent that cannot be copied. */
import { AppError } from '../lib/errors.js';

/** A required field empty or malformed, a child of another root. Not retryable. */
export class BadRecordError extends AppError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('SYNC_BAD_RECORD', message, { cause: options.cause, retryable: false });
  }
}

/** Bytes as a person reads them: `300,000,213`. */
const bytesText = (bytes: number) => bytes.toLocaleString('en-US');

/**
 * A value larger than the copy reads (ODOO_VALUE_MAX_BYTES): its record is not copied. Not
 * retryable: the same read meets the same value; a later run tries the record again.
 */
export class ValueTooLargeError extends AppError {
  constructor(
    readonly model: string,
    readonly odooId: number,
    readonly field: string,
    /** The value's answer from Odoo, in bytes; undefined when Odoo did not say (no Content-Length). */
    readonly bytes: number | undefined,
    readonly maxBytes: number,
    options: { cause?: unknown } = {},
  ) {
    super(
      'SYNC_VALUE_TOO_LARGE',
      `${model} ${odooId}: field ${field} takes ${bytes === undefined ? `more than ${bytesText(maxBytes)}` : bytesText(bytes)} bytes in Odoo's answer, past ODOO_VALUE_MAX_BYTES (${bytesText(maxBytes)} bytes): the record is not copied until it is raised (docs/models.md, "Large values")`,
      { cause: options.cause, retryable: false },
    );
  }
}

/**
 * A record whose values together are more than PostgreSQL holds in one jsonb (its `data`). Not
 * retryable: the same read meets the same values.
 */
export class RecordTooLargeError extends AppError {
  constructor(
    model: string,
    odooId: number,
    fields: ReadonlyMap<string, number>,
    maxBytes: number,
  ) {
    const total = [...fields.values()].reduce((sum, bytes) => sum + bytes, 0);
    const each = [...fields]
      .sort((a, b) => b[1] - a[1])
      .map(([field, bytes]) => `${field} ${bytesText(bytes)}`)
      .join(', ');
    super(
      'SYNC_RECORD_TOO_LARGE',
      `${model} ${odooId}: its large values take ${bytesText(total)} bytes together (${each}), past the ${bytesText(maxBytes)} bytes one record's write puts back at once: the record is not copied (docs/models.md, "Large values")`,
      { retryable: false },
    );
  }
}
