import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChaosDeployment } from './chaos-deployment.js';
import { createFaultRunner, type FaultRecord } from './chaos-faults.js';
import type { PlannedFault } from './chaos-plan.js';
import type { Storm } from './chaos-storm.js';
import type { SseReader } from './sse-reader.js';

/** A receiver that fails as a real server does when it is opened or closed twice. */
function fakeReceiver() {
  const state = { listening: true, failureRate: 0, latencyMs: 0 };
  return {
    state,
    setFailureRate: (rate: number) => void (state.failureRate = rate),
    setLatencyMs: (ms: number) => void (state.latencyMs = ms),
    down: () => {
      if (!state.listening) return Promise.reject(new Error('Server is not running.'));
      state.listening = false;
      return Promise.resolve();
    },
    up: () => {
      if (state.listening)
        return Promise.reject(
          new Error('Listen method has been called more than once without closing.'),
        );
      state.listening = true;
      return Promise.resolve();
    },
  };
}

const fault = (
  n: number,
  kind: 'receiver-down' | 'receiver-failing',
  atMs: number,
  durationMs: number,
  params: Record<string, number> = {},
): PlannedFault => ({ n, kind, class: 'consumers', atMs, durationMs, target: 0, params });

describe('faults on one receiver that overlap', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function faultsOn(faults: PlannedFault[]) {
    const receiver = fakeReceiver();
    const started = Date.now();
    const runner = createFaultRunner({
      faults,
      deployment: { subscriptions: [{ receiver }] } as unknown as ChaosDeployment,
      storm: {} as Storm,
      stream: {} as SseReader,
      seed: 1,
      clock: () => Date.now() - started,
      onRecord: () => undefined,
    });
    return { receiver, runner };
  }

  it('keep it down until the last of them ends, then open it once', async () => {
    const { receiver, runner } = faultsOn([
      fault(1, 'receiver-down', 0, 1_000),
      fault(2, 'receiver-down', 500, 1_000),
    ]);
    const thrown = runner.run(2_000, new AbortController().signal);
    await vi.advanceTimersByTimeAsync(600);
    await thrown;
    expect(receiver.state.listening).toBe(false);
    await vi.advanceTimersByTimeAsync(600);
    // The first ended: the second still holds the port closed.
    expect(receiver.state.listening).toBe(false);
    await vi.advanceTimersByTimeAsync(500);
    expect(receiver.state.listening).toBe(true);
    expect(runner.records.map((record: FaultRecord) => record.error)).toEqual([
      undefined,
      undefined,
    ]);
  });

  it('fail the largest share of deliveries any of them asks, until each has ended', async () => {
    const { receiver, runner } = faultsOn([
      fault(1, 'receiver-failing', 0, 1_000, { share: 0.6 }),
      fault(2, 'receiver-failing', 500, 1_000, { share: 0.3 }),
    ]);
    const thrown = runner.run(2_000, new AbortController().signal);
    await vi.advanceTimersByTimeAsync(600);
    await thrown;
    expect(receiver.state.failureRate).toBe(0.6);
    await vi.advanceTimersByTimeAsync(600);
    expect(receiver.state.failureRate).toBe(0.3);
    await vi.advanceTimersByTimeAsync(500);
    expect(receiver.state.failureRate).toBe(0);
  });
});
