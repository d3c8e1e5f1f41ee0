/**
 * The families on the fleet as it runs in production (test/sync/worker-fleet.test.ts for BCs
 * alone, on a larger copy): three worker processes (separate OS processes, SYNC_FAMILIES naming
 * the rows of test/helpers/family-cases.ts, the configured ones declared in SYNC_FAMILIES_FILE
 * and migrated first) run one sync of each family at once, and one worker is killed with SIGKILL
 * in the middle. Its jobs are taken over, and after one more run of each family every copy equals
 * Odoo: no record lost, none twice, no log row left `running`, and each family with its own
 * lease, state and watermarks.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { asc, eq } from 'drizzle-orm';
import { parse, stringify } from 'yaml';
import { createOdooClient } from '../../src/clients/odoo/index.js';
import { syncLog, syncState, syncWatermark } from '../../src/db/schema/index.js';
import { applyLayouts } from '../../src/families/configured/apply-layouts.js';
import { familyModels, relationScans, type RecordFamily } from '../../src/families/family.js';
import { loadFamilies } from '../../src/families/load-families.js';
import { createLogger } from '../../src/lib/logger.js';
import { setPaused } from '../../src/sync/sync-state.js';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { diffCopyWithSandbox } from '../helpers/copy-diff.js';
import {
  BCS_CASE,
  CYLINDERS_CASE,
  type FamilyCase,
  INVOICES_CASE,
  MOVES_CASE,
  PARTNERS_CASE,
} from '../helpers/family-cases.js';
import { copyRows } from '../helpers/family-copy.js';
import { testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import {
  createProducer,
  startWorkerProcess,
  workerEnv,
  type Producer,
} from '../helpers/worker-process.js';

/**
 * The rows, as fleets sharing one Odoo: a model is one family's at most, so the real 17.0
 * `account.move` runs on a fleet of its own, apart from the `moves` row's.
 */
const FLEETS: readonly (readonly FamilyCase[])[] = [
  [BCS_CASE, PARTNERS_CASE, MOVES_CASE, CYLINDERS_CASE],
  [INVOICES_CASE],
];
const PAGE_SIZE = 100;
/** About twenty pages of each family. */
const ROOTS = 2_000;
/** Twenty slowed pages make a run last over four seconds. */
const READ_LATENCY_MS = 200;
/** Jobs taken over two seconds after their worker died, runs' leases ten. */
const WORKER_SETTINGS = {
  ODOO_PAGE_SIZE: String(PAGE_SIZE),
  SYNC_LEASE_SECONDS: '10',
  SYNC_JOB_LOCK_MS: '2000',
  SYNC_CONCURRENCY: '4',
};

