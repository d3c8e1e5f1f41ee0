/**
 * Finds the queries postgres.js lost with their connection.
 *
 * When PostgreSQL goes away under a busy pool (a crash, a restart, a failover), postgres.js 3.4
 * rejects the queries it had sent, but it can leave others pending for good: a query a
 * transaction held back while its connection was busy (porsager/postgres#1186), the first query
 * of a connection that keeps reconnecting (#1193), and a transaction's callback then waits
 * forever. A worker in that state holds its jobs' locks and does nothing, and nothing else would
 * end it (README, "Each worker's own port").
 *
 * So each query of the watched view (drizzle's: they all run through `unsafe`) is followed until
 * it settles. A query that fails for its connection (see {@link isConnectionFailure}) opens a
 * watch: every query then pending, or started within `stuckAfterMs`, has `stuckAfterMs` from the
 * later of its start and the failure to settle. One that has not is stuck, and `stuck()` says so:
 * the worker then exits for its supervisor, as it does when postgres.js throws from a timer, and
 * the API answers not alive. A long query on a healthy server is never judged: without a failure,
 * nothing is watched.
 *
 * The view follows a query by a reaction of `Promise.prototype.then`, which postgres.js's own
 * `then` would not let it do without running the query.
 */
import type postgres from 'postgres';
import { clientView } from './client-view.js';

export interface QueryWatch {
  /** `client`'s view whose queries (transactions' included) are followed. */
  readonly client: postgres.Sql;
  /** Why a query is judged lost, naming how long it has been pending; undefined when none is. */
  stuck(nowMs?: number): string | undefined;
}

/** SQLSTATE classes of a session that ended or never began: 08 (connection), 57P (shutdown). */
const CONNECTION_SQLSTATE = /^(08|57P)/;
/** postgres.js's own codes, and Node's socket errors. */
const CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
]);

/** Whether `error` says the query's connection failed, rather than the query. */
export function isConnectionFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (CONNECTION_CODES.has(code) || CONNECTION_SQLSTATE.test(code));
}

interface Followed {
  readonly query: { readonly executed?: boolean };
  readonly text: string;
  readonly startedMs: number;
}

export function watchQueries(client: postgres.Sql, options: { stuckAfterMs: number }): QueryWatch {
  const { stuckAfterMs } = options;
  const pending = new Set<Followed>();
  let failedAtMs: number | undefined;

  const follow = <Q extends object>(query: Q, text: string): Q => {
    const followed: Followed = { query, text, startedMs: Date.now() };
    pending.add(followed);
    void Promise.prototype.then.call(
      query,
      () => pending.delete(followed),
      (error: unknown) => {
        pending.delete(followed);
        if (isConnectionFailure(error)) failedAtMs = Date.now();
      },
    );
    return query;
  };

  return {
    client: clientView(client, (sql, ...args) => follow(sql.unsafe(...args), args[0])),
    stuck(nowMs = Date.now()) {
      if (failedAtMs === undefined) return undefined;
      for (const followed of pending) {
        // A query built and never awaited never ran: it waits for nothing.
        if (followed.query.executed !== true) continue;
        if (followed.startedMs > failedAtMs + stuckAfterMs) continue;
        const since = Math.max(followed.startedMs, failedAtMs);
        if (nowMs - since > stuckAfterMs)
          return `a database query has been pending for ${Math.round((nowMs - followed.startedMs) / 1_000)} s, ${Math.round((nowMs - failedAtMs) / 1_000)} s after its pool lost a connection (${followed.text.slice(0, 80).replace(/\s+/g, ' ')})`;
      }
      return undefined;
    },
  };
}
