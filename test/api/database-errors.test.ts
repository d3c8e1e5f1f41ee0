/**
 * A statement PostgreSQL cancelled because another was in its way — a serialization failure (on a
 * replica, a conflict with its replay) or a deadlock — is a 503 the client may send again, with
 * Retry-After, and so is one cancelled past the API's bound on a statement, and one that found the
 * database unreachable or its session ended (a restart, a failover); any other database
 * error stays a 500 that shows nothing of the statement. Real
 * errors of a real server, raised with their SQLSTATE, through the app's error handler.
 */
import { createServer, type AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type DbHandle } from '../../src/db/create-db.js';
import { errorHandler } from '../../src/http/plugins/error-handler.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const RAISED: Readonly<Record<string, string>> = {
  serialization: 'serialization_failure',
  deadlock: 'deadlock_detected',
  duplicate: 'unique_violation',
  canceled: 'query_canceled',
};

describe('a statement the database cancelled', () => {
  let db: TestDb;
  let app: FastifyInstance;
  let nowhere: DbHandle;
  beforeAll(async () => {
    db = await createTestDb({ migrated: false });
    app = Fastify({ logger: false });
    await app.register(errorHandler);
    app.get<{ Params: { kind: string } }>('/raise/:kind', async (request) => {
      const condition = RAISED[request.params.kind]!;
      await db.sql!.unsafe(
        `do $$ begin raise exception 'secret detail of table t' using errcode = '${condition}'; end $$`,
      );
      return {};
    });
    // A session the server ended (a restart, a failover), and a server that refuses connections
    // (a port nothing listens on), through drizzle as the routes query.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    nowhere = await createDb({ url: `postgres://nobody@127.0.0.1:${port}/none`, poolMax: 1 });
    app.get<{ Params: { kind: string } }>('/unreachable/:kind', async (request) => {
      if (request.params.kind === 'shutdown')
        await db.sql!.unsafe(
          `do $$ begin raise exception 'secret detail of table t' using errcode = 'admin_shutdown'; end $$`,
        );
      else if (request.params.kind === 'refused') await nowhere.db.execute(sql`select 1`);
      // Redis's, Odoo's or Tryton's socket refused: not the database.
      else
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), {
          code: 'ECONNREFUSED',
        });
      return {};
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await nowhere.close();
    await db.dispose();
  });

  it.each(['serialization', 'deadlock'])('a %s is a 503 to send again', async (kind) => {
    const answer = await app.inject({ url: `/raise/${kind}` });
    expect(answer.statusCode).toBe(503);
    expect(answer.headers['retry-after']).toBe('1');
    expect(answer.json()).toMatchObject({ error: 'DATABASE_BUSY' });
    expect(answer.body).not.toContain('secret detail');
  });

  it('one cancelled past its bound is a 503 naming the bound, to send again later', async () => {
    const answer = await app.inject({ url: '/raise/canceled' });
    expect(answer.statusCode).toBe(503);
    expect(answer.headers['retry-after']).toBe('5');
    expect(answer.json()).toMatchObject({
      error: 'DATABASE_TIMEOUT',
      message: expect.stringContaining('API_STATEMENT_TIMEOUT_MS') as unknown,
    });
    expect(answer.body).not.toContain('secret detail');
  });

  it.each(['shutdown', 'refused'])(
    'a database %s is a 503 to send again, not a 500',
    async (kind) => {
      const answer = await app.inject({ url: `/unreachable/${kind}` });
      expect(answer.statusCode).toBe(503);
      expect(answer.headers['retry-after']).toBe('5');
      expect(answer.json()).toMatchObject({ error: 'DATABASE_UNAVAILABLE' });
      expect(answer.body).not.toContain('secret detail');
    },
  );

  it("another service's refused socket stays a 500: the database is not named for it", async () => {
    const answer = await app.inject({ url: '/unreachable/redis' });
    expect(answer.statusCode).toBe(500);
    expect(answer.json()).toMatchObject({ error: 'INTERNAL' });
  });

  it('any other is a 500 that shows nothing of it', async () => {
    const answer = await app.inject({ url: '/raise/duplicate' });
    expect(answer.statusCode).toBe(500);
    expect(answer.json()).toMatchObject({ error: 'INTERNAL' });
    expect(answer.body).not.toContain('secret detail');
  });
});
