/**
 * A worker frozen inside a fenced write (its event loop blocked, its process stopped) must not hold
 * the sync lease row until TCP gives up: the sessions of the sync's processes wait for a lock a
 * bounded time, and PostgreSQL ends a session idle inside a transaction, releasing its locks.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createDb, type DbHandle } from '../../src/db/create-db.js';
import { syncState } from '../../src/db/schema/index.js';
import { bcsFamily } from '../../src/families/bcs/family.js';
import { takeLease } from '../../src/sync/sync-state.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { CODE_FAMILIES } from '../../src/families/registry.js';

describe("the sync's database sessions", () => {
  let db: TestDb;
  const handles: DbHandle[] = [];
  beforeAll(async () => {
    db = await createTestDb();
    await db.db.insert(syncState).values({ key: bcsFamily.name });
  });
  afterAll(async () => {
    for (const handle of handles) await handle.close();
    await db.dispose();
  });

  /** A database handle as a worker opens it, from its configuration. */
  async function workerDb(): Promise<DbHandle> {
    const config = loadConfig(
      {
        DATABASE_URL: db.url,
        REDIS_URL: 'redis://127.0.0.1:1',
        ODOO_URL: 'http://127.0.0.1:1',
        ODOO_DATABASE: 'odoo',
        ODOO_USERNAME: 'sync',
        ODOO_PASSWORD: 'secret',
        DATABASE_LOCK_TIMEOUT_MS: '300',
        // Seconds: the checks made while the frozen session lives must not race its end.
        DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '5000',
      },
      { mode: 'production', role: 'worker', codeFamilies: CODE_FAMILIES },
    );
    const handle = await createDb({ ...config.database, poolMax: 2 });
    handles.push(handle);
    return handle;
  }

  it('a frozen fenced write holds the lease row for a bounded time, then loses its session', async () => {
    const frozenWorker = await workerDb();
    const nextRun = await workerDb();
    // What fenceLease does inside a write's transaction, then nothing more: the process froze.
    const frozen = await frozenWorker.sql!.reserve();
    const [{ pid }] = await frozen<[{ pid: number }]>`select pg_backend_pid() as pid`;
    await frozen`begin`;
    await frozen`select key from sync_state where key = ${bcsFamily.name} for share`;

    const request = { key: bcsFamily.name, owner: 'run-next', leaseSeconds: 60 };
    // While the frozen session lives, taking the lease fails fast (lock_timeout), never hangs.
    await expect(takeLease(nextRun.db, request)).rejects.toMatchObject({
      cause: expect.objectContaining({ code: '55P03' }) as unknown,
    });
    // PostgreSQL ends the frozen session (idle_in_transaction_session_timeout): the lease is free.
    await vi.waitFor(async () => expect(await takeLease(nextRun.db, request)).toBeDefined(), {
      timeout: 30_000,
      interval: 250,
    });
    // Gone on the server's side. Not asked through the frozen session itself: postgres.js can
    // hang writing a query to a socket the server has just closed.
    // The backend releases its locks before it leaves pg_stat_activity: wait for it to exit.
    await vi.waitFor(
      async () => {
        const [{ alive }] = await nextRun.sql!<[{ alive: number }]>`
          select count(*)::int as alive from pg_stat_activity where pid = ${pid}`;
        expect(alive).toBe(0);
      },
      { timeout: 10_000, interval: 100 },
    );
    frozen.release();
  });
});
