/**
 * The fleet's call budget (src/odoo-budget/call-budget.ts) on each of its stores, a real Redis and
 * a real PostgreSQL, two gates standing for two processes: the bound on calls in flight and on
 * calls per second holds across them, a 429 or 503 met by one pauses the other, a waiting call
 * gives up on its signal or at its deadline, and a slot held by a process that died is taken back
 * once its lease ran out. Time is the store's own: each test awaits the admissions, never a
 * sleep; the lease and the pause are seconds long, so that no assertion made before they end
 * races them on a loaded machine, and the longest wait is short (it only ever runs out).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OdooError, type OdooCallGate, type OdooCallPermit } from '../../src/clients/odoo/index.js';
import {
  createCallBudget,
  type BudgetWaitReason,
  type CallBudgetSettings,
} from '../../src/odoo-budget/call-budget.js';
import { createFleetChoice } from '../../src/odoo-budget/fleet-choice.js';
import {
  createSharedStateFixture,
  SHARED_STATE_KINDS,
  type SharedProcess,
  type SharedStateFixture,
} from '../helpers/shared-state.js';
import { silentLogger } from './sandbox-harness.js';

const ODOO = { url: 'http://odoo.test', database: 'budget' };
/** A pause Odoo asks for in the tests: what each of them waits. */
const PAUSE_MS = 3_000;

interface Seen {
  waits: { reason: BudgetWaitReason; waitedMs: number }[];
  pauses: { status: number; pauseMs: number }[];
}

/** Resolves with whether `promise` settled before the store answered a round trip of `process`. */
async function settledBeforePing(
  promise: Promise<unknown>,
  process: Pick<SharedProcess, 'ping'>,
): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  // Two round trips: a waiter's own ask to the store has been answered by then.
  await process.ping();
  await process.ping();
  return settled;
}

