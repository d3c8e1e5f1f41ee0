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
  it("prints neither the Odoo API key's secret nor a key handed to generate/revoke nor a sealed key", () => {
    const { lines, logger } = capture();
    logger.info(
      {
        secret: 'odoo-api-key-secret-of-32-characters',
        config: { secret: 'nested-secret-value-0123456789' },
        call: { kwargs: { key: '0123456789abcdef0123456789abcdef01234567', name: 'erp-bridge' } },
        row: { keySealed: 'v1.sealed-current', retiredSealed: 'v1.sealed-retired' },
      },
      'renewing',
    );
    const output = lines.join('');
    for (const secret of ['32-characters', 'nested-secret', '0123456789abcdef', 'v1.sealed'])
      expect(output).not.toContain(secret);
    expect(output).toContain('erp-bridge');
  });

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

describe('URL secrets in log lines', () => {
  it('masks the webhook token in every shape Fastify logs a request in, and in messages and errors', () => {
    const { lines, logger } = capture();
    const token = 'wh-token-1234567890abcdef';
    const url = `/hooks/odoo/${token}?event=deleted`;
    logger.info(
      { req: { method: 'POST', url, id: 'req-1', headers: { a: 1 } } },
      'incoming request',
    );
    logger.info({ res: { statusCode: 202, raw: {} } }, 'request completed');
    logger.info({ url, statusCode: 404 }, 'request completed');
    logger.info(`Route POST:${url} not found`);
    logger.error({ err: new Error(`no route GET ${url}`) }, 'request failed');
    const output = lines.join('');
    expect(output).not.toContain(token);
    const [incoming, completed] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(incoming).toMatchObject({
      req: { method: 'POST', url: '/hooks/odoo/[redacted]?event=deleted', id: 'req-1' },
    });
    expect(completed).toMatchObject({ res: { statusCode: 202 } });
    expect(output).not.toContain('headers');
  });

  it('bounds a request URL and replaces its control characters', () => {
    const { lines, logger } = capture();
    const long = `/api/bcs?q=${'a'.repeat(100_000)}`;
    logger.info({ url: long }, 'request completed');
    logger.info({ url: '/api/bcs?q=a\n{"level":60}\u0000' }, 'request completed');
    const [cut, controlled] = lines.map((line) => JSON.parse(line) as { url: string });
    expect(cut!.url.length).toBeLessThan(600);
    expect(cut!.url).toMatch(new RegExp(`…\\(${long.length} characters\\)$`));
    expect(controlled!.url).toBe('/api/bcs?q=a\ufffd{"level":60}\ufffd');
  });
});
