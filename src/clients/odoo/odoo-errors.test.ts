import { describe, expect, it } from 'vitest';
import {
  OdooError,
  faultToError,
  isRetryableHttpStatus,
  isSerializationFailure,
  redactSecret,
  shortenFaultString,
} from './odoo-errors.js';
import { toNamedArguments } from './json2-transport.js';
import { faultCodeForExceptionName } from './jsonrpc-transport.js';

const TRACEBACK =
  "Traceback (most recent call last):\n  File \"/odoo/service/model.py\", line 94, in execute_kw\n    return execute(...)\nValueError: Invalid field 'x' on model 'dimagaz.bc'\n";

describe('Odoo error classification', () => {
  it('maps fault codes to error codes and retryability', () => {
    expect(faultToError('m.search', 3, 'Access Denied', 'pw')).toMatchObject({
      code: 'ODOO_AUTH',
      retryable: false,
      faultCode: 3,
    });
    expect(faultToError('m.search', 4, 'no', 'pw')).toMatchObject({
      code: 'ODOO_ACCESS',
      retryable: false,
    });
    expect(faultToError('m.search', 2, "Object m doesn't exist", 'pw')).toMatchObject({
      code: 'ODOO_USER_ERROR',
      retryable: false,
    });
    expect(faultToError('m.search', 1, TRACEBACK, 'pw')).toMatchObject({
      code: 'ODOO_SERVER_FAULT',
      retryable: false,
      faultString: TRACEBACK,
    });
    const conflict = faultToError(
      'm.write',
      1,
      'Traceback...\npsycopg2.errors.SerializationFailure: could not serialize access due to concurrent update\n',
      'pw',
    );
    expect(conflict).toMatchObject({ code: 'ODOO_SERVER_FAULT', retryable: true });
    expect(conflict).toBeInstanceOf(OdooError);
  });

  it('keeps the last traceback line for messages', () => {
    expect(shortenFaultString(TRACEBACK)).toBe(
      "ValueError: Invalid field 'x' on model 'dimagaz.bc'",
    );
    expect(shortenFaultString('  Access Denied \n')).toBe('Access Denied');
    expect(shortenFaultString('x'.repeat(1_000)).length).toBe(300);
    expect(faultToError('m.read', 1, TRACEBACK, 'pw').message).toBe(
      "Odoo server fault on m.read: ValueError: Invalid field 'x' on model 'dimagaz.bc'",
    );
  });

  it('recognises transient database conflicts', () => {
    expect(isSerializationFailure('could not serialize access due to concurrent update')).toBe(
      true,
    );
    expect(
      isSerializationFailure('psycopg2.errors.LockNotAvailable: could not obtain lock on row'),
    ).toBe(true);
    expect(isSerializationFailure('deadlock detected')).toBe(true);
    expect(isSerializationFailure('ValueError: Invalid field')).toBe(false);
  });

  it('retries only the proxy statuses and a rate limit', () => {
    expect([429, 502, 503, 504].every(isRetryableHttpStatus)).toBe(true);
    expect([400, 401, 404, 405, 413, 500].some(isRetryableHttpStatus)).toBe(false);
  });

  it('never echoes the password from a server text', () => {
    const error = faultToError(
      'm.search',
      1,
      'Traceback\nValueError: bad args (db, 2, "s3cret-pw", ...)',
      's3cret-pw',
    );
    expect(error.message).not.toContain('s3cret-pw');
    expect(error.faultString).not.toContain('s3cret-pw');
    expect(redactSecret('a s3cret-pw b s3cret-pw', 's3cret-pw')).toBe('a [redacted] b [redacted]');
  });

  it('maps Odoo exception names like xmlrpc_handle_exception_int', () => {
    expect(faultCodeForExceptionName('odoo.exceptions.AccessDenied')).toBe(3);
    expect(faultCodeForExceptionName('odoo.exceptions.AccessError')).toBe(4);
    expect(faultCodeForExceptionName('odoo.exceptions.ValidationError')).toBe(2);
    expect(faultCodeForExceptionName('odoo.exceptions.MissingError')).toBe(2);
    expect(faultCodeForExceptionName('builtins.ValueError')).toBe(1);
    expect(faultCodeForExceptionName('psycopg2.errors.SerializationFailure')).toBe(1);
  });
});

describe('JSON-2 named arguments', () => {
  it('names execute_kw positional arguments by the ORM signatures', () => {
    expect(
      toNamedArguments('m', 'search_read', [[['id', '>', 0]]], {
        fields: ['name'],
        limit: 5,
        order: 'id',
        offset: undefined,
      }),
    ).toEqual({
      domain: [['id', '>', 0]],
      fields: ['name'],
      limit: 5,
      order: 'id',
    });
    expect(toNamedArguments('m', 'read', [[1, 2]], { fields: ['name'] })).toEqual({
      ids: [1, 2],
      fields: ['name'],
    });
    expect(toNamedArguments('m', 'write', [[1], { name: 'x' }], {})).toEqual({
      ids: [1],
      vals: { name: 'x' },
    });
    expect(toNamedArguments('m', 'action_confirm', [[4]], {})).toEqual({ ids: [4] });
  });

  it('refuses positional arguments it cannot name', () => {
    expect(() => toNamedArguments('m', 'do_it', [[1], 'x'], {})).toThrow(OdooError);
    expect(() => toNamedArguments('m', 'search_count', [[], 1, 2], {})).toThrow(
      /too many positional/,
    );
  });
});
