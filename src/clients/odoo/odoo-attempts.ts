/**
 * How the Odoo client runs one call: each attempt admitted by the gate when there is one, then
 * run under its timeout and the caller's abort signal, reported to the observer; retryable
 * failures (transport errors, timeouts, 429/502/503/504, serialization conflicts) tried again
 * with full-jitter exponential backoff.
 *
 * The gate is how a composition root shares one budget of calls between processes; the client
 * knows only this interface. An attempt's timeout starts once the gate admitted it: it bounds
 * Odoo's answer, not the wait for the budget, which the gate's own deadline and the caller's
 * signal bound.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../lib/logger.js';
import { OdooError, type OdooCallLabel, type OdooErrorCode } from './odoo-errors.js';
import type { OdooRequestOptions } from './odoo-types.js';

/** What one attempt sent and received, in bytes (0 when it got no answer). */
export interface OdooAttemptBytes {
  readonly sentBytes: number;
  readonly receivedBytes: number;
}

/** Sees every attempt of every call, for metrics; it must not throw. */
export interface OdooCallObserver {
  /** One attempt ended after `durationMs`: 'ok', or the code of the error it failed with. */
  attempt(
    call: OdooCallLabel,
    durationMs: number,
    outcome: 'ok' | OdooErrorCode,
    bytes: OdooAttemptBytes,
  ): void;
  /** A failed attempt is about to be retried. */
  retry(call: OdooCallLabel, code: OdooErrorCode): void;
}

/**
 * Admits each attempt of each call before it is sent: a budget of calls in flight and calls per
 * second, shared by processes, and a pause after Odoo asked for one.
 */
export interface OdooCallGate {
  /**
   * Resolves once the attempt may be sent. Rejects when `signal` aborts, with
   * `ODOO_BUDGET_TIMEOUT` when the wait reached its deadline, and with an error of its own when
   * the budget cannot be reached.
   */
  admit(call: OdooCallLabel, signal?: AbortSignal): Promise<OdooCallPermit>;
}

/** One admitted attempt. */
export interface OdooCallPermit {
  /**
   * The attempt ended, with the error it failed with if it did (a 429 or a 503 may pause every
   * process). Never rejects.
   */
  release(failure?: OdooError): Promise<void>;
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
  gate?: OdooCallGate;
  /** Sees the `Date` header of each answer. */
  onServerDate?: (date: Date) => void;
}): OdooAttempts {
  const { timeoutMs, retries, observer, onServerDate, gate } = settings;

  async function admitted(
    label: OdooCallLabel,
    signal?: AbortSignal,
  ): Promise<OdooCallPermit | undefined> {
    if (gate === undefined) return undefined;
    try {
      return await gate.admit(label, signal);
    } catch (error) {
      if (signal?.aborted) throw abortedError(label, signal.reason);
      if (error instanceof OdooError) throw error;
      // The budget lives in a shared store that may be away for a moment: worth another attempt.
      throw new OdooError('ODOO_BUDGET', `${label}: the call budget could not admit it`, {
        cause: error,
        retryable: true,
      });
    }
  }

  async function attemptOnce<T>(
    label: OdooCallLabel,
    call: (request: OdooRequestOptions) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    if (signal?.aborted) throw abortedError(label, signal.reason);
    const permit = await admitted(label, signal);
    if (signal?.aborted) {
      // Aborted while the gate was admitting it: the listener below would never fire.
      await permit?.release();
      throw abortedError(label, signal.reason);
    }
    let failure: OdooError | undefined;
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
    let bytes: OdooAttemptBytes = { sentBytes: 0, receivedBytes: 0 };
    const onBytes = (sentBytes: number, receivedBytes: number): void => {
      bytes = { sentBytes, receivedBytes };
    };
    const startedMs = performance.now();
    try {
      const result = await call({ signal: controller.signal, timeoutMs, onServerDate, onBytes });
      observer?.attempt(label, performance.now() - startedMs, 'ok', bytes);
      return result;
    } catch (error) {
      if (error instanceof OdooError) failure = error;
      const code = error instanceof OdooError ? error.code : 'ODOO_PROTOCOL';
      observer?.attempt(label, performance.now() - startedMs, code, bytes);
      throw error;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      // Released once the answer is read whole (or the attempt gave up): until then Odoo may
      // still be working on it.
      await permit?.release(failure);
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
          // A wait for the budget that reached its deadline is not waited again here: the
          // deadline bounds the call, and its job is tried again later.
          if (!error.retryable || attempt >= retriesOfCall || error.code === 'ODOO_BUDGET_TIMEOUT')
            throw error;
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
