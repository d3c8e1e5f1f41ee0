/**
 * Waiting on work that several calls share (the single-flight login, the RPC path lookup): each
 * waiter gives up when its own signal aborts, while the shared work goes on for the others.
 */
import { TrytonAbortedError } from './tryton-errors.js';

/** Waits for `promise`, or rejects as soon as `signal` aborts (the promise itself keeps running). */
export function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  waitingFor: string,
): Promise<T> {
  if (!signal) return promise;
  const aborted = () =>
    new TrytonAbortedError(
      'TRYTON_ABORTED',
      `Tryton call was aborted while waiting for ${waitingFor}`,
      {
        cause: signal.reason,
      },
    );
  if (signal.aborted) return Promise.reject(aborted());
  let onAbort = () => undefined as void;
  const abortion = new Promise<never>((_, reject) => {
    onAbort = () => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([promise, abortion]).finally(() =>
    signal.removeEventListener('abort', onAbort),
  );
}
