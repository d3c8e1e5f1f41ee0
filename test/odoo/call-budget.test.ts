/**
 * The fleet's call budget (src/odoo-budget/call-budget.ts) on a real Redis, two gates standing
 * for two processes: the bound on calls in flight and on calls per second holds across them, a
 * 429 or 503 met by one pauses the other, a waiting call gives up on its signal or at its
 * deadline, and a slot held by a process that died is taken back once its lease ran out. Time is
 * Redis's own: each test
 * awaits the admissions, never a sleep; the lease, the pause and the longest wait are kept short
 * by configuration.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it, inject } from 'vitest';
import { OdooError, type OdooCallGate, type OdooCallPermit } from '../../src/clients/odoo/index.js';
import {
  createRedisCallBudget,
  type BudgetWaitReason,
  type CallBudgetSettings,
} from '../../src/odoo-budget/call-budget.js';
import { silentLogger } from './sandbox-harness.js';

const ODOO = { url: 'http://odoo.test', database: 'budget' };
const connections: Redis[] = [];
let prefix: string;

beforeEach(() => {
  prefix = `budget-${randomBytes(4).toString('hex')}`;
});
afterEach(async () => {
  const redis = new Redis(inject('redisUrl'));
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});
afterAll(async () => {
  await Promise.all(connections.filter((c) => c.status === 'ready').map((c) => c.quit()));
});

interface Seen {
  waits: { reason: BudgetWaitReason; waitedMs: number }[];
  pauses: { status: number; pauseMs: number }[];
}

/** A gate as one process builds it: a Redis connection of its own, the shared key prefix. */
function processGate(
  settings: Partial<CallBudgetSettings>,
  odoo = ODOO,
): { gate: OdooCallGate; seen: Seen; redis: Redis } {
  const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  connections.push(redis);
  const seen: Seen = { waits: [], pauses: [] };
  const gate = createRedisCallBudget({
    redis,
    keyPrefix: prefix,
    odoo,
    settings: { maxConcurrentCalls: 0, maxCallsPerSecond: 0, leaseMs: 30_000, ...settings },
    logger: silentLogger,
    observer: {
      waited: (reason, waitedMs) => seen.waits.push({ reason, waitedMs }),
      paused: (status, pauseMs) => seen.pauses.push({ status, pauseMs }),
    },
  });
  return { gate, seen, redis };
}

/** Resolves with whether `promise` settled before Redis answered a round trip on `redis`. */
async function settledBeforePing(promise: Promise<unknown>, redis: Redis): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  // Two round trips: a waiter's own ask to Redis has been answered by then.
  await redis.ping();
  await redis.ping();
  return settled;
}

