/**
 * The fleet as it runs in production: three worker processes (separate OS processes) share one
 * run of 20,000 BCs, and one is killed with SIGKILL in the middle. Its jobs are taken over, the
 * run's lease outlives it, and after one more run the copy equals Odoo: no BC lost, none twice,
 * no log row left `running`. And two workers that copy different families (SYNC_FAMILIES): each
 * hands the other's jobs back to it, and neither removes the other's schedulers.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Queue } from 'bullmq';
import { sql } from 'drizzle-orm';
import { syncLog } from '../../src/db/schema/index.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import { partnersFamily } from '../../src/families/partners/family.js';
import { markFamiliesSeen, staggerMinutes } from '../../src/queues/schedules.js';
import { setPaused } from '../../src/sync/sync-state.js';
import { diffCopyWithSandbox } from '../helpers/copy-diff.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import {
  createProducer,
  startWorkerProcess,
  workerEnv,
  type Producer,
} from '../helpers/worker-process.js';

const ORDERS = 20_000;

describe('three worker processes share one run', () => {
  let db: TestDb;
  let sandbox: OdooSandbox;
  let producer: Producer;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    db = await createTestDb();
    sandbox = createOdooSandbox({ orders: ORDERS, linesPerOrder: 1, loginCooldown: false });
    await sandbox.start();
    // The workers' schedulers fire at once: a paused schedule keeps this test's run the only one.
    await setPaused(db.db, bcsFamily.name, 'test');
    const prefix = `fleet-${randomBytes(4).toString('hex')}`;
    const env = workerEnv(
      { databaseUrl: db.url, prefix, odoo: sandbox },
      {
        ODOO_PAGE_SIZE: '250',
        SYNC_LEASE_SECONDS: '10',
        SYNC_JOB_LOCK_MS: '2000',
        SYNC_CONCURRENCY: '4',
      },
    );
    const started = await Promise.all([1, 2, 3].map(() => startWorkerProcess(env)));
    workers.push(...started.map((worker) => worker.child));
    producer = await createProducer(prefix, 'sync');
  }, 120_000);

  afterAll(async () => {
    for (const worker of workers) {
      if (worker.exitCode !== null || worker.signalCode !== null) continue;
      worker.kill('SIGTERM');
      await once(worker, 'exit');
    }
    await producer.close();
    await sandbox.stop();
    await db.dispose();
  });

  const run = async () => {
    const job = await producer.queues.add('sync-run', { family: 'bcs', trigger: 'test' });
    return (await producer.events.waitFor(job).catch((error: Error) => ({
      status: 'failed',
      reason: error.message,
    }))) as { status: string };
  };

  it('one is SIGKILLed mid-run: after the lease expires and one more run, the copy equals Odoo', async () => {
    const first = producer.queues.add('sync-run', { family: 'bcs', trigger: 'test' });
    // A good part of the 80 pages has been read: kill a worker in the middle of its jobs.
    for (let page = 0; page < 20; page += 1)
      await sandbox.control.waitForCall({ method: 'read', model: BC_MODEL });
    workers[0]!.kill('SIGKILL');
    await once(workers[0]!, 'exit');
    // The killed worker's jobs are taken over once their locks expire: the run ends either way.
    const firstResult = (await producer.events
      .waitFor(await first)
      .catch(() => ({ status: 'failed' }))) as { status: string };
    expect(['succeeded', 'failed']).toContain(firstResult.status);

    // One more run; while a dead run's lease has not expired, runs are skipped.
    await vi.waitFor(async () => expect((await run()).status).toBe('succeeded'), {
      timeout: 60_000,
      interval: 1_000,
    });
    expect(await diffCopyWithSandbox(db.db, sandbox.control, bcsFamily)).toEqual([]);
    const [counts] = rowsOf<{ rows: number; ids: number }>(
      await db.db.execute(
        sql`select count(*)::int as rows, count(distinct odoo_id)::int as ids from scrap_dimagaz_bc`,
      ),
    );
    expect(counts).toEqual({ rows: ORDERS, ids: ORDERS });
    const running = await db.db
      .select()
      .from(syncLog)
      .where(sql`${syncLog.status} = 'running'`);
    expect(running).toEqual([]);
  }, 180_000);
});

describe('two workers that copy different families', () => {
  let db: TestDb;
  let sandbox: OdooSandbox;
  const producers: Producer[] = [];
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    db = await createTestDb();
    sandbox = createOdooSandbox({
      orders: 400,
      linesPerOrder: 1,
      partners: 100,
      loginCooldown: false,
    });
    await sandbox.start();
    // The workers' schedulers fire at once: paused schedules keep this test's runs the only ones.
    for (const family of [bcsFamily, partnersFamily]) await setPaused(db.db, family.name, 'test');
  }, 60_000);

  afterAll(async () => {
    for (const worker of workers) {
      if (worker.exitCode !== null || worker.signalCode !== null) continue;
      worker.kill('SIGTERM');
      await once(worker, 'exit');
    }
    for (const producer of producers) await producer.close();
    await sandbox.stop();
    await db.dispose();
  });

  /** A fleet of its own: a queue prefix, and a worker per `SYNC_FAMILIES` started on demand. */
  const fleet = async () => {
    const prefix = `families-${randomBytes(4).toString('hex')}`;
    const producer = await createProducer(prefix, 'sync');
    producers.push(producer);
    return {
      producer,
      start: async (families: string) => {
        const env = workerEnv(
          { databaseUrl: db.url, prefix, odoo: sandbox },
          { SYNC_FAMILIES: families, ODOO_PAGE_SIZE: '25', SYNC_CONCURRENCY: '4' },
        );
        workers.push((await startWorkerProcess(env)).child);
      },
    };
  };

  const schedulers = async (queue: Queue) =>
    Object.fromEntries(
      (await queue.getJobSchedulers()).map((scheduler) => [
        scheduler.key,
        scheduler.pattern ?? scheduler.every,
      ]),
    );

  it('a job of a family the worker does not copy goes back, and runs on a worker that does', async () => {
    const { producer, start } = await fleet();
    await start(partnersFamily.name);
    // Queued while no worker copies the BCs: the worker of partners hands the run back.
    const bcsRun = await producer.queues.add('sync-run', {
      family: bcsFamily.name,
      trigger: 'test',
    });
    await vi.waitFor(
      async () =>
        expect((await producer.queues.byName.sync.getJob(bcsRun.id!))?.data).toMatchObject({
          handedBackAt: expect.any(Number),
        }),
      { timeout: 10_000, interval: 50 },
    );
    await start(bcsFamily.name);

    // Any of its pages the worker of partners takes goes back too.
    await expect(producer.events.waitFor(bcsRun)).resolves.toMatchObject({
      status: 'succeeded',
      counts: { created: 400 },
    });
    const partnersRun = await producer.queues.add('sync-run', {
      family: partnersFamily.name,
      trigger: 'test',
    });
    await expect(producer.events.waitFor(partnersRun)).resolves.toMatchObject({
      status: 'succeeded',
    });
    for (const family of [bcsFamily, partnersFamily])
      expect(await diffCopyWithSandbox(db.db, sandbox.control, family)).toEqual([]);
  }, 120_000);

  it('a job first handed back hours ago goes back again while a worker of its family is seen', async () => {
    const { producer, start } = await fleet();
    await start(partnersFamily.name);
    // A worker of the BCs noted itself a moment ago (it is busy, or restarting): the job was
    // handed back two hours ago, before a long wait of its run, and goes back once more.
    await markFamiliesSeen(db.db, [bcsFamily.name]);
    const bcsRun = await producer.queues.add('sync-run', {
      family: bcsFamily.name,
      trigger: 'test',
      handedBackAt: Date.now() - 2 * 3_600_000,
    });
    await vi.waitFor(
      async () => expect(await producer.queues.byName.sync.getJobState(bcsRun.id!)).toBe('delayed'),
      { timeout: 10_000, interval: 50 },
    );
    await start(bcsFamily.name);
    await expect(producer.events.waitFor(bcsRun)).resolves.toMatchObject({ status: 'succeeded' });
  }, 120_000);

  it('a job of a family no worker has copied for an hour fails, naming it', async () => {
    const { producer, start } = await fleet();
    await start(partnersFamily.name);
    const ghostRun = await producer.queues.add('sync-run', {
      family: 'ghosts',
      trigger: 'test',
      handedBackAt: Date.now() - 2 * 3_600_000,
    });
    await expect(producer.events.waitFor(ghostRun)).rejects.toThrow(
      /FAMILY_NOT_COPIED: no worker has copied family "ghosts" for an hour/,
    );
  }, 60_000);

  it("neither removes the other's schedulers", async () => {
    const { producer, start } = await fleet();
    await start(bcsFamily.name);
    await start(partnersFamily.name);
    expect(await schedulers(producer.queues.byName.sync)).toEqual({
      'sync-every-bcs': 3_600_000,
      'sync-every-partners': 3_600_000,
    });
    // Each family's reconcile at its own minute of the default hour.
    expect(await schedulers(producer.queues.byName['sync-reconcile'])).toEqual({
      'reconcile-daily-bcs': `${staggerMinutes(bcsFamily.name)} 3 * * *`,
      'reconcile-daily-partners': `${staggerMinutes(partnersFamily.name)} 3 * * *`,
    });
  }, 60_000);
});
