import { describe, expect, it } from 'vitest';
import {
  createCallsInFlight,
  HOLD_CALLS,
  MEASURED_CALLS,
  type CallsInFlight,
  type InFlightChoice,
} from './calls-in-flight.js';

const SERVICE_MS = 100;
const PAGES = 3;

/**
 * Three page jobs, each reading Odoo then writing for WRITE_MS, against an Odoo that serves
 * calls in parallel or one at a time (each of k calls in flight then takes k times as long), the
 * process holding its calls to `calls.limit()`: a small discrete-event run of what a copy does.
 */
function copy(calls: CallsInFlight, odoo: 'parallel' | 'one at a time', reads: number): void {
  const WRITE_MS = 30;
  let nowMs = 0;
  /** Each job: when it next wants Odoo, or its call's remaining service, once admitted. */
  const jobs: { wantsAtMs: number | null; waiting: boolean; leftMs: number; inFlight: boolean }[] =
    Array.from({ length: PAGES }, () => ({
      wantsAtMs: 0,
      waiting: false,
      leftMs: 0,
      inFlight: false,
    }));
  let done = 0;
  while (done < reads) {
    for (const job of jobs)
      if (job.wantsAtMs !== null && job.wantsAtMs <= nowMs) {
        job.wantsAtMs = null;
        job.waiting = true;
        calls.wanted(nowMs);
      }
    for (const job of jobs) {
      if (!job.waiting) continue;
      if (jobs.filter((j) => j.inFlight).length >= calls.limit()) break;
      job.waiting = false;
      job.inFlight = true;
      job.leftMs = SERVICE_MS;
    }
    const inFlight = jobs.filter((j) => j.inFlight);
    const slowdown = odoo === 'parallel' ? 1 : Math.max(1, inFlight.length);
    const nextEndMs =
      inFlight.length === 0 ? Infinity : Math.min(...inFlight.map((j) => j.leftMs * slowdown));
    const nextWantMs = Math.min(
      ...jobs.map((j) => (j.wantsAtMs === null ? Infinity : j.wantsAtMs - nowMs)),
    );
    const stepMs = Math.min(nextEndMs, nextWantMs);
    nowMs += stepMs;
    for (const job of inFlight) job.leftMs -= stepMs / slowdown;
    for (const job of inFlight)
      if (job.leftMs <= 1e-9) {
        job.inFlight = false;
        job.wantsAtMs = nowMs + WRITE_MS;
        calls.ended(nowMs, true);
        done += 1;
      }
  }
}

function recorded(bound: number) {
  const choices: InFlightChoice[] = [];
  return { calls: createCallsInFlight(bound, (choice) => choices.push(choice)), choices };
}

