/**
 * The query watch on a real PostgreSQL (src/db/query-watch.ts): one connection of the pool is
 * killed under a query, as an administrator or a proxy's timeout would, and the server goes on.
 * A long, healthy statement started once the pool has answered again and stayed quiet is not a
 * lost query, and the worker or the API must not be declared dead for it; a query the pool had
 * when it lost the connection still is judged.
 */
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDb, type DbHandle } from '../../src/db/create-db.js';
import { QUIET_MS } from '../../src/db/query-watch.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const STUCK_AFTER_MS = 60_000;

describe('the query watch, one connection killed on a healthy server', () => {
  let db: TestDb;
  let watched: DbHandle;
  let admin: postgres.Sql;
  beforeAll(async () => {
    db = await createTestDb();
    watched = await createDb({ url: db.url, poolMax: 3, watch: { stuckAfterMs: STUCK_AFTER_MS } });
    admin = postgres(db.url, { max: 1, onnotice: () => undefined });
  });
  afterAll(async () => {
    vi.useRealTimers();
    await admin`select pg_advisory_unlock_all()`;
    await admin.end();
    await watched.close();
    await db.dispose();
  });

  /** The backend of the watched pool waiting on advisory lock `key`, once it waits there. */
  const waitingOn = (key: number) =>
    vi.waitFor(
      async () => {
        const [row] = await admin<{ pid: number }[]>`
          select pid from pg_locks
          where locktype = 'advisory' and objid = ${key} and not granted`;
        if (!row) throw new Error(`no session waits on advisory lock ${key} yet`);
        return row.pid;
      },
      { timeout: 30_000, interval: 50 },
    );

  it('judges no long statement started once the pool answered again and stayed quiet', async () => {
    await admin`select pg_advisory_lock(1)`;
    const killed = watched.db.execute(sql`select pg_advisory_lock(1)`).then(
      () => undefined,
      (error: unknown) => error,
    );
    await admin`select pg_terminate_backend(${await waitingOn(1)})`;
    expect(await killed).toMatchObject({
      cause: { code: expect.stringMatching(/^(57P01|CONNECTION_CLOSED)$/) as unknown },
    });
    // The lease's heartbeat, the next second: on a fresh connection, answered.
    await watched.db.execute(sql`select 1 as heartbeat`);

    // A statement that runs for as long as the test says: a reconcile's scan, a verify's read,
    // started once the pool has answered for the watch's quiet window.
    await admin`select pg_advisory_lock(2)`;
    vi.useFakeTimers({ now: Date.now() + QUIET_MS + 1_000, toFake: ['Date'] });
    // Held by a transaction of its own: it ends with the statement's transaction.
    const long = watched.db
      .transaction((tx) => tx.execute(sql`select pg_advisory_xact_lock(2)`))
      .then(() => undefined);
    try {
      await waitingOn(2);
      vi.setSystemTime(Date.now() + 10 * STUCK_AFTER_MS);
      expect(watched.stuckQuery?.()).toBeUndefined();
    } finally {
      vi.useRealTimers();
      await admin`select pg_advisory_unlock(2)`;
      await long;
    }
  }, 60_000);

  it('still judges a query the pool had when it lost a connection', async () => {
    await admin`select pg_advisory_lock(3)`;
    // On another connection of the pool, waiting when the next one is killed.
    const held = watched.db
      .transaction((tx) => tx.execute(sql`select pg_advisory_xact_lock(3)`))
      .then(() => undefined);
    try {
      await waitingOn(3);
      await admin`select pg_advisory_lock(4)`;
      const killed = watched.db.execute(sql`select pg_advisory_lock(4)`).catch(() => undefined);
      await admin`select pg_terminate_backend(${await waitingOn(4)})`;
      await killed;
      vi.useFakeTimers({ now: Date.now() + STUCK_AFTER_MS + 1_000, toFake: ['Date'] });
      expect(watched.stuckQuery?.()).toMatch(
        /^a database query has been pending for 6\d s, 6\d s after its pool lost a connection \(select pg_advisory_xact_lock\(3\)\)$/,
      );
    } finally {
      vi.useRealTimers();
      await admin`select pg_advisory_unlock(3)`;
      await held;
    }
  }, 60_000);
});
