/**
 * QueueEvents on a connection of their own (they block on Redis streams), and the one way a
 * process waits for a job it queued: `waitFor`, which ends when the job ends even if an event is
 * lost.
 *
 * Why events get lost (BullMQ 6.7): QueueEvents races each blocking `XREAD` against a watchdog
 * (`blockingTimeout` + 1 s). When the event loop was held longer than that (a CPU-heavy job in
 * the same process, a busy machine), the watchdog's timer runs before the socket's reply is read
 * (timers come before I/O in a loop iteration), so the reply is thrown away. With BullMQ's default
 * start position `$`, the next read starts from the stream's new end: every event in between,
 * the job's `completed` among them, is gone, and `job.waitUntilFinished` waits forever. So the
 * events here start from the stream's last id as it stands (a discarded reply is read again), and
 * `waitFor` also reads the job's own state every `pollMs`.
 *
 * On PostgreSQL the events are rows read after a `LISTEN` wakes the reader; `waitFor` reads the
 * job's state there too, which costs a query every `pollMs`.
 */
import type { Job, Queue, QueueEvents } from 'bullmq';
import type { QueueStore } from '../stores/queue-store.js';

export interface OwnedQueueEvents {
  readonly events: QueueEvents;
  /**
   * The job's return value once it completed, or its failure as an Error: whichever the events
   * or the job's state (read every `pollMs`, default 2 s) show first.
   */
  waitFor(job: Job, options?: { pollMs?: number }): Promise<unknown>;
  readonly close: () => Promise<void>;
}

export interface QueueEventsOptions {
  /** The blocking read's timeout (BullMQ's `blockingTimeout`, default 10 s). */
  readonly blockingTimeoutMs?: number;
  /**
   * Sees the events' connection errors while their store is away (they read again once it is
   * back, and `waitFor` reads the job's state meanwhile); ignored by default. Without a listener,
   * BullMQ would print each one to stderr.
   */
  readonly onError?: (error: Error) => void;
}

const DEFAULT_POLL_MS = 2_000;

/**
 * Events of `queue`, on a connection of their own. On Redis they start from the events stream's
 * last id as it stands (see above); on PostgreSQL, where its events end.
 */
export async function createQueueEvents(
  backend: QueueStore,
  queue: Queue,
  options: QueueEventsOptions = {},
): Promise<OwnedQueueEvents> {
  const owned = await backend.events(queue, {
    ...(options.blockingTimeoutMs === undefined
      ? {}
      : { blockingTimeout: options.blockingTimeoutMs }),
  });
  owned.events.on('error', options.onError ?? (() => undefined));
  await owned.events.waitUntilReady();
  return {
    events: owned.events,
    waitFor: (job, waitOptions) =>
      waitForJob(queue, job, owned.events, waitOptions?.pollMs ?? DEFAULT_POLL_MS),
    close: () => owned.close(),
  };
}

/**
 * Waits for `job` of `queue` through `events`, and reads the job's state every `pollMs` in case
 * the events lose its end.
 */
export async function waitForJob(
  queue: Queue,
  job: Job,
  events: QueueEvents,
  pollMs: number,
): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const polled = new Promise<unknown>((resolve, reject) => {
    const poll = () => {
      if (stopped) return;
      readJobOutcome(queue, job.id!).then(
        (state) => {
          if (state === undefined) timer = setTimeout(poll, pollMs);
          else if (state.failed) reject(new Error(state.reason));
          else resolve(state.value);
        },
        (error: unknown) => reject(error instanceof Error ? error : new Error(String(error))),
      );
    };
    timer = setTimeout(poll, pollMs);
  });
  // Each wait puts a listener on the queue (BullMQ's `closing`): a process waiting for a job of
  // each of sixteen families is no leak, and Node would warn of one past ten.
  queue.setMaxListeners(queue.getMaxListeners() + 1);
  try {
    return await Promise.race([job.waitUntilFinished(events), polled]);
  } finally {
    stopped = true;
    clearTimeout(timer);
    queue.setMaxListeners(queue.getMaxListeners() - 1);
  }
}

export type JobOutcome =
  | { readonly failed: false; readonly value: unknown }
  | { readonly failed: true; readonly reason: string };

/**
 * The job's outcome as the queues hold it; undefined while it has none. The state is read before
 * the job: a job read first and completed before its state was asked would show `completed` with
 * the return value it did not have yet (null).
 */
export async function readJobOutcome(queue: Queue, jobId: string): Promise<JobOutcome | undefined> {
  const gone = { failed: true, reason: `job ${jobId} no longer exists` } as const;
  const state = await queue.getJobState(jobId);
  if (state === 'unknown') return gone;
  if (state !== 'completed' && state !== 'failed') return undefined;
  const settled = await queue.getJob(jobId);
  if (!settled) return gone;
  return state === 'completed'
    ? { failed: false, value: settled.returnvalue }
    : { failed: true, reason: settled.failedReason };
}
