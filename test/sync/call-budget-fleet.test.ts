/**
 * The fleet's call budget seen from Odoo (docs/odoo.md, "Call budget"): two worker runtimes, each
 * with its own Odoo client and its own gate on one Redis budget, copy the BC family; the sandbox's
 * call log says when each call arrived and how many were in flight at once. A run, a reconcile, a
 * verify, a resync and a webhook read all stay within ODOO_MAX_CALLS_PER_SECOND; the runtimes
 * never hold more than ODOO_MAX_CONCURRENT_CALLS calls at Odoo at once; a 429 or 503 with
 * Retry-After met by one pauses the other's calls too, and the copy then completes equal to Odoo.
 * Then the same bounds as operators set them: two worker processes and the sync CLI, each built
 * from its configuration by its composition root.
 */
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, inject } from 'vitest';
import type { OdooCallGate } from '../../src/clients/odoo/index.js';
import { BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import { setPaused } from '../../src/sync/sync-state.js';
import { createOdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { diffCopyWithSandbox } from '../helpers/copy-diff.js';
import { createTestDb } from '../helpers/test-db.js';
import { startWorkerProcess, workerEnv } from '../helpers/worker-process.js';
import { createCallBudget, type CallBudgetSettings } from '../../src/odoo-budget/call-budget.js';
import { silentLogger } from '../odoo/sandbox-harness.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';
import { commandFile } from '../helpers/commands.js';

/** One admission of one attempt, as the process that asked saw it. */
interface Admission {
  runtime: 'a' | 'b';
  askedAtMs: number;
  admittedAtMs: number;
}

/** One runtime's gate on the shared budget, with what it admitted and what failed. */
interface FleetGate {
  gate: OdooCallGate;
  refusals: { runtime: 'a' | 'b'; status: number; atMs: number }[];
}

/**
 * The two processes of the fleet: a gate each, over a Redis connection each, on one budget (the
 * key prefix and the Odoo they name are the same); what each admitted, in one list.
 */
function createFleetBudget(settings: Omit<CallBudgetSettings, 'leaseMs'>) {
  const keyPrefix = `fleet-${randomBytes(4).toString('hex')}`;
  const connections: Redis[] = [];
  const admissions: Admission[] = [];
  const refusals: FleetGate['refusals'] = [];
  const firstAdmitted = { a: signalOnce(), b: signalOnce() };
  const gateOf = (runtime: 'a' | 'b'): OdooCallGate => {
    const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    connections.push(redis);
    const budget = createCallBudget({
      shared: { kind: 'redis', redis, prefix: keyPrefix },
      // The sandbox's port is chosen when it starts: both gates name one Odoo all the same.
      odoo: { url: 'http://sandbox', database: 'fleet' },
      settings: { ...settings, leaseMs: 30_000 },
      logger: silentLogger,
    });
    return {
      async admit(call, signal) {
        const askedAtMs = Date.now();
        const permit = await budget.admit(call, signal);
        admissions.push({ runtime, askedAtMs, admittedAtMs: Date.now() });
        firstAdmitted[runtime].resolve();
        return {
          release(failure) {
            if (failure?.httpStatus !== undefined)
              refusals.push({ runtime, status: failure.httpStatus, atMs: Date.now() });
            return permit.release(failure);
          },
        };
      },
    };
  };
  return {
    a: gateOf('a'),
    b: gateOf('b'),
    admissions,
    refusals,
    /** Resolves once `runtime` has had a call admitted. */
    calling: (runtime: 'a' | 'b') => firstAdmitted[runtime].promise,
    async close() {
      const redis = connections[0]!;
      const keys = await redis.keys(`${keyPrefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await Promise.all(connections.map((connection) => connection.quit()));
    },
  };
}

/** A promise and the function that resolves it. */
function signalOnce(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

type FleetBudget = ReturnType<typeof createFleetBudget>;

let h: SyncHarness | undefined;
let budget: FleetBudget | undefined;
afterEach(async () => {
  await h?.dispose();
  await budget?.close();
  h = undefined;
  budget = undefined;
});

/** The harness's runtime on gate `a`, a second runtime on its own client and gate `b`. */
async function startFleet(
  settings: Omit<CallBudgetSettings, 'leaseMs'>,
  orders: number,
): Promise<{ h: SyncHarness; budget: FleetBudget }> {
  budget = createFleetBudget(settings);
  h = await createSyncHarness({
    sandbox: { orders, linesPerOrder: 3 },
    pageSize: 5,
    concurrency: 4,
    odooGate: budget.a,
  });
  const second = h.client({}, budget.b);
  h.spawnRuntime(second);
  return { h, budget };
}

/** The most calls the sandbox received within any one second (a sliding window). */
function mostCallsInOneSecond(arrivalsMs: readonly number[]): number {
  const sorted = [...arrivalsMs].sort((x, y) => x - y);
  let most = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last++) {
    while (sorted[last]! - sorted[first]! >= 1_000) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

describe('the call budget across a fleet of two workers', () => {
  it('keeps every second of Odoo’s call log within ODOO_MAX_CALLS_PER_SECOND=5, for runs, reconciles, verifies, resyncs and webhook reads', async () => {
    const { h, budget } = await startFleet({ maxConcurrentCalls: 4, maxCallsPerSecond: 5 }, 40);
    const run = await h.run('sync-run', { trigger: 'test' });
    expect(run).toMatchObject({
      status: 'succeeded',
      counts: expect.objectContaining({ failed: 0 }),
    });
    expect(await h.diffWithSandbox()).toEqual([]);
    const [someBc] = h.sandbox.control.ids(BC_MODEL);
    await expect(h.run('reconcile', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
    await expect(h.run('verify', { trigger: 'test', all: true })).resolves.toMatchObject({
      status: 'succeeded',
    });
    await h.run('resync-record', { odooId: someBc!, trigger: 'test' });
    await h.run('webhook-record', { model: BC_MODEL, recordId: someBc!, receivedAtMs: Date.now() });

    const arrivals = h.sandbox.control.timedCalls().map((call) => call.atMs);
    // Enough calls that, unbounded, many would have arrived within one second.
    expect(arrivals.length).toBeGreaterThan(20);
    expect(mostCallsInOneSecond(arrivals)).toBeLessThanOrEqual(5);
    // Both processes called Odoo: the bound is the fleet's, not each one's.
    expect(new Set(budget.admissions.map((admission) => admission.runtime))).toEqual(
      new Set(['a', 'b']),
    );
    expect(budget.admissions).toHaveLength(arrivals.length);
  });

  it.each([1, 3])(
    'never has more than ODOO_MAX_CONCURRENT_CALLS=%i calls at Odoo at once across the fleet',
    async (maxConcurrentCalls) => {
      const { h, budget } = await startFleet({ maxConcurrentCalls, maxCallsPerSecond: 0 }, 60);
      // Each call takes a while at Odoo, so that unbounded, the workers' pages would overlap.
      h.sandbox.control.injectFault({ kind: 'latency', latencyMs: 20, times: Infinity });
      await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
        status: 'succeeded',
      });
      expect(await h.diffWithSandbox()).toEqual([]);
      expect(h.sandbox.control.mostRequestsInFlight()).toBeLessThanOrEqual(maxConcurrentCalls);
      expect(new Set(budget.admissions.map((admission) => admission.runtime))).toEqual(
        new Set(['a', 'b']),
      );
    },
  );

  it.each([429, 503])(
    'pauses both workers for the Retry-After of a %i one of them met, then completes the copy',
    async (status) => {
      // One call at a time: when the refusal is answered no other call is at Odoo, so every call
      // after it, of either worker, waits for the pause.
      const { h, budget } = await startFleet({ maxConcurrentCalls: 1, maxCallsPerSecond: 0 }, 80);
      const run = await h.add('sync-run', { trigger: 'test' });
      // Once both workers read pages, the next call is refused.
      await Promise.all([budget.calling('a'), budget.calling('b')]);
      const refused = h.sandbox.control.injectFault({ kind: 'html', status, retryAfter: '1' });
      await expect(h.wait(run)).resolves.toMatchObject({
        status: 'succeeded',
        counts: expect.objectContaining({ failed: 0 }),
      });
      expect(await h.diffWithSandbox()).toEqual([]);
      expect(refused.triggered).toBe(1);
      expect(budget.refusals).toHaveLength(1);
      const refusal = budget.refusals[0]!;
      expect(refusal.status).toBe(status);
      const after = budget.admissions.filter((admission) => admission.admittedAtMs >= refusal.atMs);
      expect(after.length).toBeGreaterThan(0);
      expect(after.every((admission) => admission.admittedAtMs >= refusal.atMs + 1_000)).toBe(true);
      // The other worker had a call waiting during the pause, and it waited it out too.
      const other = refusal.runtime === 'a' ? 'b' : 'a';
      expect(
        after.some(
          (admission) => admission.runtime === other && admission.askedAtMs < refusal.atMs + 1_000,
        ),
      ).toBe(true);
      // Odoo saw nothing for that second either.
      const calls = h.sandbox.control.timedCalls().map((call) => call.atMs);
      expect(calls.filter((at) => at > refusal.atMs && at < refusal.atMs + 1_000)).toEqual([]);
    },
  );
});

describe('the call budget as operators set it', () => {
  it('holds ODOO_MAX_CALLS_PER_SECOND=5 and ODOO_MAX_CONCURRENT_CALLS=2 across two worker processes and the sync CLI', async () => {
    const db = await createTestDb();
    const sandbox = createOdooSandbox({ orders: 40, linesPerOrder: 3, loginCooldown: false });
    await sandbox.start();
    const workers: ChildProcess[] = [];
    try {
      // The workers' schedulers fire at once: a paused schedule keeps the CLI's runs the only ones.
      await setPaused(db.db, bcsFamily.name, 'test');
      const env = workerEnv(
        { databaseUrl: db.url, prefix: `budget-${randomBytes(4).toString('hex')}`, odoo: sandbox },
        {
          ODOO_MAX_CALLS_PER_SECOND: '5',
          ODOO_MAX_CONCURRENT_CALLS: '2',
          ODOO_PAGE_SIZE: '5',
        },
      );
      const started = await Promise.all([1, 2].map(() => startWorkerProcess(env)));
      workers.push(...started.map((worker) => worker.child));
      // The CLI's own runtime takes jobs too: three processes share the run and the verify.
      const cli = (args: string[]) =>
        promisify(execFile)(process.execPath, [commandFile('workers/sync-cli.ts'), ...args], {
          env,
          timeout: 90_000,
        });
      await cli(['run']);
      await cli(['verify', '--all']);

      expect(await diffCopyWithSandbox(db.db, sandbox.control, bcsFamily)).toEqual([]);
      const arrivals = sandbox.control.timedCalls().map((call) => call.atMs);
      expect(arrivals.length).toBeGreaterThan(20);
      expect(mostCallsInOneSecond(arrivals)).toBeLessThanOrEqual(5);
      expect(sandbox.control.mostRequestsInFlight()).toBeLessThanOrEqual(2);
    } finally {
      for (const worker of workers) {
        if (worker.exitCode !== null || worker.signalCode !== null) continue;
        worker.kill('SIGTERM');
        await once(worker, 'exit');
      }
      await sandbox.stop();
      await db.dispose();
    }
  }, 120_000);
});
