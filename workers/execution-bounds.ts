/**
 * No execution of a job waits for ever (docs/postgres-driver.md, "No execution stuck for ever").
 * An execution ends when its work settles, or at once when it is cancelled: its job lost its lock
 * (BullMQ runs the job again) or it is stuck. The processor then rejects whatever the work still
 * waits on, so that BullMQ releases the job and the worker's slot is free for the next one; the
 * work, told by its signal, stops on its own or is left to settle unheard.
 *
 * Stuck: a query it sent on the copy's database has been pending `afterMs` (one still waiting
 * for a connection is not: connecting has its own timeout, and PostgreSQL away is not a fault of
 * this execution's), and the server process it was sent to is not running it. A page's, a BC's
 * or a webhook event's statements are short, and a lock wait ends with `lock_timeout`; one
 * pending that long while its server process idles or waits for a lock waits on its connection,
 * not on the server (an answer that went to another statement after a reset). One the server is
 * still running is left to run: writing a record of several large values (docs/sync.md, "Large
 * values") takes half a minute on a loaded machine, and ending it would only start it again. A
 * stuck query's connection is ended on the server (the process the query was sent to), which fails
 * every query on it and frees the pool's connection; the job runs again.
 * The pool's query watch (src/db/query-watch.ts) would judge only such a query as started near a
 * failure of the pool, and restart the whole worker for it.
 */
import type { DbHandle } from '../src/db/create-db.js';
import { createWorkQueries } from '../src/db/query-watch.js';
import type { Logger } from '../src/lib/logger.js';
import { cancelledError } from './step-job.js';

export interface StuckExecutions {
  /** How long a query of an execution may stay pending. */
  readonly afterMs: number;
  /** Ends the database sessions on these server processes (DbHandle's `terminate`). */
  terminate(pids: readonly number[]): Promise<void>;
  /** Those of these server processes running a statement now (DbHandle's `running`). */
  running(pids: readonly number[]): Promise<number[]>;
}

/**
 * The bound for a process's database `db`: half REDIS_LIVENESS_TIMEOUT_MS, so that a stuck
 * execution ends before the pool's query watch would judge the same query (after the whole
 * timeout) and restart the worker. None on PGlite, which ends no session.
 */
export function stuckExecutionsOf(
  db: Pick<DbHandle, 'terminate' | 'running'>,
  livenessTimeoutMs: number,
): StuckExecutions | undefined {
  const { terminate, running } = db;
  if (!terminate || !running) return undefined;
  return { afterMs: livenessTimeoutMs / 2, terminate, running };
}

/** How often an execution's queries are looked at, at most: a fraction of the bound. */
const MAX_CHECK_INTERVAL_MS = 5_000;

/**
 * Runs `work` under `signal` (BullMQ's for the execution) and, with `stuck`, the bound on its
 * queries; rejects with `SYNC_JOB_CANCELLED` as soon as either cancels it.
 */
export async function runBounded<T>(
  signal: AbortSignal,
  stuck: StuckExecutions | undefined,
  logger: Logger,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const stopped = new AbortController();
  const cancelled = AbortSignal.any([signal, stopped.signal]);
  const queries = createWorkQueries();
  let judging = false;
  let toldRunning = false;
  const judge = async (pendingMs: number) => {
    const backends = queries.backends();
    const running = await stuck!.running(backends).catch((error: unknown): number[] => {
      logger.warn(
        { err: error, backends },
        "asking the server what a pending query's process does failed",
      );
      return [];
    });
    if (backends.length > 0 && backends.every((pid) => running.includes(pid))) {
      if (!toldRunning)
        logger.info(
          { backends, pendingMs },
          'a database query of this execution has been running for a long time on the server: it goes on',
        );
      toldRunning = true;
      return;
    }
    if (stopped.signal.aborted || queries.pendingForMs() === undefined) return;
    clearInterval(watchdog);
    const why = `a database query of this execution has been pending for ${Math.round(pendingMs / 1_000)} s, its server process not running it: its connection is closed and the job runs again`;
    logger.warn({ backends }, why);
    stopped.abort(why);
    await stuck!
      .terminate(backends)
      .catch((error: unknown) =>
        logger.warn({ err: error, backends }, "ending a stuck execution's sessions failed"),
      );
  };
  const watchdog =
    stuck &&
    setInterval(
      () => {
        const pendingMs = queries.pendingForMs();
        if (judging || pendingMs === undefined || pendingMs < stuck.afterMs) return;
        judging = true;
        void judge(pendingMs).finally(() => (judging = false));
      },
      Math.min(stuck.afterMs / 4, MAX_CHECK_INTERVAL_MS),
    );
  watchdog?.unref();
  try {
    return await new Promise<T>((resolve, reject) => {
      const abandon = () => reject(cancelledError(cancelled.reason, undefined));
      if (cancelled.aborted) return abandon();
      cancelled.addEventListener('abort', abandon, { once: true });
      // Awaited inside: a lazy query (drizzle's) starts when awaited, and is the work's then.
      void queries
        .run(async () => await work(cancelled))
        .then(resolve, reject)
        .finally(() => cancelled.removeEventListener('abort', abandon));
    });
  } finally {
    clearInterval(watchdog);
  }
}
