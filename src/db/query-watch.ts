/**
 * Finds the queries the PostgreSQL driver lost with their connection.
 *
 * When PostgreSQL goes away under a busy pool (a crash, a restart, a failover), postgres.js 3.4
 * as published can leave queries pending for good, and a transaction's callback then waits
 * forever; the product runs it patched (docs/postgres-driver.md), and this watch is what ends a
 * fault the patch does not mend, or one not known yet. A worker in that state holds its jobs'
 * locks and does nothing, and nothing else would end it (README, "Each worker's own port").
 *
 * So each query of the watched view (drizzle's: they all run through `unsafe`) is followed until
 * it settles. A query that fails for its connection (see {@link isConnectionFailure}) opens a
 * watch, and the watch judges:
 *
 * - a query pending when the pool lost the connection: it has `stuckAfterMs` from the failure;
 * - a query started after the failure, until the pool has answered again and then stayed quiet
 *   (no connection lost) for `quietMs`: it has `stuckAfterMs` from its start. The pool answers
 *   again once a query started after the failure settles (answered, or refused by the server for
 *   itself), which the watch asks for at once with a `select 1` of its own, so that a quiet pool
 *   heals as soon as a busy one does. The window goes on past that answer because the faults
 *   come with the reconnection: a connection reset under a query left a statement that took the
 *   answers of the next session's, whose first statements were answered (the pool looked
 *   healthy) and whose next one waited for ever, 50 ms later.
 *
 * A query started after that window is never judged: a long query on a healthy server is not a
 * lost one (a connection killed by an administrator, a proxy's idle timeout, a minute earlier).
 * One that is stuck: `stuck()` says so, the worker then exits for its supervisor, as it does when
 * the driver throws from a timer, and the API answers not alive. Without a failure, nothing is
 * watched.
 *
 * The view follows a query by a reaction of `Promise.prototype.then`, which postgres.js's own
 * `then` would not let it do without running the query.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
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
  /** postgres.js's query: `state` is its connection's server process, once it was sent. */
  readonly query: { readonly executed?: boolean; readonly state?: { pid?: number | null } | null };
  readonly text: string;
  readonly startedMs: number;
  /** The pending queries of the work that started it, if any ({@link createWorkQueries}). */
  readonly work: Set<Followed> | undefined;
}

/** The queries of the work running, through every await of it. */
const currentWork = new AsyncLocalStorage<Set<Followed>>();

/**
 * The queries a piece of work starts on watched views (a job's execution: its own, its
 * transactions', its heartbeat's), for it to be ended when one of them stays pending: the pool's
 * watch judges a query only around a failure of the pool, and a query that never settles on a
 * healthy pool is a fault of its connection alone.
 */
export interface WorkQueries {
  /** Runs `work`; the queries it starts, however deep and however late, are followed as its own. */
  run<T>(work: () => T): T;
  /**
   * How long the oldest of its queries sent to a connection and still pending has been, in ms;
   * undefined while none is. One waiting for a connection (PostgreSQL away, the pool busy) is
   * not counted: connecting has a timeout of its own.
   */
  pendingForMs(nowMs?: number): number | undefined;
  /** The server processes its pending queries were sent to. */
  backends(): number[];
}

export function createWorkQueries(): WorkQueries {
  const pending = new Set<Followed>();
  const sent = () =>
    [...pending].flatMap((followed) => {
      const pid = followed.query.executed === true ? followed.query.state?.pid : undefined;
      return pid ? [{ pid, startedMs: followed.startedMs }] : [];
    });
  return {
    run: (work) => currentWork.run(pending, work),
    pendingForMs(nowMs = Date.now()) {
      const started = sent().map(({ startedMs }) => startedMs);
      return started.length === 0 ? undefined : nowMs - Math.min(...started);
    },
    backends: () => [...new Set(sent().map(({ pid }) => pid))],
  };
}

/** The watch's own query after a failure: whether the pool answers again. */
const PROBE = 'select 1';

/** How long a pool that answers again stays under watch, unless it loses a connection again. */
export const QUIET_MS = 10_000;

export function watchQueries(
  client: postgres.Sql,
  options: { stuckAfterMs: number; quietMs?: number },
): QueryWatch {
  const { stuckAfterMs, quietMs = QUIET_MS } = options;
  const pending = new Set<Followed>();
  /** When the pool last lost a connection. */
  let failedAtMs: number | undefined;
  /** When a query started after that failure settled: the pool works again. */
  let healedAtMs: number | undefined;
  let probing = false;

  const follow = <Q extends object>(query: Q, text: string): Q => {
    const work = currentWork.getStore();
    const followed: Followed = { query, text, startedMs: Date.now(), work };
    pending.add(followed);
    work?.add(followed);
    void Promise.prototype.then.call(
      query,
      () => settled(followed, undefined),
      (error: unknown) => settled(followed, error),
    );
    return query;
  };

  const settled = (followed: Followed, error: unknown) => {
    pending.delete(followed);
    followed.work?.delete(followed);
    const now = Date.now();
    if (isConnectionFailure(error)) {
      failedAtMs = now;
      healedAtMs = undefined;
      probe();
    } else if (
      failedAtMs !== undefined &&
      healedAtMs === undefined &&
      followed.startedMs >= failedAtMs
    )
      healedAtMs = now;
  };

  const view = clientView(client, (sql, ...args) => follow(sql.unsafe(...args), args[0]));

  /** One `select 1` at a time; one that fails for its connection waits for the next failure. */
  const probe = () => {
    if (probing) return;
    probing = true;
    // Its own `then` runs a postgres.js query; it settles through `follow` like any other, as
    // the pool's, not the work's whose failed query asked for it.
    currentWork
      .exit(() => view.unsafe(PROBE))
      .then(
        () => (probing = false),
        () => (probing = false),
      );
  };

  return {
    client: view,
    stuck(nowMs = Date.now()) {
      if (failedAtMs === undefined) return undefined;
      for (const followed of pending) {
        // A query built and never awaited never ran: it waits for nothing.
        if (followed.query.executed !== true) continue;
        // Started once the pool had worked again for a while: healthy, however long it runs.
        if (healedAtMs !== undefined && followed.startedMs > healedAtMs + quietMs) continue;
        const since = Math.max(followed.startedMs, failedAtMs);
        if (nowMs - since > stuckAfterMs)
          return `a database query has been pending for ${Math.round((nowMs - followed.startedMs) / 1_000)} s, ${Math.round((nowMs - failedAtMs) / 1_000)} s after its pool lost a connection (${followed.text.slice(0, 80).replace(/\s+/g, ' ')})`;
      }
      return undefined;
    },
  };
}
