import { describe, expect, it } from 'vitest';
import { OdooError } from '../src/clients/odoo/odoo-errors.js';
import { faultToError } from '../src/clients/odoo/odoo-errors.js';
import { isLastAttempt, toJobError } from './step-job.js';

describe('toJobError', () => {
  it('tells BullMQ not to retry what no retry can fix, with a safe reason', () => {
    const fault = faultToError(
      'dimagaz.bc.read',
      1,
      'Traceback (most recent call last):\n  ...\npsycopg2.errors.UniqueViolation: duplicate key value violates "res_partner_pkey" DETAIL: Key (id)=(7)',
      'secret',
    );
    const error = toJobError(fault);
    expect(error.name).toBe('UnrecoverableError');
    expect(error.message).toBe(
      'ODOO_SERVER_FAULT: Odoo server fault on dimagaz.bc.read (psycopg2.errors.UniqueViolation)',
    );
    expect(error.cause).toBe(fault);
    expect(isLastAttempt({ attemptsMade: 0, opts: { attempts: 5 } }, error)).toBe(true);
  });

  it('lets BullMQ retry what may pass later, and hides what it does not know', () => {
    const network = toJobError(new OdooError('ODOO_NETWORK', 'x: reset', { retryable: true }));
    expect(network.name).not.toBe('UnrecoverableError');
    expect(network.message).toBe('ODOO_NETWORK: x: reset');
    expect(isLastAttempt({ attemptsMade: 0, opts: { attempts: 5 } }, network)).toBe(false);
    expect(isLastAttempt({ attemptsMade: 4, opts: { attempts: 5 } }, network)).toBe(true);
    const postgres = Object.assign(new Error('relation "sync_failure" does not exist'), {
      name: 'PostgresError',
      code: '42P01',
    });
    expect(toJobError(postgres).message).toBe('DATABASE_ERROR: database error (SQLSTATE 42P01)');
    expect(toJobError(new TypeError('boom at host db.internal')).message).toBe(
      'INTERNAL: unexpected error; the worker log has the details',
    );
  });
});
