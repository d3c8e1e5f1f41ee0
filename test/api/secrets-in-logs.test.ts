/**
 * The webhook token is the only credential of `POST /hooks/odoo/<token>`: no log line, error
 * body or metric label of the API carries it, whatever the request made of it (a delivery, a
 * wrong method, an extra segment, a bad query, a body too large, a 5xx).
 */
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp, type App } from '../../src/http/app.js';
import { createQueues, type Queues } from '../../src/queues/queues.js';
import { redisQueues } from '../../src/stores/queue-store.js';
import { BC_MODEL } from '../../src/families/bcs/family.js';
import { bearer, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

describe('the webhook token never reaches a log line, an error or a metric label', () => {
  const token = randomBytes(32).toString('base64url');
  const oldToken = randomBytes(32).toString('base64url');
  let db: TestDb;
  let connection: Redis;
  let queues: Queues;
  let app: App;
  const log = memoryLogger('trace');
  beforeAll(async () => {
    db = await createTestDb();
    connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
    const prefix = `hooks-${randomBytes(5).toString('hex')}`;
    queues = createQueues({
      logger: log.logger,
      backend: redisQueues(connection, prefix),
      settings: { attempts: 1, backoffMs: 10 },
    });
    app = await buildApp({
      config: testConfig({
        QUEUE_PREFIX: prefix,
        ODOO_WEBHOOK_TOKENS: createHash('sha256').update(token).digest('hex'),
        LOG_LEVEL: 'trace',
      }),
      logger: log.logger,
      db,
      queues,
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await Promise.all(queues.all.map((queue) => queue.obliterate({ force: true })));
    await queues.close();
    await connection.quit();
    await db.dispose();
  });

  it('in deliveries, refusals and failures', async () => {
    const event = { _model: BC_MODEL, _id: 7, write_date: '2026-01-01 00:00:00' };
    const bodies: string[] = [];
    for (const request of [
      { method: 'POST', url: `/hooks/odoo/${token}`, payload: event, status: 202 },
      { method: 'POST', url: `/hooks/odoo/${token}?event=deleted`, payload: event, status: 202 },
      { method: 'POST', url: `/hooks/odoo/${oldToken}`, payload: event, status: 404 },
      { method: 'GET', url: `/hooks/odoo/${token}`, status: 404 },
      { method: 'POST', url: `/hooks/odoo/${token}/again`, payload: event, status: 404 },
      // Spelled otherwise, routed alike: the router decodes the path before it matches it.
      { method: 'POST', url: `/hooks/%6fdoo/${token}`, payload: event, status: 202 },
      { method: 'POST', url: `/hooks/od%6Fo/${token}/again`, payload: event, status: 404 },
      { method: 'POST', url: `/%68ooks/odoo/${oldToken}`, payload: event, status: 404 },
      { method: 'POST', url: `/hooks/odoo/${token}?event=bogus`, payload: event, status: 400 },
      { method: 'POST', url: `/hooks/odoo/${token}`, payload: 'x'.repeat(20_000), status: 413 },
      { method: 'POST', url: `/hooks/odoo/${token}`, payload: '{"_model": ', status: 400 },
    ] as const) {
      const response = await app.inject({
        method: request.method,
        url: request.url,
        headers: { 'content-type': 'application/json' },
        ...('payload' in request
          ? {
              payload:
                typeof request.payload === 'string'
                  ? request.payload
                  : JSON.stringify(request.payload),
            }
          : {}),
      });
      expect(response.statusCode, `${request.method} ${request.url}: ${response.body}`).toBe(
        request.status,
      );
      bodies.push(response.body);
    }
    const metrics = await app.inject({ url: '/metrics', headers: bearer('operator') });
    expect(metrics.statusCode).toBe(200);
    const output = log.lines.join('');
    // The log did record the requests, by their route: they are there, masked.
    expect(output).toContain('/hooks/odoo/[redacted]');
    for (const secret of [token, oldToken]) {
      expect(output).not.toContain(secret);
      for (const body of bodies) expect(body).not.toContain(secret);
      expect(metrics.body).not.toContain(secret);
    }
  });
});
