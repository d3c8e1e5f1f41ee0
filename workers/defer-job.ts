/**
 * Jobs that must run once asked for — a full resync, a reconcile — are put off, not dropped, when
 * the lease is busy or Odoo is away: the same job goes back to BullMQ's delayed set and runs again
 * later, backing off (from five job backoffs up to five minutes), however long it takes. (A
 * scheduled incremental run is not: the next one, minutes later, is its retry.)
 */
import { DelayedError, type Job } from 'bullmq';
import { AppError, describeError } from '../src/lib/errors.js';
import { LeaseLostError } from '../src/sync/sync-errors.js';
import type { WorkerContext } from './worker-context.js';

const MAX_DELAY_MS = 5 * 60_000;

/**
 * Whether a failure is one to wait out: a transient error (Odoo or PostgreSQL away), or a lease
 * another run took. Not refused credentials, a safety stop or bad data: those need a person.
 */
function isWorthWaitingOut(error: unknown): boolean {
  if (error instanceof LeaseLostError) return true;
  return !(error instanceof AppError) || error.retryable;
}

/**
 * For a step's `catch`: puts the job off when `wanted` and the failure is one to wait out (see
 * `isWorthWaitingOut`), else rethrows it. An execution that was cancelled is not put off.
 */
export function deferOnTransientFailure(
  job: Job<{ deferrals: number }>,
  token: string | undefined,
  ctx: WorkerContext,
  options: { wanted: boolean; signal: AbortSignal },
): (error: unknown) => Promise<never> {
  return async (error) => {
    if (options.wanted && !options.signal.aborted && isWorthWaitingOut(error))
      return deferJob(job, token, ctx, describeError(error));
    throw error;
  };
}

/** Puts the job off (it runs again later) and ends this attempt. */
export async function deferJob(
  job: Job<{ deferrals: number }>,
  token: string | undefined,
  ctx: WorkerContext,
  why: string,
): Promise<never> {
  const { deferrals } = job.data;
  const delayMs = Math.min(MAX_DELAY_MS, ctx.queues.settings.backoffMs * 5 * 2 ** deferrals);
  await job.updateData({ ...job.data, deferrals: deferrals + 1 });
  await job.moveToDelayed(Date.now() + delayMs, token);
  ctx.logger.info(
    { job: job.name, jobId: job.id, deferrals: deferrals + 1, delayMs },
    `${job.name} put off for ${Math.round(delayMs / 1_000)} s: ${why}`,
  );
  throw new DelayedError();
}
