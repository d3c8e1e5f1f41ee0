import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { asExecution, ExecutionLocks } from './execution-locks.js';

const LOCK_MS = 1_000;

/** A worker as the lock manager sees it, whose store answers as the test says. */
function fakeWorker(extend: (jobIds: string[], tokens: string[]) => Promise<string[]>) {
  const worker = Object.assign(new EventEmitter(), {
    name: 'sync-page',
    extendJobLocks: vi.fn((jobIds: string[], tokens: string[]) => extend(jobIds, tokens)),
    trace: <T>(_kind: unknown, _operation: string, _to: string, work: () => Promise<T> | T) =>
      work(),
  });
  // BullMQ's lock manager reports a failed renewal as an 'error' event.
  worker.on('error', () => undefined);
  const locks = new ExecutionLocks(worker, {
    lockDuration: LOCK_MS,
    lockRenewTime: LOCK_MS / 2,
    workerId: 'worker-1',
  });
  locks.start();
  return { worker, locks };
}

describe("an execution's job lock", () => {
  beforeEach(() => vi.useFakeTimers({ now: Date.now() }));
  afterEach(() => vi.useRealTimers());

  it('is kept while the store renews it', async () => {
    const { locks } = fakeWorker((jobIds) => Promise.resolve(jobIds.filter(() => false)));
    const execution = locks.trackJob('7', 'token-1', Date.now(), true)!;
    await vi.advanceTimersByTimeAsync(10 * LOCK_MS);
    expect(execution.signal.aborted).toBe(false);
    await locks.close();
  });

  it('cancels its execution once it went unrenewed for its whole duration, the store away', async () => {
    const { locks } = fakeWorker(() => Promise.reject(new Error('connect ECONNREFUSED')));
    const execution = locks.trackJob('7', 'token-1', Date.now(), true)!;
    await vi.advanceTimersByTimeAsync(LOCK_MS / 2);
    expect(execution.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(LOCK_MS);
    expect(execution.signal.reason).toBe(
      'the job lost its lock: it was not renewed for its whole duration (the store away)',
    );
    await locks.close();
  });

  it('cancels the execution whose job this worker took again, whose end then leaves the new lock renewed', async () => {
    const { worker, locks } = fakeWorker(() => Promise.resolve([]));
    const old = locks.trackJob('7', 'token-1', Date.now(), true)!;
    const taken = locks.trackJob('7', 'token-2', Date.now(), true)!;
    expect(old.signal.reason).toBe('the job was taken again: this execution lost its lock');
    // The old execution ends: BullMQ untracks the job's id.
    asExecution('token-1', () => locks.untrackJob('7'));
    await vi.advanceTimersByTimeAsync(2 * LOCK_MS);
    expect(worker.extendJobLocks).toHaveBeenLastCalledWith(['7'], ['token-2'], LOCK_MS);
    expect(taken.signal.aborted).toBe(false);
    asExecution('token-2', () => locks.untrackJob('7'));
    expect(locks.getTrackedJobIds()).toEqual([]);
    await locks.close();
  });
});