describe.each(FLEETS.map((rows) => [rows.map((c) => c.name).join(', '), rows] as const))(
  '%s on three worker processes, one killed mid-run',
  (_names, rows) => {
    let db: TestDb;
    let sandbox: OdooSandbox;
    let producer: Producer;
    let families: readonly RecordFamily[];
    const workers: ChildProcess[] = [];
    // Made when the fleet starts, not when its tests are collected: a run that filters them out
    // never starts it, nor removes the folder.
    let dir: string;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'erp-bridge-fleet-'));
      db = await createTestDb();
      sandbox = createOdooSandbox({
        ...Object.assign({}, ...rows.map((c) => c.sandbox({ roots: ROOTS, childrenPerRoot: 1 }))),
        loginCooldown: false,
      });
      await sandbox.start();
      // The configured rows' declarations, in the one file every process reads at boot.
      const declared = rows.flatMap((c) =>
        'file' in c.declaration
          ? (parse(c.declaration.file) as { families: unknown[] }).families
          : [],
      );
      const file = join(dir, 'families.yaml');
      writeFileSync(file, stringify({ families: declared }));
      const settings = {
        SYNC_FAMILIES: rows.map((c) => c.name).join(','),
        ...(declared.length > 0 ? { SYNC_FAMILIES_FILE: file } : {}),
      };
      // What `migrate` does before the workers start.
      const config = testConfig(settings).sync.families;
      const logger = createLogger({ level: 'silent', pretty: false });
      const odoo = createOdooClient(
        {
          url: sandbox.url,
          database: sandbox.database,
          username: sandbox.username,
          password: sandbox.password,
          protocol: 'xmlrpc',
          timeoutMs: 10_000,
          retries: 2,
        },
        { logger },
      );
      await applyLayouts(db.db, odoo, config.configured);
      await odoo.close();
      families = (await loadFamilies(db.db, config)).all;
      // The workers' schedulers fire at once: paused schedules keep this test's runs the only ones.
      for (const c of rows) await setPaused(db.db, c.name, 'test');
      const prefix = `fleet-${randomBytes(4).toString('hex')}`;
      const env = workerEnv(
        { databaseUrl: db.url, prefix, odoo: sandbox },
        { ...settings, ...WORKER_SETTINGS },
      );
      const started = await Promise.all([1, 2, 3].map(() => startWorkerProcess(env)));
      workers.push(...started.map((worker) => worker.child));
      producer = await createProducer(prefix, 'sync');
    }, 120_000);

    afterAll(async () => {
      await Promise.all(
        workers
          .filter((worker) => worker.exitCode === null && worker.signalCode === null)
          .map((worker) => {
            const exited = once(worker, 'exit');
            worker.kill('SIGTERM');
            return exited;
          }),
      );
      await producer.close();
      await sandbox.stop();
      await db.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    /** A sync run of the family to its end: its status, `failed` when it failed. */
    const runToEnd = async (name: string) => {
      const job = await producer.queues.add('sync-run', { family: name, trigger: 'test' });
      const result = (await producer.events.waitFor(job).catch(() => ({ status: 'failed' }))) as {
        status: string;
      };
      return result.status;
    };

    it('one is SIGKILLed while the families run: after one more run of each, every copy equals Odoo', async () => {
      const control = sandbox.control;
      // Slowed reads keep every run going until the last has started, however loaded the machine.
      const slowReads = control.injectFault({
        kind: 'latency',
        latencyMs: READ_LATENCY_MS,
        method: 'read',
        times: Infinity,
      });
      const firsts = rows.map((c) => runToEnd(c.name));
      // In the middle of every run: all have started, none has ended.
      await vi.waitFor(
        async () => {
          const running = await db.db.select().from(syncLog).where(eq(syncLog.status, 'running'));
          expect(running.map((row) => row.family).sort()).toEqual(rows.map((c) => c.name).sort());
        },
        { timeout: 60_000, interval: 100 },
      );
      await control.waitForCall({ method: 'read' });
      slowReads.remove();
      workers[0]!.kill('SIGKILL');
      await once(workers[0]!, 'exit');
      // The killed worker's jobs are taken over once their locks expire: each run ends either way.
      for (const status of await Promise.all(firsts))
        expect(['succeeded', 'failed']).toContain(status);

      // One more run of each; while a dead run's lease has not expired, runs are skipped.
      await Promise.all(
        rows.map((c) =>
          vi.waitFor(async () => expect(await runToEnd(c.name)).toBe('succeeded'), {
            timeout: 60_000,
            interval: 1_000,
          }),
        ),
      );

      for (const family of families) {
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
      expect(states.map((state) => state.key)).toEqual(rows.map((c) => c.name).sort());
      for (const state of states)
        expect(state, state.key).toMatchObject({
          isSyncing: false,
          leaseOwner: null,
          lastRunStatus: 'succeeded',
        });
      const watermarks = await db.db.select().from(syncWatermark);
      for (const family of families) {
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
        // And one per one2many a configured family scans on its own, none other.
        const scanned = [
          ...familyModels(family).map((model) => model.model),
          ...relationScans(family).map((scan) => scan.key),
        ];
        for (const mark of watermarks.filter((w) => w.family === family.name))
          expect(scanned, family.name).toContain(mark.model);
      }
    }, 180_000);
  },
);
