/**
 * PostgreSQL awaited at a process's start. A host restarted, or a stack started all at once,
 * brings the worker and migrate up before PostgreSQL answers: a process that exited at once would
 * be started again by its supervisor after a growing pause (Kubernetes' backoff reaches five
 * minutes), and so come back minutes after PostgreSQL did. So they wait for it a bounded time
 * (DATABASE_BOOT_WAIT_MS), saying at each try what PostgreSQL answered. What waiting cannot mend
 * (a password refused, a database that does not exist) ends the wait at once.
 */
import { setTimeout as pauseFor } from 'node:timers/promises';
import { isConnectionFailure } from './query-watch.js';
import { AppError, describeError } from '../lib/errors.js';
import { durationText } from '../lib/duration-text.js';
import type { Logger } from '../lib/logger.js';

/** The first pause between two tries; each failure doubles it, up to {@link MAX_PAUSE_MS}. */
const FIRST_PAUSE_MS = 500;
const MAX_PAUSE_MS = 5_000;

/**
 * Causes a starting PostgreSQL gives besides a refused or lost connection (isConnectionFailure):
 * a host name its network does not resolve yet, and `too_many_connections` (53300), which the
 * sessions of a process that just died free within seconds.
 */
const NOT_YET_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', '53300']);

export class DatabaseUnreachableError extends AppError {
  constructor(waitMs: number, cause: unknown) {
    super(
      'DATABASE_UNREACHABLE',
      `PostgreSQL did not answer within ${durationText(waitMs)} (DATABASE_BOOT_WAIT_MS): ${describeError(cause)}`,
      { cause, retryable: true },
    );
  }
}

/** Whether `error` is one PostgreSQL may stop giving on its own: not answering yet. */
export function isNotAnsweringYet(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (isConnectionFailure(current) || (typeof code === 'string' && NOT_YET_CODES.has(code)))
      return true;
    current = current.cause;
  }
  return false;
}

export interface WaitForDatabaseOptions {
  /** How long to keep trying; 0: one try. */
  readonly waitMs: number;
  readonly logger: Logger;
  /** The clock, in milliseconds. */
  readonly now?: () => number;
  /** Resolves after `ms`. */
  readonly pause?: (ms: number) => Promise<void>;
}

/**
 * Resolves once `ping` succeeds.
 * @throws DatabaseUnreachableError when PostgreSQL did not answer within `waitMs`
 * @throws what `ping` threw, at once, when waiting cannot mend it
 */
export async function waitForDatabase(
  ping: () => Promise<void>,
  options: WaitForDatabaseOptions,
): Promise<void> {
  const now = options.now ?? Date.now;
  const pause = options.pause ?? ((ms: number) => pauseFor(ms));
  const startedMs = now();
  let pauseMs = FIRST_PAUSE_MS;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await ping();
      if (attempt > 1) {
        const waitedMs = now() - startedMs;
        options.logger.info(
          { attempts: attempt, waitedMs },
          `PostgreSQL answers, after ${durationText(waitedMs)}`,
        );
      }
      return;
    } catch (error) {
      if (!isNotAnsweringYet(error)) throw error;
      const leftMs = options.waitMs - (now() - startedMs);
      if (leftMs <= 0) throw new DatabaseUnreachableError(options.waitMs, error);
      const nextMs = Math.min(pauseMs, leftMs);
      options.logger.warn(
        { attempt, nextAttemptInMs: nextMs, leftMs },
        `PostgreSQL does not answer (${describeError(error)}): trying again in ${(nextMs / 1_000).toFixed(1)} s, for up to ${durationText(leftMs)} more (DATABASE_BOOT_WAIT_MS)`,
      );
      await pause(nextMs);
      pauseMs = Math.min(pauseMs * 2, MAX_PAUSE_MS);
    }
  }
}
