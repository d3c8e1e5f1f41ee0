import type postgres from 'postgres';
import { describe, expect, it, vi } from 'vitest';
import { isConnectionFailure, watchQueries } from './query-watch.js';

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

  it('judges no query that settled, nor one started long after the failure', async () => {
    const { client, queries } = fakeClient();
    const watch = watchQueries(client, { stuckAfterMs: STUCK_AFTER_MS });
    const lost = watch.client.unsafe('select 1').catch(() => undefined);
    const answered = watch.client.unsafe('select 2');
    queries[0]!.reject(
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
    );
    queries[1]!.resolve([]);
    await Promise.all([lost, answered]);
    await settle();
    expect(watch.stuck(Date.now() + 10 * STUCK_AFTER_MS)).toBeUndefined();
    // A query started after the failure's watch closed is not judged.
    vi.useFakeTimers({ now: Date.now() + 2 * STUCK_AFTER_MS, toFake: ['Date'] });
    try {
      void watch.client.unsafe('select 3');
      expect(watch.stuck(Date.now() + 10 * STUCK_AFTER_MS)).toBeUndefined();
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
