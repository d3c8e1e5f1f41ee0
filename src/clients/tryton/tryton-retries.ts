/**
 * When the Tryton client tries a call again: transport failures only, with exponential backoff
 * and jitter, and never in a way that could run a write twice (docs/tryton.md §3):
 *
 * - a connection that failed before the request left is replayed, even for a write;
 * - a broken connection or a timeout is replayed only for idempotent calls;
 * - a timed-out call once at most: trytond keeps running the first one, so each replay adds a
 *   query to a server that is already slow;
 * - a failed login met by a call is final for that call: the login had its own retries, and
 *   replaying it would add failed attempts on the server.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../lib/logger.js';
import {
  TrytonAbortedError,
  TrytonError,
  TrytonNetworkError,
  TrytonTimeoutError,
} from './tryton-errors.js';

const MAX_RETRY_DELAY_MS = 5_000;

export interface TrytonRetryPolicy {
  /**
   * Runs `attempt` until it succeeds or may not be tried again; `onAttempts` hears how many
   * attempts were made, whatever the outcome.
   */
  run<T>(
    call: { method: string; idempotent: boolean; signal?: AbortSignal },
    attempt: () => Promise<T>,
    onAttempts?: (attempts: number) => void,
  ): Promise<T>;
}

export function createTrytonRetryPolicy(settings: {
  retries: number;
  /** First retry delay; each next one doubles, with jitter, up to 5 s. */
  baseDelayMs: number;
  logger: Logger;
  /** A closed client stops retrying at once. */
  isClosed: () => boolean;
  onRetry: () => void;
}): TrytonRetryPolicy {
  const backoffDelayMs = (attempt: number): number => {
    const ceiling = Math.min(MAX_RETRY_DELAY_MS, settings.baseDelayMs * 2 ** attempt);
    // Half fixed, half random: spreads the retries of many callers after a shared failure.
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  };

  const retryable = (error: unknown, idempotent: boolean, method: string): boolean => {
    if (
      error instanceof TrytonError &&
      error.method === 'common.db.login' &&
      method !== 'common.db.login'
    )
      return false;
    if (error instanceof TrytonNetworkError) return idempotent || !error.requestSent;
    if (error instanceof TrytonTimeoutError) return idempotent;
    return false;
  };

  const mayRetry = (error: unknown, made: number): boolean =>
    error instanceof TrytonTimeoutError
      ? made < Math.min(1, settings.retries)
      : made < settings.retries;

  async function pause(delayMs: number, signal: AbortSignal | undefined, method: string) {
    try {
      await sleep(delayMs, undefined, signal ? { signal } : undefined);
    } catch (error) {
      throw new TrytonAbortedError('TRYTON_ABORTED', `Tryton call ${method} was aborted`, {
        method,
        cause: error,
      });
    }
  }

  return {
    async run(call, attempt, onAttempts) {
      const { method, idempotent, signal } = call;
      for (let made = 0; ; made++) {
        try {
          const value = await attempt();
          onAttempts?.(made + 1);
          return value;
        } catch (error) {
          if (
            !mayRetry(error, made) ||
            !retryable(error, idempotent, method) ||
            signal?.aborted ||
            settings.isClosed()
          ) {
            onAttempts?.(made + 1);
            throw error;
          }
          const delayMs = backoffDelayMs(made);
          settings.onRetry();
          settings.logger.warn(
            { method, attempt: made + 1, delayMs, code: (error as TrytonError).code },
            'tryton call failed in transport; retrying',
          );
          await pause(delayMs, signal, method);
        }
      }
    },
  };
}
