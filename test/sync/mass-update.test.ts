/**
 * A mass update in Odoo (a recomputed stored field, an import, a sync resumed after days) puts
 * millions of lines in one run's window. The run's worker must plan it in the memory of a quiet
 * run: here a worker process whose heap is capped well below what holding each changed line
 * would take (about 170 bytes a line) plans a window of three million changed lines, and queues
 * the first wave of its pages (SYNC_RUN_PAGES_IN_FLIGHT), not all of them.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startSandboxProcess, type SandboxProcess } from '../../dev/services/sandbox-process.js';
import { desc } from 'drizzle-orm';
import { syncLog, syncWatermark } from '../../src/db/schema/index.js';
import { BC_LINE_MODEL, BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import { setPaused } from '../../src/sync/sync-state.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import {
  createProducer,
  startWorkerProcess,
  workerEnv,
  type Producer,
} from '../helpers/worker-process.js';

const ORDERS = 30_000;
const LINES_PER_ORDER = 100;
const PAGE_SIZE = 100;
/**
 * V8's old generation of the worker: half of what three million scanned lines would hold. The plan
 * keeps about 35 MB live; a cap of 128 MB held that too, but V8 then marked the old generation
 * back to back (some 500 full collections over the plan), which cost the suite 30 CPU-seconds
 * without proving more.
 */
const WORKER_HEAP_MB = 256;
/** SYNC_RUN_PAGES_IN_FLIGHT: a wave of pages. */
const PAGES_IN_FLIGHT = 100;

/** A process's peak resident memory, from the kernel (VmHWM). */
function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)![1]) / 1_024;
}

describe('a window of three million changed lines', () => {
  let db: TestDb;
  let sandbox: SandboxProcess;
  let producer: Producer;
  let worker: ChildProcess;
  /** Aborted after, so that a process still starting when the hook timed out is killed. */
  const starting = new AbortController();

  beforeAll(async () => {
    [db, sandbox] = await Promise.all([
      createTestDb(),
      startSandboxProcess({
        orders: ORDERS,
        lines: LINES_PER_ORDER,
        nodeOptions: ['--max-old-space-size=8192'],
        signal: starting.signal,
      }),
    ]);
    // A windowed run (the copy has synced before) whose window holds every line Odoo has; the
    // schedule paused so this test's run is the only one.
    await setPaused(db.db, bcsFamily.name, 'test');
    const longAgo = new Date('2000-01-01T00:00:00Z');
    await db.db.insert(syncWatermark).values([
      { family: bcsFamily.name, model: BC_MODEL, watermark: longAgo },
      { family: bcsFamily.name, model: BC_LINE_MODEL, watermark: longAgo },
    ]);
    const prefix = `mass-${randomBytes(4).toString('hex')}`;
    producer = await createProducer(prefix, 'sync');
    // Only the plan is under test: its pages stay queued.
    await producer.queues.byName['sync-page'].pause();
    await producer.queues.byName['sync-record'].pause();
    const env = workerEnv(
      {
        databaseUrl: db.url,
        prefix,
        odoo: {
          url: sandbox.env.ODOO_URL!,
          database: sandbox.env.ODOO_DATABASE!,
          username: sandbox.env.ODOO_USERNAME!,
          password: sandbox.env.ODOO_PASSWORD!,
        },
      },
      {
        ODOO_PROTOCOL: 'jsonrpc',
        ODOO_PAGE_SIZE: String(PAGE_SIZE),
        // Pages of PAGE_SIZE BCs whatever their size: the plan's count is what is checked.
        ODOO_PAGE_MAX_BYTES: '268435456',
        ODOO_TIMEOUT_MS: '120000',
        SYNC_RUN_PAGES_IN_FLIGHT: String(PAGES_IN_FLIGHT),
      },
    );
    ({ child: worker } = await startWorkerProcess(
      env,
      [`--max-old-space-size=${WORKER_HEAP_MB}`],
      starting.signal,
    ));
  }, 300_000);

  afterAll(async () => {
    starting.abort();
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      worker.kill('SIGTERM');
      await once(worker, 'exit');
    }
    await producer?.close();
    await sandbox?.stop();
    await db?.dispose();
  });

  it('is planned by a worker with a small heap: every BC in a page, the worker alive', async () => {
    const run = await producer.queues.add('sync-run', { family: bcsFamily.name, trigger: 'test' });
    await vi.waitFor(
      async () => {
        expect(worker.exitCode, 'the worker died while it planned').toBeNull();
        expect(await run.getState()).toBe('waiting-children');
      },
      { timeout: 300_000, interval: 500 },
    );
    const [planned] = await db.db.select().from(syncLog).orderBy(desc(syncLog.id)).limit(1);
    expect(planned!.pages).toBe(ORDERS / PAGE_SIZE);
    const queued = await producer.queues.byName['sync-page'].getJobCountByTypes(
      'waiting',
      'prioritized',
    );
    expect(queued).toBe(PAGES_IN_FLIGHT);
    const rssMb = peakRssMb(worker.pid!);
    console.log(
      `[mass update] ${ORDERS * LINES_PER_ORDER} changed lines planned into ${planned!.pages} pages, ${PAGES_IN_FLIGHT} queued; worker peak RSS ${rssMb.toFixed(0)} MB (heap capped at ${WORKER_HEAP_MB} MB)`,
    );
  }, 330_000);
});
