import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDb, type DbHandle } from '../src/db/create-db.js';
import { withDeadline } from '../src/lib/deadline.js';
import { createLogger } from '../src/lib/logger.js';
import { createTestDb, type TestDb } from '../test/helpers/test-db.js';
import { runBounded, stuckExecutionsOf, type StuckExecutions } from './execution-bounds.js';

const logger = createLogger({ level: 'silent', pretty: false });
/** A failure bound for what must settle at once, never a pace. */
const SETTLES_WITHIN_MS = 20_000;

const settled = <T>(work: Promise<T>) =>
  work.then(
    (value) => ({ value }),
    (error: unknown) => ({ error: error as Error }),
  );

describe('an execution without a database query pending', () => {
  const never: StuckExecutions = {
    afterMs: 1_000,
    terminate: () => Promise.resolve(),
    running: () => Promise.resolve([]),
  };

  it('runs as long as its work, which no bound on queries ends', async () => {
    vi.useFakeTimers();
    try {
      let finish!: (value: string) => void;
      const execution = settled(
        runBounded(
          new AbortController().signal,
          never,
          logger,
          () => new Promise<string>((resolve) => (finish = resolve)),
        ),
      );
      await vi.advanceTimersByTimeAsync(60 * never.afterMs);
      finish('done');
      expect(await execution).toEqual({ value: 'done' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('ends at once when it is cancelled, whatever it still waits on', async () => {
    const lock = new AbortController();
    let signalled: AbortSignal | undefined;
    const execution = runBounded(lock.signal, never, logger, (signal) => {
      signalled = signal;
      return new Promise<never>(() => undefined);
    });
    lock.abort('the job lost its lock: BullMQ runs it again');
    await expect(execution).rejects.toThrow(
      'SYNC_JOB_CANCELLED: the job lost its lock: BullMQ runs it again',
    );
    expect(signalled?.aborted).toBe(true);
  });
});

describe('an execution whose query stays pending on a healthy server', () => {
  let db: TestDb;
  let watched: DbHandle;
  let admin: postgres.Sql;
  beforeAll(async () => {
    db = await createTestDb({ migrated: false });
    // Watched as a worker's pool is: the execution's queries are followed.
    watched = await createDb({ url: db.url, poolMax: 2, watch: { stuckAfterMs: 3_600_000 } });
    admin = postgres(db.url, { max: 1, onnotice: () => undefined });
  });
  afterAll(async () => {
    await admin.end();
    await watched.close();
    await db.dispose();
  });

  it('is cancelled when its server process waits for a lock, its connection ended, and the pool answers the next query', async () => {
    // A statement that waits as long as the test holds the lock, in a session without
    // lock_timeout: as one whose answer never comes.
    await admin`select pg_advisory_lock(64)`;
    try {
      let query: Promise<unknown> | undefined;
      const stuck = stuckExecutionsOf(watched, 2_000)!;
      const execution = runBounded(new AbortController().signal, stuck, logger, () => {
        // Started once: drizzle runs its query again at each `then`.
        query = Promise.resolve(watched.db.execute(sql`select pg_advisory_lock(64)`));
        return query;
      });
      await expect(
        withDeadline(execution, SETTLES_WITHIN_MS, () => new Error('the execution still runs')),
      ).rejects.toThrow(
        /^SYNC_JOB_CANCELLED: a database query of this execution has been pending for \d+ s, its server process not running it: its connection is closed and the job runs again$/,
      );
      // Its connection was ended on the server: the query fails, and holds no connection.
      expect(
        await withDeadline(settled(query!), SETTLES_WITHIN_MS, () => new Error('still pending')),
      ).toMatchObject({
        error: { cause: { code: expect.stringMatching(/^(57P01|CONNECTION_CLOSED)$/) as unknown } },
      });
      await expect(watched.db.execute(sql`select 1 as one`)).resolves.toEqual([{ one: 1 }]);
    } finally {
      await admin`select pg_advisory_unlock(64)`;
    }
  });
});

describe('an execution whose query the server is still running', () => {
  let db: TestDb;
  let watched: DbHandle;
  beforeAll(async () => {
    db = await createTestDb({ migrated: false });
    watched = await createDb({ url: db.url, poolMax: 2, watch: { stuckAfterMs: 3_600_000 } });
  });
  afterAll(async () => {
    await watched.close();
    await db.dispose();
  });

  it('goes on past the bound and answers, as a record of large values being written does', async () => {
    const stuck = stuckExecutionsOf(watched, 1_000)!;
    const execution = runBounded(new AbortController().signal, stuck, logger, async () => {
      // Six times the bound, the statement running all along.
      const rows = (await watched.db.execute(sql`select pg_sleep(3), 'written' as done`)) as {
        done: string;
      }[];
      return rows[0]?.done;
    });
    expect(
      await withDeadline(settled(execution), SETTLES_WITHIN_MS, () => new Error('still runs')),
    ).toEqual({ value: 'written' });
  });
});
