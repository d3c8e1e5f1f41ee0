import type postgres from 'postgres';
import { describe, expect, it, vi } from 'vitest';
import { isConnectionFailure, QUIET_MS, watchQueries } from './query-watch.js';

const STUCK_AFTER_MS = 60_000;

/** A client whose queries settle when the test says; a transaction hands the same client. */
function fakeClient() {
  const queries: {
    text: string;
    resolve: (value: unknown) => void;
    reject: (error: unknown) => void;
  }[] = [];
  const client = {
    unsafe(text: string) {
      const promise = new Promise<unknown>((resolve, reject) =>
        queries.push({ text, resolve, reject }),
      );
      // postgres.js's Query runs when awaited: these have.
      return Object.assign(promise, { executed: true });
    },
    begin: (work: (sql: unknown) => unknown) => work(client),
  };
  return { client: client as unknown as postgres.Sql, queries };
}

const connectionLost = Object.assign(new Error('write CONNECTION_CLOSED 127.0.0.1:5432'), {
  code: 'CONNECTION_CLOSED',
});
/** Lets the watch see what settled. */
const settle = () => new Promise((resolve) => setImmediate(resolve));
/** Answers the watch's own `select 1` after a failure, if it sent one. */
const answerProbes = (queries: ReturnType<typeof fakeClient>['queries']) => {
  for (const query of queries) if (query.text === 'select 1') query.resolve([]);
};

