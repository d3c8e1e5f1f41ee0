/**
 * The one shape every processor has: check the payload, run the step under the job's abort
 * signal, queue the children it returns, and come back when they have settled; every error goes
 * through one translation.
 *
 * Children first, then the step state: a crash between the two runs the step again, which asks
 * for the same children with the same ids, and they collapse. (State first would lose them: the
 * job, run again, would find its state and wait for children that were never queued.) A child
 * that already failed for good is not attached again — BullMQ would make the parent wait for it
 * forever.
 */
import { UnrecoverableError, WaitingChildrenError, type Job } from 'bullmq';
import { parseJobKey, type ChildJob } from '../src/queues/catalogue.js';
import { AppError, toSafeError } from '../src/lib/errors.js';
import type { RunReport } from '../src/sync/run-counts.js';
import type { WorkerContext } from './worker-context.js';

/** What a step's first half returns: a result, or children to wait for and the state to keep. */
export type Started<S, R> =
  { readonly result: R } | { readonly children: readonly ChildJob[]; readonly state: S };

/** A failed child, as its parent sees it. */
export interface FailedChildJob {
  readonly queue: string;
  readonly jobId: string;
  readonly odooId?: number;
  readonly reason: string;
}

export interface SettledChildren {
  /** What the children that completed returned: every child reports a RunReport. */
  readonly reports: RunReport[];
  readonly failed: FailedChildJob[];
}

export interface StepJob<S, R> {
  readonly state: S | undefined;
  start(signal: AbortSignal): Promise<Started<S, R>>;
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
    let state = step.state;
    if (state === undefined) {
      const started = await step.start(signal);
      if ('result' in started) return started.result;
      // Without children the job settles in this attempt: its state is kept only for the
      // attempt that comes back after waiting for them.
      if (started.children.length > 0) {
        await queueChildren(ctx, job, started.children);
        await job.updateData({ ...(job.data as object), state: started.state });
        if (await job.moveToWaitingChildren(token!)) throw new WaitingChildrenError();
      }
      state = started.state;
    }
    if (!step.settle) throw new Error(`${job.name} queued children but has no settle step`);
    return await step.settle(state, await settledChildren(job));
  } catch (error) {
    if (error instanceof WaitingChildrenError) throw error;
    const jobError = toJobError(error);
    if (step.onLastFailure && isLastAttempt(job, jobError)) await step.onLastFailure(error);
    throw jobError;
  }
}

async function queueChildren(
  ctx: WorkerContext,
  job: Job,
  children: readonly ChildJob[],
): Promise<void> {
  const failed = new Set(
    Object.keys(await job.getIgnoredChildrenFailures()).map((key) => parseJobKey(key).jobId),
  );
  await ctx.queues.addChildren(
    { id: job.id!, queue: job.queueQualifiedName },
    children.filter((child) => !failed.has(child.jobId)),
  );
}

async function settledChildren(job: Job): Promise<SettledChildren> {
  const [values, failures] = await Promise.all([
    job.getChildrenValues<RunReport>(),
    job.getIgnoredChildrenFailures(),
  ]);
  return {
    reports: Object.values(values),
    failed: Object.entries(failures).map(([key, reason]) => ({ ...parseJobKey(key), reason })),
  };
}

/**
 * What BullMQ is told: a failure no retry can fix ends the job at once (`UnrecoverableError`),
 * anything else is retried with backoff. The message is `CODE: safe message` — readable in
 * bull-board, parseable by the parent, and free of what a server said (that is in the log).
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
