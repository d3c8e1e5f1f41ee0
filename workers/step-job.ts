/**
 * The one shape every processor has: check the payload, run the step under the job's abort
 * signal, queue the children it returns, and come back when they have settled; every error goes
 * through one translation.
 *
 * Children first, then the step state: a crash between the two runs the step again, which asks
 * for the same children with the same ids, and they collapse. (State first would lose them: the
 * job, run again, would find its state and wait for children that were never queued.) A child
 * that already failed for good is not attached again — BullMQ would make the parent wait for it
 * forever. A step may queue its children in waves (a run's pages, read from the stage in
 * PostgreSQL): once a wave has settled, `more` gives the next one and its state, and the step
 * waits again; the children of every wave are settled together at the end. So a run with ten
 * thousand pages never has more than a wave of them in Redis, and never holds them all.
 *
 * Failures cross the job boundary as data: a child's failed attempt stores `{ code, message,
 * retryable }` in its job's data before BullMQ records it, and the parent reads its failed
 * children's data, not their failure text.
 */
import { DelayedError, UnrecoverableError, WaitingChildrenError, type Job } from 'bullmq';
import { splitJobKey, type ChildJob, type JobFailure } from '../src/queues/catalogue.js';
import { AppError, toSafeError } from '../src/lib/errors.js';
import type { WorkerContext } from './worker-context.js';

/** Children to wait for, and the state to keep meanwhile. */
export interface Wave<S> {
  readonly children: readonly ChildJob[];
  readonly state: S;
}

/** What a step's first half returns: a result, or its first wave of children. */
export type Started<S, R> = { readonly result: R } | Wave<S>;

/** A child that completed: what it returned. */
export interface CompletedChild {
  readonly jobId: string;
  readonly value: unknown;
}

/** A child that failed for good: its payload and its failure. */
export interface FailedChild {
  readonly name: string;
  readonly jobId: string;
  readonly data: unknown;
  readonly failure: JobFailure;
}

export interface SettledChildren {
  readonly completed: CompletedChild[];
  readonly failed: FailedChild[];
}

export interface StepJob<S, R> {
  readonly state: S | undefined;
  /** The state as job data keeps it (JSON), when it is not the state itself. */
  readonly encode?: (state: S) => unknown;
  start(signal: AbortSignal): Promise<Started<S, R>>;
  /** The next wave of children once the last one has settled; undefined when there is none. */
  more?(state: S, signal: AbortSignal): Promise<Wave<S> | undefined>;
  /** Steps that never return children have none. */
  settle?(state: S, children: SettledChildren): Promise<R>;
  /** Runs when the job fails and no attempt will follow. */
  onLastFailure?(error: unknown): Promise<void>;
}

export async function runStepJob<S, R>(
  job: Job,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
  step: StepJob<S, R>,
): Promise<R> {
  try {
    let state: S;
    let wave: Wave<S> | undefined;
    if (step.state === undefined) {
      const started = await step.start(signal);
      if ('result' in started) return started.result;
      ({ state } = started);
      wave = started;
    } else {
      state = step.state;
      // The state is kept once its wave's children are queued, and an execution may end between
      // the two moves (a crash, a lock lost while the store was away): the job then runs again
      // with children still pending. Settled, BullMQ would refuse to complete it ("pending
      // dependencies"), one attempt lost each time; it waits for them as it would have.
      if (await job.moveToWaitingChildren(token!)) throw new WaitingChildrenError();
      wave = await step.more?.(state, signal);
    }
    while (wave) {
      state = wave.state;
      // A wave without children settles in this attempt: its state is kept only for the attempt
      // that comes back after waiting for them.
      if ((await queueChildren(ctx, job, wave.children)) > 0) {
        await job.updateData({
          ...(job.data as object),
          state: step.encode ? step.encode(state) : state,
        });
        if (await job.moveToWaitingChildren(token!)) throw new WaitingChildrenError();
      }
      wave = await step.more?.(state, signal);
    }
    if (!step.settle) throw new Error(`${job.name} queued children but has no settle step`);
    // BullMQ's PostgreSQL backend counts a parent's pending children apart from the records it
    // completes the parent by, and after a crash the two can disagree: moveToWaitingChildren
    // finds none pending while completing is refused for one. The job looks again later, no
    // attempt lost, once its children have settled.
    if (await hasPendingChildren(job)) {
      await job.moveToDelayed(Date.now() + PENDING_CHILDREN_RECHECK_MS, token);
      throw new DelayedError();
    }
    return await step.settle(state, await settledChildren(ctx, job));
  } catch (error) {
    if (error instanceof WaitingChildrenError || error instanceof DelayedError) throw error;
    // Cancelled: the job lost its lock and runs again elsewhere (create-workers.ts). What this
    // execution met on its way out is not the job's failure, and the job's data is the next
    // execution's: a retry at most, should BullMQ still take this execution's word.
    if (signal.aborted) throw cancelledError(signal.reason, error);
    const jobError = toJobError(error);
    // For the parent, which reads it once this job failed for good (top-level jobs have none).
    if (job.parentKey)
      await job.updateData({ ...(job.data as object), failure: toJobFailure(error) });
    if (step.onLastFailure && isLastAttempt(job, jobError)) await step.onLastFailure(error);
    throw jobError;
  }
}

