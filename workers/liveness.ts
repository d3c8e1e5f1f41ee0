/**
 * Whether this worker still does its work. A worker can stay up and silent while it does
 * nothing: a Redis that accepts connections and never answers (a failover half done, a proxy that
 * lost its upstream), or BullMQ's blocking client parked after a reconnect while the process's
 * other connection works — jobs then wait and none is taken, and a probe that pings the ordinary
 * connection says all is well. So three checks, every quarter of `timeoutMs`:
 *
 * - **The queues' store answers**: on Redis, a connection of the check's own sends `BZPOPMIN` on
 *   a key no job uses, with a timeout of a tenth of a second; on PostgreSQL, the queues' pool
 *   answers a `SELECT 1` (a pool whose connections all hang answers nothing). No answer for
 *   `timeoutMs` (refused, or never) is a store the worker cannot work with.
 * - **Waiting jobs are taken**: a queue whose jobs wait while its worker has a free slot, and
 *   that took none for `timeoutMs`, has a wedged job loop. Delayed jobs whose time has come count
 *   as waiting: a job loop moves them to the waiting list as it takes jobs, so a loop parked after
 *   a Redis Cluster node came back left a subscription's delivery (which backs off in the delayed
 *   set) and the feed pump's next turn overdue for good, with nothing waiting. A queue whose jobs
 *   an operator holds back is skipped, its jobs waiting by intent (readyJobs): paused, over its
 *   global rate limit, or with its global concurrency all taken (bull-board's settings, fleet-wide).
 *
 * - **No database query was lost**: postgres.js can leave a query pending for good once its
 *   connection failed (src/db/query-watch.ts); a job waiting on it would hold its lock forever.
 *
 * Any one makes the worker not alive: `/health/live` answers 503 with the reason, and the
 * process exits for its supervisor to start it again (REDIS_LIVENESS_TIMEOUT_MS). The time the
 * process itself stood still (SIGSTOP, a paused VM) counts against neither the store nor a queue.
 */
import type { Queue } from 'bullmq';
import type { StoreProbe } from '../src/stores/queue-store.js';
import type { Logger } from '../src/lib/logger.js';

/** Counts the jobs each queue's worker runs, and when it last took one. */
export interface JobFlow {
  started(queue: string): void;
  ended(queue: string): void;
  inFlight(queue: string): number;
  lastTakenMs(queue: string): number;
}

export function createJobFlow(now: () => number = Date.now): JobFlow {
  const running = new Map<string, number>();
  const taken = new Map<string, number>();
  const startedMs = now();
  return {
    started(queue) {
      running.set(queue, (running.get(queue) ?? 0) + 1);
      taken.set(queue, now());
    },
    ended(queue) {
      running.set(queue, (running.get(queue) ?? 1) - 1);
    },
    inFlight: (queue) => running.get(queue) ?? 0,
    lastTakenMs: (queue) => taken.get(queue) ?? startedMs,
  };
}

export interface WatchedQueue {
  readonly name: string;
  readonly concurrency: number;
  /** Jobs ready to be taken (`readyJobs`). */
  waiting(): Promise<number>;
}

/**
 * Jobs of `queue` ready to be taken: waiting, prioritized, and delayed ones now due. None while an
 * operator holds them back, fleet-wide, with BullMQ's own settings (bull-board's): the queue
 * paused (`Queue.pause`), its global rate limit reached until its window ends
 * (`setGlobalRateLimit`), or as many of its jobs active in the fleet as its global concurrency
 * allows (`setGlobalConcurrency`). No worker takes a job then, and one restarted for them would
 * find them waiting again: a worker exited as wedged, in a loop.
 */
export async function readyJobs(queue: Queue, nowMs = Date.now()): Promise<number> {
  const [paused, rateLimitedMs, globalConcurrency] = await Promise.all([
    queue.isPaused(),
    queue.getRateLimitTtl(),
    queue.getGlobalConcurrency(),
  ]);
  // A TTL below 0 is no limit on (no key, or one without an expiry).
  if (paused || rateLimitedMs > 0) return 0;
  if (globalConcurrency !== null && (await queue.getActiveCount()) >= globalConcurrency) return 0;
  const [ready, due] = await Promise.all([
    queue.getJobCountByTypes('wait', 'prioritized'),
    queue.getDelayedCount(nowMs),
  ]);
  return ready + due;
}

export interface Liveness {
  /** Why the worker is not alive; undefined while it is. */
  readonly reason: string | undefined;
  /** Starts watching: once the workers take jobs. */
  start(): void;
  stop(): Promise<void>;
}

/**
 * The watch's time: the process's own, or a test's, which then decides when each check runs and
 * what the time is (no test of the watch waits for the machine's timers).
 */
