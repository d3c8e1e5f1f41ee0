/**
 * The worker as a process, as an orchestrator sees it: its HTTP port answers the probes and
 * Prometheus; a first run shows up in the metrics; then SIGTERM while a page job waits on a slow
 * Odoo: readiness turns 503 at once while liveness holds, the job completes, the process exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { createQueueEvents } from '../../src/queues/queue-events.js';
import { BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import { setPaused } from '../../src/sync/sync-state.js';
import { bearer, KEYS } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import {
  createProducer,
  startWorkerProcess,
  workerEnv,
  type Producer,
} from '../helpers/worker-process.js';
import { commandFile } from '../helpers/commands.js';

const ORDERS = 12;

describe('the worker process', () => {
  let db: TestDb;
  let sandbox: OdooSandbox;
  let producer: Producer;
  let worker: ChildProcess;
  let base: string;
  const prefix = `worker-${randomBytes(4).toString('hex')}`;
  let output: string[] = [];

  beforeAll(async () => {
    db = await createTestDb();
    sandbox = createOdooSandbox({ orders: ORDERS, linesPerOrder: 2, loginCooldown: false });
    await sandbox.start();
    // The scheduler fires at start: a paused schedule keeps this test's runs the only ones.
    await setPaused(db.db, bcsFamily.name, 'test');
    const started = await startWorkerProcess(
      workerEnv(
        { databaseUrl: db.url, prefix, odoo: sandbox },
        {
          HOST: '127.0.0.1',
          SHUTDOWN_TIMEOUT_MS: '20000',
          API_KEYS: [KEYS.reader.entry, KEYS.operator.entry].join(','),
        },
      ),
    );
    worker = started.child;
    output = started.output;
    base = started.started.http as string;
    producer = await createProducer(prefix, 'sync-page');
  }, 60_000);

  afterAll(async () => {
    if (worker.exitCode === null && worker.signalCode === null) {
      worker.kill('SIGKILL');
      await once(worker, 'exit');
    }
    await producer.close();
    await sandbox.stop();
    await db.dispose();
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}${path}`, { headers });
    return { status: response.status, text: await response.text() };
  };
  const metrics = () => get('/metrics', bearer('operator'));
  const metric = async (name: string) =>
    parsePrometheusTextFormat((await metrics()).text).find((family) => family.name === name);

  it('serves its metrics to an operator key only', async () => {
    expect((await get('/metrics')).status).toBe(401);
    expect((await get('/metrics', bearer('reader'))).status).toBe(403);
    const answered = await metrics();
    expect(answered.status).toBe(200);
    expect(answered.text).toContain('erp_bridge_');
  });

  it('answers its probes and shows a finished run in its metrics', async () => {
    expect((await get('/health/live')).status).toBe(200);
    const ready = await get('/health/ready');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toMatchObject({
      status: 'ready',
      parts: { postgres: { status: 'up' }, redis: { status: 'up' }, jobs: { status: 'up' } },
    });

    const run = await producer.queues.add('sync-run', { family: 'bcs', trigger: 'test' });
    const runEvents = await createQueueEvents(producer.queues.backend, producer.queues.byName.sync);
    try {
      expect(await runEvents.waitFor(run)).toMatchObject({ status: 'succeeded' });
    } finally {
      await runEvents.close();
    }

    const written = await metric('erp_bridge_sync_records_written_total');
    expect(written?.metrics).toContainEqual(
      expect.objectContaining({
        labels: { family: 'bcs', action: 'created', source: 'default' },
        value: String(ORDERS),
      }),
    );
    // The parser drops a histogram's labels: read its _count series from the text.
    const text = (await metrics()).text;
    expect(text).toMatch(
      /^erp_bridge_sync_run_duration_seconds_count\{family="bcs",kind="sync",status="succeeded",source="default"\} 1$/m,
    );
    expect(text).toMatch(
      new RegExp(
        `^erp_bridge_odoo_call_duration_seconds_count\\{family="bcs",call="${BC_MODEL}.web_read",outcome="ok",source="default"\\} [1-9]`,
        'm',
      ),
    );
    const jobs = await metric('erp_bridge_queue_jobs');
    expect(jobs?.metrics).toContainEqual({
      labels: { queue: 'sync-page', source: 'default', state: 'completed' },
      value: '1',
    });
    // What the family's calls cost: bytes both ways, under its job's family.
    const bytes = await metric('erp_bridge_odoo_call_bytes_total');
    for (const direction of ['sent', 'received'])
      expect(
        Number(
          bytes?.metrics.find(
            (series) => series.labels?.family === 'bcs' && series.labels.direction === direction,
          )?.value,
        ),
      ).toBeGreaterThan(0);
    expect(await metric('erp_bridge_odoo_budget_pauses_total')).toBeDefined();
    expect(await metric('erp_bridge_odoo_call_retries_total')).toBeDefined();
    expect(await metric('erp_bridge_odoo_call_errors_total')).toBeDefined();
  }, 60_000);

  it('on SIGTERM turns unready at once, finishes the job in flight, and exits 0', async () => {
    sandbox.control.write(BC_MODEL, [1, 2], { notes: 'changed for the second run' });
    sandbox.control.injectFault({
      kind: 'latency',
      latencyMs: 3_000,
      method: 'read',
      model: BC_MODEL,
      times: 1,
    });
    const pageDone = new Promise<string>((resolve) =>
      producer.events.events.on('completed', ({ jobId }) => resolve(jobId)),
    );
    await producer.queues.add('sync-run', { family: 'bcs', trigger: 'test' });
    await sandbox.control.waitForCall({ method: 'read', model: BC_MODEL });

    const exited = once(worker, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    worker.kill('SIGTERM');
    await vi.waitFor(async () => expect((await get('/health/ready')).status).toBe(503), {
      timeout: 1_000,
      interval: 50,
    });
    const unready = JSON.parse((await get('/health/ready')).text) as {
      parts: Record<string, { status: string; error?: string }>;
    };
    expect(unready.parts.process).toEqual({
      status: 'down',
      optional: false,
      error: 'shutting down',
    });
    expect((await get('/health/live')).status).toBe(200);

    expect(await pageDone).toMatch(/^page-/);
    expect(await exited).toEqual([0, null]);
    expect(output.join('\n')).toContain('"msg":"stopped"');
  }, 60_000);
});

describe('a worker whose configured family was never migrated', () => {
  it('copies the other families, and names it in a warning at boot', async () => {
    const db = await createTestDb();
    const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-unmigrated-'));
    const prefix = `unmigrated-${randomBytes(4).toString('hex')}`;
    await setPaused(db.db, bcsFamily.name, 'test');
    const producer = await createProducer(prefix, 'sync');
    try {
      writeFileSync(
        join(dir, 'families.yaml'),
        'families:\n  - name: tags\n    model: res.partner.category\n',
      );
      const started = await startWorkerProcess(
        workerEnv(
          {
            databaseUrl: db.url,
            prefix,
            odoo: { url: 'http://127.0.0.1:9', database: 'odoo', username: 'u', password: 'p' },
          },
          { SYNC_FAMILIES: 'bcs,tags', SYNC_FAMILIES_FILE: join(dir, 'families.yaml') },
        ),
      );
      try {
        expect(started.started).toMatchObject({ families: ['bcs'], waitingForMigrate: ['tags'] });
        const warning = started.output
          .map((line) => JSON.parse(line) as { level: number; msg: string; code?: string })
          .find((line) => line.level === 40 && line.code === 'FAMILY_NOT_MIGRATED');
        expect(warning?.msg).toMatch(/^family tags has no tables yet: run migrate; /);
        // Its schedulers exist: it runs as soon as it is migrated.
        const schedulers = await producer.queues.byName.sync.getJobSchedulers();
        expect(schedulers.map((scheduler) => scheduler.key).sort()).toEqual([
          'sync-every-bcs',
          'sync-every-tags',
        ]);
      } finally {
        started.child.kill('SIGTERM');
        await once(started.child, 'exit');
      }
    } finally {
      await producer.close();
      rmSync(dir, { recursive: true, force: true });
      await db.dispose();
    }
  }, 60_000);

  it('refuses to start when no family at all can be copied, naming it and what to run, and exits 1', async () => {
    const db = await createTestDb();
    const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-unmigrated-'));
    try {
      writeFileSync(
        join(dir, 'families.yaml'),
        'families:\n  - name: tags\n    model: res.partner.category\n',
      );
      const env = workerEnv(
        {
          databaseUrl: db.url,
          prefix: `unmigrated-${randomBytes(4).toString('hex')}`,
          odoo: { url: 'http://127.0.0.1:9', database: 'odoo', username: 'u', password: 'p' },
        },
        { SYNC_FAMILIES_FILE: join(dir, 'families.yaml') },
      );
      const child = spawn(process.execPath, [commandFile('workers/main.ts')], {
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let output = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => (output += chunk));
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(1);
      const fatal = output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: number; msg: string })
        .find((line) => line.level === 60);
      expect(fatal?.msg).toBe(
        'cannot start: FAMILIES_NOT_MIGRATED: record families not ready: family tags has no tables yet: run migrate',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await db.dispose();
    }
  }, 60_000);
});

describe('the worker with an address of its own for its metrics', () => {
  let db: TestDb;
  let sandbox: OdooSandbox;
  let worker: ChildProcess | undefined;

  beforeAll(async () => {
    db = await createTestDb();
    sandbox = createOdooSandbox({ orders: 2, linesPerOrder: 1, loginCooldown: false });
    await sandbox.start();
    await setPaused(db.db, bcsFamily.name, 'test');
  }, 60_000);

  afterAll(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      worker.kill('SIGTERM');
      await once(worker, 'exit');
    }
    await sandbox.stop();
    await db.dispose();
  });

  it('serves them there with no key, and not on its health port', async () => {
    const started = await startWorkerProcess(
      workerEnv(
        { databaseUrl: db.url, prefix: `metrics-${randomBytes(4).toString('hex')}`, odoo: sandbox },
        { HOST: '127.0.0.1', WORKER_METRICS_HOST: '127.0.0.1', WORKER_METRICS_PORT: '0' },
      ),
    );
    worker = started.child;
    const metrics = await fetch(`${started.started.metrics as string}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('erp_bridge_');
    expect((await fetch(`${started.started.http as string}/metrics`)).status).toBe(404);
    expect((await fetch(`${started.started.http as string}/health/live`)).status).toBe(200);
  });
});