/** How long a step whose children BullMQ still holds pending waits before it looks again. */
const PENDING_CHILDREN_RECHECK_MS = 2_000;

async function hasPendingChildren(job: Job): Promise<boolean> {
  const { unprocessed = 0 } = await job.getDependenciesCount({ unprocessed: true });
  return unprocessed > 0;
}

/** Queues the children; returns how many there were. */
async function queueChildren(
  ctx: WorkerContext,
  job: Job,
  children: readonly ChildJob[],
): Promise<number> {
  if (children.length === 0) return 0;
  const failed = new Set(
    Object.keys(await job.getIgnoredChildrenFailures()).map((key) => splitJobKey(key).jobId),
  );
  await ctx.queues.addChildren(
    { id: job.id!, queue: job.queueQualifiedName },
    children.filter((child) => !failed.has(child.jobId)),
  );
  return children.length;
}

async function settledChildren(ctx: WorkerContext, job: Job): Promise<SettledChildren> {
  const [values, failures] = await Promise.all([
    job.getChildrenValues<unknown>(),
    job.getIgnoredChildrenFailures(),
  ]);
  const failed = await Promise.all(
    Object.entries(failures).map(async ([key, reason]): Promise<FailedChild> => {
      const { queue, jobId } = splitJobKey(key);
      const child = await ctx.queues.named(queue)?.getJob(jobId);
      const data = child?.data as { failure?: JobFailure } | undefined;
      return {
        name: child?.name ?? 'unknown',
        jobId,
        data,
        // A child that died before it could record its failure (stalled too often, say).
        failure: data?.failure ?? { code: 'SYNC_JOB_FAILED', message: reason, retryable: true },
      };
    }),
  );
  return {
    completed: Object.entries(values).map(([key, value]) => ({
      jobId: splitJobKey(key).jobId,
      value,
    })),
    failed,
  };
}

/** The end of an execution cancelled under its job: retryable whatever stopped it. */
export function cancelledError(reason: unknown, error: unknown): Error {
  const why = typeof reason === 'string' ? reason : 'this execution was cancelled';
  return new Error(`SYNC_JOB_CANCELLED: ${why}`, { cause: error });
}

/** A failure as it crosses the job boundary: a code, a safe message, whether to retry. */
export function toJobFailure(error: unknown): JobFailure {
  const safe = toSafeError(error);
  return { ...safe, retryable: !(error instanceof AppError) || error.retryable };
}

/**
 * What BullMQ is told: a failure no retry can fix ends the job at once (`UnrecoverableError`),
 * anything else is retried with backoff. The message is `CODE: safe message`, readable in
 * bull-board and free of what a server said (that is in the log).
 */
export function toJobError(error: unknown): Error {
  const safe = toSafeError(error);
  const message = `${safe.code}: ${safe.message}`;
  if (error instanceof AppError && !error.retryable) {
    const unrecoverable = new UnrecoverableError(message);
    unrecoverable.cause = error;
    return unrecoverable;
  }
  const retryable = new Error(message, { cause: error });
  retryable.name = error instanceof Error ? error.name : 'Error';
  return retryable;
}

/** Whether this attempt is the job's last one (no retry will follow a failure). */
export function isLastAttempt(
  job: { attemptsMade: number; opts: { attempts?: number } },
  error: unknown,
): boolean {
  return error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}