describe('calls in flight', () => {
  it('sends one call at a time to an Odoo that serves them one at a time', () => {
    const { calls, choices } = recorded(4);
    expect(calls.limit()).toBe(4);
    copy(calls, 'one at a time', 3 * MEASURED_CALLS);
    expect(choices).toHaveLength(1);
    expect(choices[0]!.limit).toBe(1);
    expect(choices[0]!.boundRate).toBeLessThan(choices[0]!.oneRate * 1.3);
    expect(calls.limit()).toBe(1);
  });

  it('keeps the bound for an Odoo that serves calls in parallel', () => {
    const { calls, choices } = recorded(4);
    copy(calls, 'parallel', 3 * MEASURED_CALLS);
    expect(choices.map((choice) => choice.limit)).toEqual([4]);
    expect(choices[0]!.boundRate).toBeGreaterThan(1.5 * choices[0]!.oneRate);
    expect(calls.limit()).toBe(4);
  });

  it('measures with one call in flight after the bound, then holds its choice', () => {
    const { calls } = recorded(4);
    const limits: number[] = [];
    const watching: CallsInFlight = {
      limit: () => calls.limit(),
      wanted: (nowMs) => calls.wanted(nowMs),
      ended(nowMs, admitted) {
        calls.ended(nowMs, admitted);
        limits.push(calls.limit());
      },
      askFleet: () => calls.askFleet(),
      fleetChose: (choice, nowMs) => calls.fleetChose(choice, nowMs),
    };
    copy(watching, 'one at a time', 4 * MEASURED_CALLS);
    const firstOne = limits.indexOf(1);
    expect(firstOne).toBeGreaterThanOrEqual(MEASURED_CALLS - 1);
    expect(limits.slice(0, firstOne).every((limit) => limit === 4)).toBe(true);
    expect(limits.slice(firstOne).every((limit) => limit === 1)).toBe(true);
  });

  it('measures again after its hold, and follows an Odoo restarted in prefork', () => {
    const { calls, choices } = recorded(4);
    copy(calls, 'one at a time', 3 * MEASURED_CALLS);
    expect(calls.limit()).toBe(1);
    copy(calls, 'parallel', HOLD_CALLS + 6 * MEASURED_CALLS);
    expect(choices.map((choice) => choice.limit)).toEqual([1, 4]);
    expect(calls.limit()).toBe(4);
  });

  it('counts no call that had Odoo to itself: a lone caller never leaves the bound', () => {
    const { calls, choices } = recorded(4);
    for (let i = 0; i < 10 * MEASURED_CALLS; i += 1) {
      calls.wanted(i * 200);
      calls.ended(i * 200 + SERVICE_MS, true);
    }
    expect(choices).toEqual([]);
    expect(calls.limit()).toBe(4);
  });

  it('counts no call that gave up before its admission', () => {
    const { calls, choices } = recorded(4);
    for (let i = 0; i < 10 * MEASURED_CALLS; i += 1) {
      calls.wanted(i * 10);
      calls.wanted(i * 10);
      calls.ended(i * 10 + 5, false);
      calls.ended(i * 10 + 5, false);
    }
    expect(choices).toEqual([]);
  });

  it('has nothing to choose under a bound of one, or none', () => {
    for (const bound of [0, 1]) {
      const { calls, choices } = recorded(bound);
      expect(calls.askFleet()).toBe(false);
      copy(calls, 'one at a time', bound === 0 ? 0 : 3 * MEASURED_CALLS);
      expect(choices).toEqual([]);
      expect(calls.limit()).toBe(bound);
    }
  });

  it('follows the fleet’s choice without a measure of its own, and asks again once its hold ends', () => {
    const { calls, choices } = recorded(4);
    expect(calls.askFleet()).toBe(true);
    expect(calls.askFleet()).toBe(false);
    expect(calls.fleetChose({ limit: 1, boundRate: 3, oneRate: 5 }, 0)).toBe(true);
    expect(calls.limit()).toBe(1);
    copy(calls, 'parallel', HOLD_CALLS - 1);
    expect(calls.limit()).toBe(1);
    expect(calls.askFleet()).toBe(false);
    copy(calls, 'parallel', 1);
    expect(calls.limit()).toBe(4);
    expect(calls.askFleet()).toBe(true);
    // No choice kept by the fleet: it measures the Odoo now parallel.
    copy(calls, 'parallel', 3 * MEASURED_CALLS);
    expect(choices.map((choice) => choice.limit)).toEqual([4]);
  });

  it('takes its own bound from a fleet that found Odoo parallel, and keeps a choice it made meanwhile', () => {
    const parallel = recorded(3);
    parallel.calls.fleetChose({ limit: 8, boundRate: 9, oneRate: 3 }, 0);
    expect(parallel.calls.limit()).toBe(3);
    const own = recorded(4);
    expect(own.calls.askFleet()).toBe(true);
    copy(own.calls, 'one at a time', 3 * MEASURED_CALLS);
    expect(own.calls.fleetChose({ limit: 4, boundRate: 9, oneRate: 3 }, 0)).toBe(false);
    expect(own.calls.limit()).toBe(1);
  });
});
