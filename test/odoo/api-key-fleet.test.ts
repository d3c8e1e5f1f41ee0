/**
 * Acceptance, with real worker processes on the sandbox playing Odoo 19: a fleet of three workers
 * copies BCs run after run while the API key it was given nears its expiry; one worker renews it
 * over Odoo's API before it lapses, every worker switches to the new key, the old one is revoked
 * once none can be using it — and no call is refused on the way. Without rotation, a run once the
 * key lapsed fails with a clear error that is not retried.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { odooLink } from '../../src/db/schema/index.js';
import { bcsFamily } from '../../src/families/bcs/family.js';
import { setPaused } from '../../src/sync/sync-state.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import {
  createProducer,
  startWorkerProcess,
  workerEnv,
  type Producer,
  type WorkerProcess,
} from '../helpers/worker-process.js';

const DAY = 86_400_000;
const SECRET = 'a-fleet-secret-of-more-than-32-characters';

let db: TestDb | undefined;
let sandbox: OdooSandbox | undefined;
let producer: Producer | undefined;
let workers: WorkerProcess[] = [];

afterEach(async () => {
  await Promise.all(
    workers.map(async ({ child }: { child: ChildProcess }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    }),
  );
  workers = [];
  await producer?.close();
  await sandbox?.stop();
  await db?.dispose();
});

async function fleet(size: number, key: string, extra: Record<string, string>) {
  db = await createTestDb();
  const prefix = `fleet-${randomBytes(4).toString('hex')}`;
  // The schedulers fire at start: a paused schedule keeps the test's runs the only ones.
  await setPaused(db.db, bcsFamily.name, 'test');
  const env = workerEnv(
    { databaseUrl: db.url, prefix, odoo: sandbox! },
    { ODOO_API_KEY: key, ODOO_TIMEOUT_MS: '15000', ODOO_RETRIES: '0', ...extra },
  );
  workers = await Promise.all(Array.from({ length: size }, () => startWorkerProcess(env)));
  producer = await createProducer(prefix, 'sync');
  return producer;
}

/** One incremental run after a change in Odoo; its result. */
async function runAfterAChange(queues: Producer, round: number) {
  sandbox!.control.write('dimagaz.bc', 1 + (round % 20), { origin: `round ${round}` });
  const job = await queues.queues.add('sync-run', { family: 'bcs', trigger: 'test' });
  return (await queues.events.waitFor(job)) as { status: string };
}

describe('the API key of a fleet', () => {
  it('is renewed before it lapses, every worker switches, the old one is revoked: no call refused', async () => {
    sandbox = createOdooSandbox({
      orders: 20,
      linesPerOrder: 2,
      loginCooldown: false,
      apiKeyManagement: 'enabled',
    });
    await sandbox.start();
    // Due for renewal (ODOO_API_KEY_RENEW_DAYS=1) 20 s from now, while the fleet is at work.
    const oldKey = sandbox.keys.add({ expiresAt: new Date(Date.now() + DAY + 20_000) });
    const generated = sandbox.control.waitForCall({ method: 'generate' });
    const revoked = sandbox.control.waitForCall({ method: 'revoke' });
    let revokedSeen = false;
    void revoked.then(() => (revokedSeen = true));

    const queues = await fleet(3, oldKey, {
      ODOO_API_KEY_ROTATE: 'true',
      ODOO_API_KEY_RENEW_DAYS: '1',
      ODOO_API_KEY_WARN_DAYS: '0',
      ODOO_API_KEY_SECRET: SECRET,
    });
    for (const worker of workers)
      expect(worker.started).toMatchObject({
        odooTransport: { protocol: 'json2', requested: 'auto', serverVersion: '19.0' },
        odooApiKey: expect.stringContaining('a worker renews it from'),
      });

    const results: string[] = [];
    let afterRevoke = 0;
    for (let round = 0; afterRevoke < 3; round++) {
      results.push((await runAfterAChange(queues, round)).status);
      if (revokedSeen) afterRevoke++;
    }
    await generated;

    expect(results.every((status) => status === 'succeeded')).toBe(true);
    expect(sandbox.keys.refusals).toBe(0);
    expect(sandbox.control.countCalls({ method: 'generate' })).toBe(1);
    expect(sandbox.control.countCalls({ method: 'revoke' })).toBe(1);
    const keys = sandbox.keys.list();
    expect(keys.find((key) => key.index === oldKey.slice(0, 8))).toMatchObject({ revoked: true });
    const renewed = keys.find((key) => key.index !== oldKey.slice(0, 8))!;
    expect(renewed).toMatchObject({ revoked: false });
    expect(renewed.uses).toBeGreaterThan(0);
    expect(renewed.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 80 * DAY);
    const [row] = await db!.db.select().from(odooLink);
    expect(row).toMatchObject({ keyVersion: 2, retiredSealed: null, renewalError: null });
    const logs = workers.flatMap((worker) => worker.output).join('\n');
    expect(logs.match(/Odoo API key renewed/g)).toHaveLength(1);
    expect(logs).not.toContain(renewed.index);
  }, 120_000);

  it('without rotation, a run once the key lapsed fails with API_KEY_EXPIRED, not retried', async () => {
    sandbox = createOdooSandbox({ orders: 5, loginCooldown: false });
    await sandbox.start();
    const key = sandbox.keys.add({ expiresAt: new Date(Date.now() + 3 * DAY) });
    const queues = await fleet(1, key, {});
    expect(workers[0]!.started.odooApiKey).toContain('ODOO_API_KEY_ROTATE=false');
    expect(workers[0]!.output.join('\n')).toMatch(/"level":40.*lapses at/);
    expect((await runAfterAChange(queues, 0)).status).toBe('succeeded');

    // It lapses: Odoo refuses it from now on.
    const lapsedAt = new Date(Date.now() - 1_000);
    sandbox.keys.setExpiry(key, lapsedAt);
    await db!.db.update(odooLink).set({ keyExpiresAt: lapsedAt });
    const refusedBefore = sandbox.keys.refusals;
    const job = await queues.queues.add('sync-run', { family: 'bcs', trigger: 'test' });
    const failure = await queues.events.waitFor(job).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(String(failure)).toContain('API_KEY_EXPIRED');
    expect((await queues.queues.byName.sync.getJob(job.id!))?.attemptsMade).toBe(1);
    expect(sandbox.keys.refusals).toBe(refusedBefore + 1);
  }, 90_000);
});