function httpFailure(status: number, retryAfterMs?: number): OdooError {
  return new OdooError('ODOO_HTTP', `HTTP ${status}`, {
    httpStatus: status,
    retryable: true,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

describe.each(SHARED_STATE_KINDS)('the call budget shared through %s', (kind) => {
  let fixture: SharedStateFixture;
  beforeEach(async () => {
    fixture = await createSharedStateFixture(kind);
  });
  afterEach(() => fixture.dispose());

  /** A gate as one process builds it: a connection of its own to the one shared state. */
  async function processGate(
    settings: Partial<CallBudgetSettings>,
    odoo = ODOO,
  ): Promise<{ gate: OdooCallGate; seen: Seen } & SharedProcess> {
    const process = await fixture.connect();
    const seen: Seen = { waits: [], pauses: [] };
    const gate = createCallBudget({
      shared: process.shared,
      odoo,
      settings: { maxConcurrentCalls: 0, maxCallsPerSecond: 0, leaseMs: 30_000, ...settings },
      logger: silentLogger,
      observer: {
        waited: (reason, waitedMs) => seen.waits.push({ reason, waitedMs }),
        paused: (status, pauseMs) => seen.pauses.push({ status, pauseMs }),
      },
    });
    return { gate, seen, ...process };
  }

  it('admits at most ODOO_MAX_CONCURRENT_CALLS attempts of all processes, the next at a release', async () => {
    const a = await processGate({ maxConcurrentCalls: 2 });
    const b = await processGate({ maxConcurrentCalls: 2 });
    const held = [await a.gate.admit('x.read'), await b.gate.admit('x.read')];
    const third = b.gate.admit('x.read');
    expect(await settledBeforePing(third, b)).toBe(false);
    // A release in the other process makes room: the waiter finds it when it asks again.
    await held[0]!.release();
    const admitted = await third;
    expect(b.seen.waits).toEqual([{ reason: 'concurrency', waitedMs: expect.any(Number) }]);
    await Promise.all([held[1]!.release(), admitted.release()]);
  });

  it('holds ODOO_MAX_CONCURRENT_CALLS across two busy processes, four callers each', async () => {
    const processes = [
      await processGate({ maxConcurrentCalls: 3 }),
      await processGate({ maxConcurrentCalls: 3 }),
    ];
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    const caller = async (process: (typeof processes)[number]) => {
      for (let call = 0; call < 5; call += 1) {
        const permit = await process.gate.admit('x.read');
        inFlight += 1;
        most = Math.max(most, inFlight);
        calls += 1;
        // The call is at Odoo for a round trip of its process; counted out before its release,
        // so the count here is never above the store's.
        await process.ping();
        inFlight -= 1;
        await permit.release();
      }
    };
    await Promise.all(processes.flatMap((process) => [1, 2, 3, 4].map(() => caller(process))));
    expect(calls).toBe(40);
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThanOrEqual(2);
    expect(processes.flatMap((process) => process.seen.waits).length).toBeGreaterThan(0);
  });

  it('admits at most ODOO_MAX_CALLS_PER_SECOND calls within a second, counted until a second after their release', async () => {
    const a = await processGate({ maxCallsPerSecond: 3 });
    const b = await processGate({ maxCallsPerSecond: 3 });
    const admittedAtMs: number[] = [];
    const call = async (gate: OdooCallGate) => {
      const permit = await gate.admit('x.read');
      admittedAtMs.push(Date.now());
      // Before the store notes the release (on the same clock): a release read after the round
      // trip could be later than the store's by the time a loaded machine takes to answer.
      const releasingAtMs = Date.now();
      await permit.release();
      return releasingAtMs;
    };
    const releasedAtMs = await Promise.all([call(a.gate), call(b.gate), call(a.gate)]);
    await Promise.all([call(b.gate), call(a.gate)]);
    // The fourth and fifth were admitted only once the first releases were a second old.
    const firstRelease = Math.min(...releasedAtMs);
    expect(admittedAtMs.slice(3).every((at) => at >= firstRelease + 1_000)).toBe(true);
    expect([...a.seen.waits, ...b.seen.waits].map((wait) => wait.reason)).toEqual(['rate', 'rate']);
  });

  it.each([429, 503])(
    'pauses every process for the Retry-After of a %i, and not at a second one while paused',
    async (status) => {
      const a = await processGate({ maxConcurrentCalls: 4 });
      const b = await processGate({ maxConcurrentCalls: 4 });
      const [first, second] = [await a.gate.admit('x.read'), await a.gate.admit('x.read')];
      const failedAtMs = Date.now();
      // A pause no stall of a loaded machine between the two releases outlasts.
      await first.release(httpFailure(status, PAUSE_MS));
      // A second refusal of a call sent before the pause began does not lengthen it.
      await second.release(httpFailure(status, PAUSE_MS / 2));
      expect(a.seen.pauses).toEqual([{ status, pauseMs: PAUSE_MS }]);
      const permit = await b.gate.admit('x.read');
      expect(Date.now() - failedAtMs).toBeGreaterThanOrEqual(PAUSE_MS);
      expect(b.seen.waits).toEqual([{ reason: 'pause', waitedMs: expect.any(Number) }]);
      await permit.release();
    },
  );

  it('pauses 1 s, then 2 s, when Odoo says no Retry-After', async () => {
    const a = await processGate({});
    await (await a.gate.admit('x.read')).release(httpFailure(503));
    await (await a.gate.admit('x.read')).release(httpFailure(503));
    expect(a.seen.pauses).toEqual([
      { status: 503, pauseMs: 1_000 },
      { status: 503, pauseMs: 2_000 },
    ]);
  });

  it('keeps no bound and no state when both keys are 0, but still pauses', async () => {
    const a = await processGate({});
    const permits = await Promise.all(Array.from({ length: 20 }, () => a.gate.admit('x.read')));
    await Promise.all(permits.map((permit) => permit.release()));
    expect(await fixture.contents()).toEqual([]);
    expect(a.seen.waits).toEqual([]);
  });

  it('gives up waiting when the call is aborted, and frees nothing it did not hold', async () => {
    const a = await processGate({ maxConcurrentCalls: 1 });
    const held = await a.gate.admit('x.read');
    const controller = new AbortController();
    const waiting = a.gate.admit('x.read', controller.signal);
    expect(await settledBeforePing(waiting, a)).toBe(false);
    controller.abort(new Error('job cancelled'));
    await expect(waiting).rejects.toThrow('job cancelled');
    // The slot is still the first call's.
    const next = a.gate.admit('x.read');
    expect(await settledBeforePing(next, a)).toBe(false);
    await held.release();
    await (await next).release();
  });

  it('gives up at ODOO_BUDGET_MAX_WAIT_MS with a retryable ODOO_BUDGET_TIMEOUT, holding nothing', async () => {
    const maxWaitMs = 300;
    const a = await processGate({ maxConcurrentCalls: 1, maxWaitMs });
    const held = await a.gate.admit('x.read');
    const startedMs = Date.now();
    const error = await a.gate.admit('x.read').then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: 'ODOO_BUDGET_TIMEOUT', retryable: true });
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(maxWaitMs);
    expect(a.seen.waits.map((wait) => wait.reason)).toEqual(['concurrency']);
    // The slot is still the first call's, and free for the next once released.
    await held.release();
    await (await a.gate.admit('x.read')).release();
  });

  it('frees the slot of a process that died once its lease ran out', async () => {
    // Longer than any stall of a loaded machine between the admission and the check after it.
    const leaseMs = 3_000;
    const dead = await processGate({ maxConcurrentCalls: 1, leaseMs });
    const alive = await processGate({ maxConcurrentCalls: 1, leaseMs });
    const heldFromMs = Date.now();
    const orphan: OdooCallPermit = await dead.gate.admit('x.read');
    expect(orphan).toBeDefined();
    // The process dies holding the slot: it never releases, its connection goes.
    await dead.drop();
    const waiting = alive.gate.admit('x.read');
    expect(await settledBeforePing(waiting, alive)).toBe(false);
    const permit = await waiting;
    expect(Date.now() - heldFromMs).toBeGreaterThanOrEqual(leaseMs);
    expect(alive.seen.waits.map((wait) => wait.reason)).toEqual(['concurrency']);
    await permit.release();
    // The orphan's slot went when its lease ran out, the last call's at its release.
    expect(await fixture.contents()).toEqual([]);
  });

  it('keeps a measure of calls in flight for the fleet, per Odoo database, and ignores what it did not write', async () => {
    const a = await fixture.connect();
    const b = await fixture.connect();
    const measure = { limit: 1, boundRate: 3.5, oneRate: 5.25 };
    await createFleetChoice(a.shared, ODOO).keep(measure);
    expect(await createFleetChoice(b.shared, ODOO).read()).toEqual(measure);
    expect(
      await createFleetChoice(b.shared, { ...ODOO, database: 'another' }).read(),
    ).toBeUndefined();
    await createFleetChoice(a.shared, ODOO).keep({ limit: 0, boundRate: -1, oneRate: 2 });
    expect(await createFleetChoice(b.shared, ODOO).read()).toBeUndefined();
  });

  it('with ODOO_ADAPTIVE_CONCURRENCY, a process that starts follows the fleet’s measure: one call at a time', async () => {
    const measurer = await fixture.connect();
    await createFleetChoice(measurer.shared, ODOO).keep({ limit: 1, boundRate: 2, oneRate: 4 });
    const a = await processGate({ maxConcurrentCalls: 4, followOdoo: true });
    const held = await a.gate.admit('x.read');
    const second = a.gate.admit('x.read');
    expect(await settledBeforePing(second, a)).toBe(false);
    await held.release();
    await (await second).release();
    expect(a.seen.waits.map((wait) => wait.reason)).toEqual(['concurrency']);
  });

  it('with ODOO_ADAPTIVE_CONCURRENCY and no measure of the fleet, a process starts at the bound', async () => {
    const a = await processGate({ maxConcurrentCalls: 4, followOdoo: true });
    const permits = await Promise.all(Array.from({ length: 4 }, () => a.gate.admit('x.read')));
    expect(a.seen.waits).toEqual([]);
    await Promise.all(permits.map((permit) => permit.release()));
  });

  it('keeps one budget per Odoo database', async () => {
    const a = await processGate({ maxConcurrentCalls: 1 });
    const other = await processGate({ maxConcurrentCalls: 1 }, { ...ODOO, database: 'another' });
    const held = await a.gate.admit('x.read');
    const elsewhere = await other.gate.admit('x.read');
    expect(other.seen.waits).toEqual([]);
    await Promise.all([held.release(), elsewhere.release()]);
  });
});