export interface LivenessClock {
  readonly now: () => number;
  /** Runs `check` every `intervalMs` until the returned function is called. */
  readonly every: (intervalMs: number, check: () => Promise<void>) => () => void;
}

const PROCESS_CLOCK: LivenessClock = {
  now: () => Date.now(),
  every: (intervalMs, check) => {
    const timer = setInterval(() => void check(), intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  },
};

export function createLiveness(input: {
  probe: StoreProbe;
  queues: readonly WatchedQueue[];
  flow: JobFlow;
  timeoutMs: number;
  /** Why a database query is judged lost (DbHandle's `stuckQuery`); undefined when none is. */
  stuckQuery?: () => string | undefined;
  logger: Logger;
  onDead: (reason: string) => void;
  clock?: LivenessClock;
}): Liveness {
  const { flow, timeoutMs } = input;
  const clock = input.clock ?? PROCESS_CLOCK;
  let reason: string | undefined;
  let lastAnswerMs = clock.now();
  let probing = false;
  /** Per queue, since when its jobs wait while its worker has room. */
  const waitingSince = new Map<string, number>();

  const probe = () => {
    if (probing) return;
    probing = true;
    input.probe
      .ask()
      .then(() => (lastAnswerMs = clock.now()))
      .catch(() => undefined)
      .finally(() => (probing = false));
  };

  const stuckQueue = async (queue: WatchedQueue, now: number): Promise<string | undefined> => {
    if (flow.inFlight(queue.name) >= queue.concurrency) {
      waitingSince.delete(queue.name);
      return undefined;
    }
    const waiting = await queue.waiting();
    if (waiting === 0) {
      waitingSince.delete(queue.name);
      return undefined;
    }
    const since = Math.max(waitingSince.get(queue.name) ?? now, flow.lastTakenMs(queue.name));
    waitingSince.set(queue.name, since);
    return now - since > timeoutMs
      ? `queue ${queue.name}: ${waiting} job(s) waited ${Math.round((now - since) / 1_000)} s while its worker had ${queue.concurrency - flow.inFlight(queue.name)} free slot(s) and took none`
      : undefined;
  };

  const stuckQueues = async (now: number) => {
    for (const queue of input.queues) {
      const stuck = await stuckQueue(queue, now);
      if (stuck) return stuck;
    }
    return undefined;
  };

  const dead = (found: string) => {
    if (reason !== undefined) return;
    reason = found;
    input.logger.error(
      { reason, timeoutMs },
      `the worker is wedged: ${reason}; it exits for its supervisor to start it again`,
    );
    input.onDead(reason);
  };

  const intervalMs = Math.max(250, Math.floor(timeoutMs / 4));
  let lastCheckMs: number | undefined;
  /**
   * A process that did not run (stopped by SIGSTOP or a debugger, its VM or container paused)
   * saw no store fail meanwhile and gave its probe no chance: the time it stood still, past one
   * interval, counts neither as the store's silence nor as jobs' waiting.
   */
  const discountStandstill = (now: number) => {
    const late = lastCheckMs === undefined ? 0 : now - lastCheckMs - intervalMs;
    lastCheckMs = now;
    if (late <= intervalMs) return;
    lastAnswerMs += late;
    for (const [queue, since] of waitingSince) waitingSince.set(queue, since + late);
    input.logger.warn(
      { stoodStillMs: late },
      `this process did not run for ${Math.round(late / 1_000)} s (stopped or paused): that time is not counted against Redis or the queues`,
    );
  };

  // A count of a queue waits for Redis as long as Redis is away: the probe's age is judged apart.
  let counting: Promise<void> | undefined;
  const check = (): Promise<void> => {
    const now = clock.now();
    discountStandstill(now);
    probe();
    if (now - lastAnswerMs > timeoutMs) {
      dead(`${input.probe.silence} for ${Math.round((now - lastAnswerMs) / 1_000)} s`);
      return Promise.resolve();
    }
    const lost = input.stuckQuery?.();
    if (lost !== undefined) {
      dead(lost);
      return Promise.resolve();
    }
    counting ??= stuckQueues(now)
      .then((found) => {
        if (found !== undefined) dead(found);
      })
      .catch(() => undefined)
      .finally(() => (counting = undefined));
    return counting;
  };
  let stopChecks: (() => void) | undefined;
  const start = () => {
    lastAnswerMs = clock.now();
    lastCheckMs = lastAnswerMs;
    stopChecks ??= clock.every(intervalMs, check);
    probe();
  };
  return {
    get reason() {
      return reason;
    },
    start,
    stop() {
      stopChecks?.();
      input.probe.close();
      return Promise.resolve();
    },
  };
}
