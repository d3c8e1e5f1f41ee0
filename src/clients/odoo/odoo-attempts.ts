/**
 * How the Odoo client runs one call: each attempt under its timeout and the caller's abort
 * signal, reported to the observer; retryable failures (transport errors, timeouts, 429/502/503,
 * serialization conflicts) tried again with full-jitter exponential backoff.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../lib/logger.js';
import { OdooError, type OdooCallLabel, type OdooErrorCode } from './odoo-errors.js';
import type { OdooRequestOptions } from './odoo-types.js';

/** Sees every attempt of every call, for metrics; it must not throw. */
export interface OdooCallObserver {
  /** One attempt ended after `durationMs`: 'ok', or the code of the error it failed with. */
  attempt(call: OdooCallLabel, durationMs: number, outcome: 'ok' | OdooErrorCode): void;
  /** A failed attempt is about to be retried. */
  retry(call: OdooCallLabel, code: OdooErrorCode): void;
}

export function abortedError(label: string, reason: unknown): OdooError {
  return new OdooError('ODOO_ABORTED', `${label} was aborted`, { cause: reason });
}

export interface OdooAttempts {
  /** Attempts until success, a final error, or `retries` retries of retryable ones. */
  run<T>(
    label: OdooCallLabel,
    call: (request: OdooRequestOptions) => Promise<T>,
    signal?: AbortSignal,
    /** This call's retries, when not the client's. */
    retriesOfCall?: number,
  ): Promise<T>;
}

export function createOdooAttempts(settings: {
  timeoutMs: number;
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  logger: Logger;
  observer?: OdooCallObserver;
  /** Sees the `Date` header of each answer. */
  onServerDate?: (date: Date) => void;
}): OdooAttempts {
  const { timeoutMs, retries, observer, onServerDate } = settings;

  async function attemptOnce<T>(
    label: OdooCallLabel,
    call: (request: OdooRequestOptions) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    if (signal?.aborted) throw abortedError(label, signal.reason);
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(
        new OdooError('ODOO_TIMEOUT', `${label} timed out after ${timeoutMs} ms`, {
          retryable: true,
        }),
      );
    }, timeoutMs);
    const onAbort = (): void => controller.abort(abortedError(label, signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    const startedMs = performance.now();
    try {
      const result = await call({ signal: controller.signal, timeoutMs, onServerDate });
      observer?.attempt(label, performance.now() - startedMs, 'ok');
      return result;
    } catch (error) {
      const code = error instanceof OdooError ? error.code : 'ODOO_PROTOCOL';
      observer?.attempt(label, performance.now() - startedMs, code);
      throw error;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  return {
    async run(label, call, signal, retriesOfCall = retries) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await attemptOnce(label, call, signal);
        } catch (caught) {
          const error =
            caught instanceof OdooError
              ? caught
              : new OdooError('ODOO_PROTOCOL', `${label}: ${String(caught)}`, { cause: caught });
          if (!error.retryable || attempt >= retriesOfCall) throw error;
          observer?.retry(label, error.code);
          // Full jitter: a random wait up to the exponential bound spreads out a fleet's retries.
          const delayMs = Math.round(
            Math.random() * Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** attempt),
          );
          settings.logger.warn(
            {
              call: label,
              attempt: attempt + 1,
              retries: retriesOfCall,
              delayMs,
              code: error.code,
              reason: error.message,
            },
            'Odoo call failed; retrying',
          );
          try {
            await sleep(delayMs, undefined, signal ? { signal } : undefined);
          } catch {
            throw abortedError(label, signal?.reason);
          }
        }
      }
    },
  };
}

/** `promise`, or the aborted error as soon as the caller's signal fires (the work goes on). */
export function raceSignal<T>(
  promise: Promise<T>,
  label: string,
  signal?: AbortSignal,
): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(abortedError(label, signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortedError(label, signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
