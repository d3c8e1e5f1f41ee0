/**
 * A subscription of FEED_SUBSCRIPTIONS_FILE outlives every worker that lacks the file: two worker
 * processes, one with the file and one without (a Deployment of its own for one family, an older
 * copy of the file in a rolling update), and a receiver that must get every change. A worker
 * without the file deletes nothing and warns; its cursor survives a restart of the worker with
 * the file, so no change made meanwhile is skipped.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { startFeedReceiver, type FeedReceiver } from '../../dev/services/feed-receiver.js';
import { syncAudit, syncFeedSubscription } from '../../src/db/schema/index.js';
import { BC_MODEL } from '../../src/families/bcs/family.js';
import { generateSecret } from '../../src/feed/secret.js';
import { setPaused } from '../../src/sync/sync-state.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import {
  createProducer,
  startWorkerProcess,
  workerEnv,
  type Producer,
  type WorkerProcess,
} from '../helpers/worker-process.js';

describe('a subscription of the file, and a worker without the file', () => {
  let db: TestDb;
  let sandbox: OdooSandbox;
  let producer: Producer;
  let receiver: FeedReceiver;
  let dir: string;
  const workers: ChildProcess[] = [];
  const secret = generateSecret();
  let withFile: NodeJS.ProcessEnv;
  let withoutFile: NodeJS.ProcessEnv;

  const start = async (env: NodeJS.ProcessEnv): Promise<WorkerProcess> => {
    const worker = await startWorkerProcess(env);
    workers.push(worker.child);
    return worker;
  };
  const stop = async (child: ChildProcess) => {
    child.kill('SIGTERM');
    await once(child, 'exit');
  };
  const run = async () => {
    const job = await producer.queues.add('sync-run', { family: 'bcs', trigger: 'test' });
    expect(await producer.events.waitFor(job)).toMatchObject({ status: 'succeeded' });
  };
  const edit = (round: string) => {
    for (const id of sandbox.control.ids(BC_MODEL).slice(0, 5))
      sandbox.control.write(BC_MODEL, id, { origin: `${round} ${id}` });
  };

  beforeAll(async () => {
    db = await createTestDb();
    // The workers' schedulers fire at once: a paused schedule keeps this test's runs the only ones.
    await setPaused(db.db, 'bcs', 'test');
    sandbox = createOdooSandbox({ orders: 10, linesPerOrder: 2, loginCooldown: false });
    await sandbox.start();
    receiver = await startFeedReceiver({ secret });
    dir = mkdtempSync(join(tmpdir(), 'erp-bridge-subscriptions-'));
    const file = join(dir, 'subscriptions.yaml');
    writeFileSync(
      file,
      `subscriptions:\n  - { name: portal, url: "${receiver.url}", secret: "${secret}" }\n`,
    );
    const prefix = `subs-${randomBytes(4).toString('hex')}`;
    // The receiver listens on loopback: allowed explicitly, as a deployment would its own.
    withoutFile = workerEnv(
      { databaseUrl: db.url, prefix, odoo: sandbox },
      { FEED_ALLOWED_HOSTS: '127.0.0.1' },
    );
    withFile = { ...withoutFile, FEED_SUBSCRIPTIONS_FILE: file };
    producer = await createProducer(prefix, 'sync');
  }, 60_000);

  afterAll(async () => {
    for (const worker of workers)
      if (worker.exitCode === null && worker.signalCode === null) await stop(worker);
    await producer.close();
    await receiver.close();
    await sandbox.stop();
    await db.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gets every change though a worker without the file started, and the one with it restarted', async () => {
    const first = await start(withFile);
    await run();
    edit('before the worker without the file');
    await run();

    const other = await start(withoutFile);
    edit('while a worker without the file runs');
    await run();
    // A rolling update: the worker with the file starts again.
    await stop(first.child);
    await start(withFile);
    edit('after the restart');
    await run();

    const expected = (
      await db.db
        .select({ id: syncAudit.id })
        .from(syncAudit)
        .where(eq(syncAudit.family, 'bcs'))
        .orderBy(asc(syncAudit.id))
    ).map((row) => `chg_${row.id}`);
    expect(expected.length).toBeGreaterThan(30);
    // Delivered in commit order: once the last change came, every earlier one came before it.
    await receiver.until(() => receiver.changes.some((change) => change.id === expected.at(-1)));
    expect(receiver.changes.map((change) => change.id).sort()).toEqual([...expected].sort());
    expect(receiver.badSignatures).toEqual([]);
    const [subscription] = await db.db.select().from(syncFeedSubscription);
    expect(subscription).toMatchObject({ name: 'portal', status: 'active' });
    // The worker without the file said it keeps a subscription it does not declare.
    expect(
      other.output.some((line) =>
        line.includes("subscription portal comes from another process's FEED_SUBSCRIPTIONS_FILE"),
      ),
    ).toBe(true);
  }, 120_000);
});
