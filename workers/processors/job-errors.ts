/**
 * Turns domain errors into what BullMQ understands: a failure no retry can fix ends the job at
 * once (`UnrecoverableError`), anything else is rethrown for BullMQ's attempts and backoff. The
 * message keeps the stable error code, so bull-board and the run log show a readable reason.
 */
import { UnrecoverableError } from 'bullmq';
import { AppError, describeError } from '../../src/lib/errors.js';

export function toJobError(error: unknown): Error {
  if (error instanceof AppError && !error.retryable) {
    const unrecoverable = new UnrecoverableError(describeError(error));
    unrecoverable.cause = error;
    return unrecoverable;
  }
  if (error instanceof AppError) {
    const retryable = new Error(describeError(error), { cause: error });
    retryable.name = error.name;
    return retryable;
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Whether this attempt is the job's last one (no retry will follow a failure). */
export function isLastAttempt(
  job: { attemptsMade: number; opts: { attempts?: number } },
  error: unknown,
): boolean {
  return error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}
