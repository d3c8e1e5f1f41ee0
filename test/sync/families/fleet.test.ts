/**
 * Three families on the fleet as it runs in production (test/sync/worker-fleet.test.ts for BCs
 * alone): three worker processes (separate OS processes, SYNC_FAMILIES=bcs,partners,moves) run
 * one sync of each family at once, and one worker is killed with SIGKILL in the middle. Its jobs
 * are taken over, and after one more run of each family every copy equals Odoo: no record lost,
 * none twice, no log row left `running`, and each family with its own lease, state and
 * watermarks.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { asc, eq } from 'drizzle-orm';
import { syncLog, syncState, syncWatermark } from '../../../src/db/schema/index.js';
import { bcsFamily } from '../../../src/families/bcs/family.js';
import { familyModels, type RecordFamily } from '../../../src/families/family.js';
import { movesFamily } from '../../../src/families/moves/family.js';
import { partnersFamily } from '../../../src/families/partners/family.js';
import { setPaused } from '../../../src/sync/sync-state.js';
import { createOdooSandbox, type OdooSandbox } from '../../../dev/sandbox/odoo-sandbox.js';
import { diffCopyWithSandbox } from '../../helpers/copy-diff.js';
import { copyRows } from '../../helpers/family-copy.js';
import { createTestDb, type TestDb } from '../../helpers/test-db.js';
import {
  createProducer,
  startWorkerProcess,
  workerEnv,
  type Producer,
} from '../../helpers/worker-process.js';

const FAMILIES: readonly RecordFamily[] = [bcsFamily, partnersFamily, movesFamily];
const PAGE_SIZE = 100;
/** Page reads of all three families before the kill: under a quarter of their pages. */
const READS_BEFORE_KILL = 20;

describe('three families on three worker processes, one killed mid-run', () => {
  let db: TestDb;
  let sandbox: OdooSandbox;
  let producer: Producer;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    db = await createTestDb();
    // About 30 pages of each family.
    sandbox = createOdooSandbox({
      orders: 3_000,
      linesPerOrder: 1,
      partners: 2_800,
      moves: 3_000,
      linesPerMove: 2,
      loginCooldown: false,
    });
    await sandbox.start();
    // The workers' schedulers fire at once: paused schedules keep this test's runs the only ones.
    for (const family of FAMILIES) await setPaused(db.db, family.name, 'test');
    const prefix = `fleet-${randomBytes(4).toString('hex')}`;
    const env = workerEnv(
      { databaseUrl: db.url, prefix, odoo: sandbox },
      {
        SYNC_FAMILIES: FAMILIES.map((family) => family.name).join(','),
        ODOO_PAGE_SIZE: String(PAGE_SIZE),
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

  /** A sync run of the family, to its end: its result, or `failed` with the reason. */
  const run = async (family: RecordFamily) => {
    const job = await producer.queues.add('sync-run', { family: family.name, trigger: 'test' });
    return (await producer.events.waitFor(job).catch((error: Error) => ({
      status: 'failed',
      reason: error.message,
    }))) as { status: string };
  };

  it('one is SIGKILLed while the three families run: after one more run of each, every copy equals Odoo', async () => {
    const control = sandbox.control;
    const firsts = FAMILIES.map((family) =>
      producer.queues.add('sync-run', { family: family.name, trigger: 'test' }),
    );
    for (let read = 0; read < READS_BEFORE_KILL; read += 1)
      await control.waitForCall({ method: 'read' });
    // In the middle of the three runs: none has ended.
    const runningAtKill = await db.db.select().from(syncLog).where(eq(syncLog.status, 'running'));
    expect(runningAtKill.map((row) => row.family).sort()).toEqual(
      FAMILIES.map((family) => family.name).sort(),
    );
    workers[0]!.kill('SIGKILL');
    await once(workers[0]!, 'exit');
    // The killed worker's jobs are taken over once their locks expire: each run ends either way.
    const firstResults = await Promise.all(
      firsts.map(
        async (first) =>
          (
            (await producer.events.waitFor(await first).catch(() => ({ status: 'failed' }))) as {
              status: string;
            }
          ).status,
      ),
    );
    for (const status of firstResults) expect(['succeeded', 'failed']).toContain(status);

    // One more run of each; while a dead run's lease has not expired, runs are skipped.
    await Promise.all(
      FAMILIES.map((family) =>
        vi.waitFor(async () => expect((await run(family)).status).toBe('succeeded'), {
          timeout: 60_000,
          interval: 1_000,
        }),
      ),
    );

    for (const family of FAMILIES) {
      expect(await diffCopyWithSandbox(db.db, control, family), family.name).toEqual([]);
      for (const model of familyModels(family)) {
        const ids = (await copyRows(db.db, model)).map((row) => row.odoo_id);
        expect(new Set(ids).size, model.model).toBe(ids.length);
        expect(ids.length, model.model).toBe(control.ids(model.model).length);
      }
    }
    const running = await db.db.select().from(syncLog).where(eq(syncLog.status, 'running'));
    expect(running).toEqual([]);

    // Each family's own lease and state, released; its own watermarks, from its own models.
    const states = await db.db.select().from(syncState).orderBy(asc(syncState.key));
    expect(states.map((state) => state.key)).toEqual(FAMILIES.map((f) => f.name).sort());
    for (const state of states)
      expect(state, state.key).toMatchObject({
        isSyncing: false,
        leaseOwner: null,
        lastRunStatus: 'succeeded',
      });
    const watermarks = await db.db.select().from(syncWatermark);
    for (const family of FAMILIES) {
      for (const model of familyModels(family)) {
        const latest = control
          .records(model.model, { fields: ['write_date'] })
          .map((record) => String(record.write_date))
          .sort()
          .at(-1)!;
        const mark = watermarks.find((w) => w.family === family.name && w.model === model.model);
        expect(mark?.watermark.toISOString(), `${family.name} ${model.model}`).toBe(
          `${latest.replace(' ', 'T')}.000Z`,
        );
      }
    }
    expect(watermarks).toHaveLength(FAMILIES.flatMap(familyModels).length);
  }, 180_000);
});
