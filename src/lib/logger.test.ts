import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', pretty: false }, stream) };
}

describe('logger redaction', () => {
  it('masks the credentials of a URL in messages and in errors', () => {
    const { lines, logger } = capture();
    const url = 'https://sync:url-secret-pw@odoo.example:8069/xmlrpc/2/object';
    logger.warn({ err: new Error(`cannot reach ${url}`) }, `calling ${url}`);
    const output = lines.join('');
    expect(output).not.toContain('url-secret-pw');
    expect(output).toContain('https://[redacted]@odoo.example:8069');
  });

  it('prints none of the secrets of a password, an Authorization header and an execute_kw call', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        password: 'hunter2-password',
        req: {
          headers: { authorization: 'Bearer eb_secret-api-key', cookie: 'sid=cookie-secret' },
        },
        odoo: {
          executeKw: ['prod', 2, 'odoo-api-key-secret', 'dimagaz.bc', 'search_read', [[]], {}],
        },
        tryton: { sessionToken: 'ffeeddcc-session-token', login: { password: 'tryton-pw' } },
      },
      'calling out',
    );
    const output = lines.join('');
    for (const secret of [
      'hunter2-password',
      'eb_secret-api-key',
      'cookie-secret',
      'odoo-api-key-secret',
      'ffeeddcc-session-token',
      'tryton-pw',
    ]) {
      expect(output).not.toContain(secret);
    }
    const line = JSON.parse(output) as { odoo: { executeKw: unknown[] }; msg: string };
    expect(line.msg).toBe('calling out');
    expect(line.odoo.executeKw).toEqual([
      'prod',
      2,
      '[redacted]',
      'dimagaz.bc',
      'search_read',
      [[]],
      {},
    ]);
  });
});
