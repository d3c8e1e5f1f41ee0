/**
 * postgres.js when a connection dies under it (docs/postgres-driver.md): the faults of 3.4.9 that
 * patches/postgres+3.4.9.patch mends, each on a real PostgreSQL. A connection reset by a proxy, an administrator's pg_terminate_backend and a
 * transaction whose backend died each leave the pool answering the next query, with no statement
 * sent twice, no two transactions on one server transaction, nothing pending for good and no
 * exception thrown from a timer.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/create-db.js';
import { withDeadline } from '../../src/lib/deadline.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { startRelay } from '../helpers/tcp-relay.js';

/** How long a test waits for what must settle at once: a failure bound, never a pace. */
const SETTLES_WITHIN_MS = 20_000;

type Outcome<T> = { readonly value: T } | { readonly error: { readonly code?: unknown } };

const outcome = <T>(work: Promise<T>): Promise<Outcome<T>> =>
  work.then(
    (value) => ({ value }),
    (error: unknown) => ({ error: error as { code?: unknown } }),
  );

/** A connection's failure, as postgres.js or the socket names it. */
const CONNECTION_FAILURE = /^(CONNECTION_CLOSED|CONNECTION_DESTROYED|ECONNRESET|57P01)$/;

describe('postgres.js when a connection dies', () => {
  let db: TestDb;
  let admin: postgres.Sql;
  beforeAll(async () => {
    db = await createTestDb({ migrated: false, poolMax: 1 });
    admin = postgres(db.url, { max: 1, onnotice: () => undefined });
  });
  afterAll(async () => {
    await admin.end();
    await db.dispose();
  });

  it('sends no statement of a reset connection on the next one, and gives two transactions two server transactions', async () => {
    const relay = await startRelay(new URL(db.url));
    const pool = await createDb({ url: relay.url, poolMax: 1 });
    const sql = pool.sql!;
    try {
      /** A transaction that reads its server transaction and answers its own name. */
      const transaction = (name: string) =>
        sql.begin(async (tx) => {
          // Parameterized: described first, the statement a shifted answer leaves half-sent.
          const [row] = await tx<{ xid: string; name: string }[]>`
            select txid_current()::text as xid, ${name}::text as name`;
          return row!;
        });
      // Open, as a worker's pool is: the connection is no longer starting up.
      await sql`select 1`;
      let first: Promise<Outcome<{ xid: string; name: string }>> | undefined;
      const sleepSent = relay.sends('pg_sleep');
      const sleeping = sql`select pg_sleep(2)`.then(
        () => undefined,
        (error: unknown) => {
          // As a page job does on the failure: its next transaction, on the same pool.
          first = outcome(transaction('first'));
          return error as { code?: unknown };
        },
      );
      await sleepSent;
      relay.reset();
      expect(await sleeping).toMatchObject({ code: expect.stringMatching(CONNECTION_FAILURE) });
      const second = outcome(transaction('second'));
      const [firstDone, secondDone] = await withDeadline(
        Promise.all([first!, second]),
        SETTLES_WITHIN_MS,
        () => new Error('a transaction is still pending after the reset'),
      );
      // The second runs on a new connection to a healthy server: it commits, with its own answer.
      expect(secondDone).toEqual({ value: { xid: expect.any(String) as unknown, name: 'second' } });
      // The first was sent to the dead socket: it fails for its connection, or runs as itself.
      if ('error' in firstDone) expect(firstDone.error.code).toMatch(CONNECTION_FAILURE);
      else {
        expect(firstDone.value.name).toBe('first');
        if ('value' in secondDone) expect(firstDone.value.xid).not.toBe(secondDone.value.xid);
      }
      await expect(
        withDeadline(sql`select 'after' as answer`, SETTLES_WITHIN_MS, () => new Error('pending')),
      ).resolves.toEqual([{ answer: 'after' }]);
    } finally {
      await pool.close();
      await relay.close();
    }
  });

  it('answers the next query of a connection whose backend was terminated under a query', async () => {
    const sql = db.sql!;
    const [{ pid } = { pid: 0 }] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
    const killed = outcome(sql`select pg_sleep(60)`.execute());
    await admin`select pg_terminate_backend(${pid})`;
    const done = await withDeadline(killed, SETTLES_WITHIN_MS, () => new Error('pending'));
    expect(done).toMatchObject({ error: { code: expect.stringMatching(CONNECTION_FAILURE) } });
    // A healthy server: the old backend's 57P01 is not this query's answer.
    await expect(
      withDeadline(sql`select 1 as one`.execute(), SETTLES_WITHIN_MS, () => new Error('pending')),
    ).resolves.toEqual([{ one: 1 }]);
  });

  /**
   * A pool of one connection through a relay; `die` runs a query, asks for the pool's end, and
   * resets the connection at its moment: the query fails for its connection, and the end resolves.
   */
  async function endAfterReset(
    die: (
      sql: postgres.Sql,
      relay: Awaited<ReturnType<typeof startRelay>>,
    ) => Promise<{ query: Promise<Outcome<unknown>>; ended: Promise<Outcome<void>> }>,
  ) {
    const relay = await startRelay(new URL(db.url));
    const sql = postgres(relay.url, { max: 1, onnotice: () => undefined });
    try {
      const { query, ended } = await die(sql, relay);
      expect(await query).toMatchObject({
        error: { code: expect.stringMatching(CONNECTION_FAILURE) },
      });
      await expect(
        withDeadline(ended, SETTLES_WITHIN_MS, () => new Error('the end is still pending')),
      ).resolves.toEqual({ value: undefined });
    } finally {
      // The end asked for is the pool's one end (postgres.js keeps the first): nothing more to end.
      await relay.close();
    }
  }

  it('ends a pool whose connection dies under a query while the end waits for it', () =>
    endAfterReset(async (sql, relay) => {
      await sql`select 1`;
      const sleepSent = relay.sends('pg_sleep');
      const query = outcome(sql`select pg_sleep(60)`.execute());
      await sleepSent;
      // As a process that stops: the end waits for the query in flight.
      const ended = outcome(sql.end());
      relay.reset();
      return { query, ended };
    }));

  it('ends a pool whose connection dies while it starts up', () =>
    endAfterReset(async (sql, relay) => {
      // The server's restart: the connection is reset before its startup is answered.
      const startupSent = relay.sends('user');
      const query = outcome(sql`select 1`.execute());
      const ended = outcome(sql.end());
      await startupSent;
      relay.reset();
      return { query, ended };
    }));

  it("reserves a transaction's connection for the BEGIN that fills its pipeline", async () => {
    // A pipeline of two, to reach its end with three queries (the default is 100): an option
    // postgres.js reads and its types do not declare.
    const options = {
      max: 1,
      max_pipeline: 2,
      onnotice: () => undefined,
      connection: { application_name: 'pipeline-end' },
    };
    const sql = postgres(db.url, options);
    try {
      await sql`select 1`;
      // Sent together: the sleep runs, the next waits behind it, the BEGIN fills the pipeline.
      const sleeping = sql`select pg_sleep(0.1)`.execute();
      const queued = sql`select 2`.execute();
      const transaction = outcome(sql.begin((tx) => tx`select 1 as one`));
      await Promise.all([sleeping, queued]);
      expect(
        await withDeadline(transaction, SETTLES_WITHIN_MS, () => new Error('pending')),
      ).toEqual({ value: [{ one: 1 }] });
      // Its session is not left inside a transaction for the pool's next queries.
      await expect(
        admin`select state from pg_stat_activity where application_name = 'pipeline-end'`,
      ).resolves.toEqual([{ state: 'idle' }]);
    } finally {
      await sql.end();
    }
  });

  /**
   * Runs `script` (an ES module using postgres.js, DATABASE_URL in its environment) in a process
   * of its own: an exception thrown from one of the driver's timers would end the test's.
   */
  async function runScript(script: string) {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, DATABASE_URL: db.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // A query left pending for good keeps the process alive: the deadline ends it, and says so.
    const deadline = setTimeout(() => child.kill(), SETTLES_WITHIN_MS);
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    clearTimeout(deadline);
    return { code, signal, stdout: stdout.trim(), stderr };
  }

  it.each([
    [
      'a transaction whose backend died',
      `const tx = sql.begin(async (tx) => {
         const [{ pid }] = await tx\`select pg_backend_pid() as pid\`;
         await killer\`select pg_terminate_backend(\${pid})\`;
         await tx\`select pg_sleep(60)\`.catch(() => undefined);
         // The callback goes on after its connection closed, as a page's does.
         return tx\`select 1\`;
       });
       const late = await tx.then(() => 'answered', (error) => error.code);`,
    ],
    [
      'a reserved connection whose backend died',
      `const reserved = await sql.reserve();
       const [{ pid }] = await reserved\`select pg_backend_pid() as pid\`;
       await killer\`select pg_terminate_backend(\${pid})\`;
       await reserved\`select pg_sleep(60)\`.catch(() => undefined);
       const late = await reserved\`select 1\`.then(() => 'answered', (error) => error.code);`,
    ],
  ])('throws from no timer and leaves nothing pending when %s is used again', async (_, work) => {
    const result = await runScript(`
      import postgres from 'postgres';
      const sql = postgres(process.env.DATABASE_URL, { max: 2, onnotice: () => undefined });
      const killer = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => undefined });
      ${work}
      const [{ one }] = await sql\`select 1 as one\`;
      console.log(JSON.stringify({ late, one }));
      await Promise.all([sql.end(), killer.end()]);
    `);
    expect(result).toMatchObject({ stderr: '', code: 0, signal: null });
    expect(JSON.parse(result.stdout)).toEqual({ late: 'CONNECTION_CLOSED', one: 1 });
  });
});