describe('the query watch', () => {
  it('judges no query, however long it runs, while no connection failed', async () => {
    const { client, queries } = fakeClient();
    const watch = watchQueries(client, { stuckAfterMs: STUCK_AFTER_MS });
    void watch.client.unsafe('select pg_sleep(3600)');
    const failedAlone = watch.client.unsafe('select 1/0').catch(() => undefined);
    queries[1]!.reject(Object.assign(new Error('division by zero'), { code: '22012' }));
    await failedAlone;
    expect(watch.stuck(Date.now() + 3_600_000)).toBeUndefined();
  });

  it('judges a query still pending its time after its pool lost a connection, and names it', async () => {
    const { client, queries } = fakeClient();
    const watch = watchQueries(client, { stuckAfterMs: STUCK_AFTER_MS });
    const lost = watch.client.unsafe('select 1').catch(() => undefined);
    void watch.client.begin((tx) => tx.unsafe('insert into   scrap_dimagaz_bc values ($1)'));
    queries[0]!.reject(connectionLost);
    await lost;
    expect(watch.stuck(Date.now() + STUCK_AFTER_MS - 1_000)).toBeUndefined();
    expect(watch.stuck(Date.now() + STUCK_AFTER_MS + 1_000)).toMatch(
      /^a database query has been pending for \d+ s, 6\d s after its pool lost a connection \(insert into scrap_dimagaz_bc values \(\$1\)\)$/,
    );
  });

  it('judges no query that settled, nor one started once the pool had answered again and stayed quiet', async () => {
    vi.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
    try {
      const { client, queries } = fakeClient();
      const watch = watchQueries(client, { stuckAfterMs: STUCK_AFTER_MS });
      const lost = watch.client.unsafe('select count(*) from sync_log').catch(() => undefined);
      const answered = watch.client.unsafe('select 2');
      queries[0]!.reject(
        Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
      );
      queries[1]!.resolve([]);
      await Promise.all([lost, answered]);
      vi.advanceTimersByTime(1_000);
      // The lease's heartbeat, a second later: the pool answers again.
      const heartbeat = watch.client.unsafe('update sync_state set lease_expires_at = $1');
      vi.advanceTimersByTime(20);
      queries.find((query) => query.text.startsWith('update sync_state'))!.resolve([]);
      await heartbeat;
      answerProbes(queries);
      await settle();
      vi.advanceTimersByTime(QUIET_MS + 1_000);
      // A reconcile's long statement, within a minute of the failure, on a healthy server.
      void watch.client.unsafe('select odoo_id from scrap_dimagaz_bc order by odoo_id');
      expect(watch.stuck(Date.now() + 10 * STUCK_AFTER_MS)).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  /** A watch on the test's clock whose pool has just lost a connection under a query. */
  const afterFailure = async () => {
    vi.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
    const { client, queries } = fakeClient();
    const watch = watchQueries(client, { stuckAfterMs: STUCK_AFTER_MS });
    const lost = watch.client.unsafe('select 1 from sync_state').catch(() => undefined);
    queries[0]!.reject(connectionLost);
    await lost;
    await settle();
    return { watch, queries };
  };

  it('heals a quiet pool with a select 1 of its own: a long query after the quiet window is not judged', async () => {
    try {
      const { watch, queries } = await afterFailure();
      expect(queries.map((query) => query.text)).toEqual(['select 1 from sync_state', 'select 1']);
      vi.advanceTimersByTime(20);
      answerProbes(queries);
      await settle();
      vi.advanceTimersByTime(QUIET_MS + 1_000);
      void watch.client.unsafe('select pg_sleep(3600)');
      expect(watch.stuck(Date.now() + 10 * STUCK_AFTER_MS)).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it('judges a query started just after the pool answered again, as a reset connection leaves one', async () => {
    try {
      const { watch, queries } = await afterFailure();
      vi.advanceTimersByTime(50);
      // The next session's first statements are answered: the pool looks healthy.
      answerProbes(queries);
      const begun = watch.client.unsafe('begin');
      queries.at(-1)!.resolve([]);
      await begun;
      await settle();
      vi.advanceTimersByTime(50);
      // Its next one waits for an answer that went to another statement.
      void watch.client.unsafe('select odoo_id from scrap_dimagaz_bc where odoo_id = any($1)');
      expect(watch.stuck(Date.now() + STUCK_AFTER_MS - 1_000)).toBeUndefined();
      expect(watch.stuck(Date.now() + STUCK_AFTER_MS + 1_000)).toMatch(
        /^a database query has been pending for 61 s, 61 s after its pool lost a connection \(select odoo_id from scrap_dimagaz_bc where odoo_id = any\(\$1\)\)$/,
      );
    } finally {
      vi.useRealTimers();
    }
  });

  it('watches a pool that loses a connection again for another quiet window', async () => {
    try {
      const { watch, queries } = await afterFailure();
      answerProbes(queries);
      await settle();
      vi.advanceTimersByTime(QUIET_MS - 1_000);
      const lostAgain = watch.client.unsafe('select 1 from sync_log').catch(() => undefined);
      queries.at(-1)!.reject(connectionLost);
      await lostAgain;
      await settle();
      answerProbes(queries);
      await settle();
      vi.advanceTimersByTime(QUIET_MS - 1_000);
      void watch.client.unsafe('select pg_sleep(3600)');
      expect(watch.stuck(Date.now() + STUCK_AFTER_MS + 1_000)).toMatch(
        /^a database query has been pending for 61 s, 70 s after its pool lost a connection \(select pg_sleep\(3600\)\)$/,
      );
    } finally {
      vi.useRealTimers();
    }
  });

  it('judges a query started after the failure while the pool answered nothing', async () => {
    try {
      const { watch, queries } = await afterFailure();
      // PostgreSQL is still away: the watch's own select 1 fails too, and sends no other.
      for (const probe of queries.filter((query) => query.text === 'select 1'))
        probe.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
      await settle();
      expect(queries).toHaveLength(2);
      vi.advanceTimersByTime(30_000);
      // The first query of a connection that keeps reconnecting (porsager/postgres#1193).
      void watch.client.unsafe('insert into sync_log default values');
      expect(watch.stuck(Date.now() + STUCK_AFTER_MS - 1_000)).toBeUndefined();
      expect(watch.stuck(Date.now() + STUCK_AFTER_MS + 1_000)).toMatch(
        /^a database query has been pending for 61 s, 91 s after its pool lost a connection \(insert into sync_log default values\)$/,
      );
    } finally {
      vi.useRealTimers();
    }
  });

  it('tells a lost connection from a failed statement', () => {
    for (const code of [
      'CONNECTION_CLOSED',
      'CONNECTION_DESTROYED',
      'CONNECT_TIMEOUT',
      'ECONNREFUSED',
      'ECONNRESET',
      '57P01',
      '57P03',
      '08006',
    ])
      expect(isConnectionFailure(Object.assign(new Error(code), { code }))).toBe(true);
    for (const error of [
      Object.assign(new Error('syntax'), { code: '42601' }),
      Object.assign(new Error('lock'), { code: '55P03' }),
      new Error('no code'),
      'text',
      undefined,
    ])
      expect(isConnectionFailure(error)).toBe(false);
  });
});