function httpFailure(status: number, retryAfterMs?: number): OdooError {
  return new OdooError('ODOO_HTTP', `HTTP ${status}`, {
    httpStatus: status,
    retryable: true,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

describe('the call budget shared through Redis', () => {
  it('admits at most ODOO_MAX_CONCURRENT_CALLS attempts of all processes, the next at a release', async () => {
    const a = processGate({ maxConcurrentCalls: 2 });
    const b = processGate({ maxConcurrentCalls: 2 });
    const held = [await a.gate.admit('x.read'), await b.gate.admit('x.read')];
    const third = b.gate.admit('x.read');
    expect(await settledBeforePing(third, b.redis)).toBe(false);
    // A release in the other process makes room: the waiter finds it when it asks again.
    await held[0]!.release();
    const admitted = await third;
    expect(b.seen.waits).toEqual([{ reason: 'concurrency', waitedMs: expect.any(Number) }]);
    await Promise.all([held[1]!.release(), admitted.release()]);
  });

  it('admits at most ODOO_MAX_CALLS_PER_SECOND calls within a second, counted until a second after their release', async () => {
    const a = processGate({ maxCallsPerSecond: 3 });
    const b = processGate({ maxCallsPerSecond: 3 });
    const admittedAtMs: number[] = [];
    const call = async (gate: OdooCallGate) => {
      const permit = await gate.admit('x.read');
      admittedAtMs.push(Date.now());
      // Before Redis notes the release (on the same clock): a release read after the round trip
      // could be later than Redis's by the time a loaded machine takes to answer.
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
      const a = processGate({ maxConcurrentCalls: 4 });
      const b = processGate({ maxConcurrentCalls: 4 });
      const [first, second] = [await a.gate.admit('x.read'), await a.gate.admit('x.read')];
      const failedAtMs = Date.now();
      await first.release(httpFailure(status, 600));
      // A second refusal of a call sent before the pause began does not lengthen it.
      await second.release(httpFailure(status, 300));
      expect(a.seen.pauses).toEqual([{ status, pauseMs: 600 }]);
      const permit = await b.gate.admit('x.read');
      expect(Date.now() - failedAtMs).toBeGreaterThanOrEqual(600);
      expect(b.seen.waits).toEqual([{ reason: 'pause', waitedMs: expect.any(Number) }]);
      await permit.release();
    },
  );

  it('pauses 1 s, then 2 s, when Odoo says no Retry-After', async () => {
    const a = processGate({});
    await (await a.gate.admit('x.read')).release(httpFailure(503));
    await (await a.gate.admit('x.read')).release(httpFailure(503));
    expect(a.seen.pauses).toEqual([
      { status: 503, pauseMs: 1_000 },
      { status: 503, pauseMs: 2_000 },
    ]);
  });

  it('keeps no bound and no state when both keys are 0, but still pauses', async () => {
    const a = processGate({});
    const permits = await Promise.all(Array.from({ length: 20 }, () => a.gate.admit('x.read')));
    await Promise.all(permits.map((permit) => permit.release()));
    expect(await a.redis.keys(`${prefix}:*`)).toEqual([]);
    expect(a.seen.waits).toEqual([]);
  });

  it('gives up waiting when the call is aborted, and frees nothing it did not hold', async () => {
    const a = processGate({ maxConcurrentCalls: 1 });
    const held = await a.gate.admit('x.read');
    const controller = new AbortController();
    const waiting = a.gate.admit('x.read', controller.signal);
    expect(await settledBeforePing(waiting, a.redis)).toBe(false);
    controller.abort(new Error('job cancelled'));
    await expect(waiting).rejects.toThrow('job cancelled');
    // The slot is still the first call's.
    const next = a.gate.admit('x.read');
    expect(await settledBeforePing(next, a.redis)).toBe(false);
    await held.release();
    await (await next).release();
  });

  it('gives up at ODOO_BUDGET_MAX_WAIT_MS with a retryable ODOO_BUDGET_TIMEOUT, holding nothing', async () => {
    const maxWaitMs = 300;
    const a = processGate({ maxConcurrentCalls: 1, maxWaitMs });
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
    const leaseMs = 400;
    const dead = processGate({ maxConcurrentCalls: 1, leaseMs });
    const alive = processGate({ maxConcurrentCalls: 1, leaseMs });
    const heldFromMs = Date.now();
    const orphan: OdooCallPermit = await dead.gate.admit('x.read');
    expect(orphan).toBeDefined();
    // The process dies holding the slot: it never releases, its connection goes.
    dead.redis.disconnect();
    const waiting = alive.gate.admit('x.read');
    expect(await settledBeforePing(waiting, alive.redis)).toBe(false);
    const permit = await waiting;
    expect(Date.now() - heldFromMs).toBeGreaterThanOrEqual(leaseMs);
    expect(alive.seen.waits.map((wait) => wait.reason)).toEqual(['concurrency']);
    await permit.release();
  });

  it('keeps one budget per Odoo database', async () => {
    const a = processGate({ maxConcurrentCalls: 1 });
    const other = processGate({ maxConcurrentCalls: 1 }, { ...ODOO, database: 'another' });
    const held = await a.gate.admit('x.read');
    const elsewhere = await other.gate.admit('x.read');
    expect(other.seen.waits).toEqual([]);
    await Promise.all([held.release(), elsewhere.release()]);
  });
});
