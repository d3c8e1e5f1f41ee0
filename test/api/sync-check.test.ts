/**
 * `GET /api/sync/check`: the API holds no Odoo key, so a worker copying the source checks its
 * Odoo (the `check-odoo` job) and the API answers its report as JSON, the same report
 * `npm run sync -- check --json` prints. An operator's key; a key limited to sources checks only
 * those; no worker, no answer: a FAIL line that says so. The API is built as `npm start` builds
 * it (createApi: its queues on the fail-fast connection a producer has), the worker is a process
 * of its own; no caller can make the checks cost more than one at a time per source, nor keep a
 * run waiting.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import type { CheckReport } from '../../src/check/check-report.js';
import { generateApiKey } from '../../src/config/api-keys.js';
import { checkThroughWorker } from '../../src/http/worker-check.js';
import { createApi } from '../../src/create-api.js';
import type { App } from '../../src/http/app.js';
import { createShutdown, type Shutdown } from '../../src/lib/shutdown.js';
import { bcsFamily } from '../../src/families/bcs/family.js';
import { setPaused } from '../../src/sync/sync-state.js';
import { acmeSourceEnv } from '../helpers/acme-source.js';
import { bearer, KEYS, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import {
  createProducer,
  startWorkerProcess,
  workerEnv,
  type Producer,
  type WorkerProcess,
} from '../helpers/worker-process.js';

const DAY_MS = 86_400_000;
/** A model only the check reads (its key's expiry), none of the runs. */
const KEYS_MODEL = 'res.users.apikeys';

describe('GET /api/sync/check', () => {
  let db: TestDb;
  let sandbox: OdooSandbox;
  let worker: WorkerProcess;
  let producer: Producer;
  let app: App;
  let shutdown: Shutdown;
  /** The API's configuration, as its process reads it from the environment. */
  let apiEnv: Record<string, string>;
  /** A key that reads source acme only: the default one is not its. */
  const acmeOnly = (() => {
    const made = generateApiKey('acme-ops', 'operator');
    return { key: made.key, entry: `${made.entry}:acme` };
  })();
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'erp-bridge-check-api-'));
    db = await createTestDb();
    sandbox = createOdooSandbox({ serverVersion: '20.0', orders: 3, loginCooldown: false });
    await sandbox.start();
    const key = sandbox.keys.add({ expiresAt: new Date(Date.now() + 60 * DAY_MS) });
    const prefix = `check-${randomBytes(4).toString('hex')}`;
    // The schedulers fire at start: a paused schedule keeps the worker's slots for the check.
    await setPaused(db.db, bcsFamily.name, 'test');
    worker = await startWorkerProcess(
      workerEnv({ databaseUrl: db.url, prefix, odoo: sandbox }, { ODOO_API_KEY: key }),
    );
    producer = await createProducer(prefix, 'sync');
    // The API names the default source's Odoo and holds none of its secrets.
    apiEnv = {
      // acme: a source of the file, for a key limited to it.
      ...acmeSourceEnv(dir, sandbox),
      ODOO_URL: sandbox.url,
      ODOO_DATABASE: sandbox.database,
      ODOO_USERNAME: sandbox.username,
      REDIS_URL: inject('redisUrl'),
      QUEUE_PREFIX: prefix,
      API_KEYS: [...Object.values(KEYS).map((one) => one.entry), acmeOnly.entry].join(','),
    };
    ({ app, shutdown } = await startApi());
  }, 120_000);
  /** An API process's app, as src/server.ts builds it from `apiEnv`; its shutdown closes it. */
  const startApi = async () => {
    const { logger } = memoryLogger('warn');
    const stop = createShutdown(logger, 10_000);
    const made = await createApi({ config: testConfig(apiEnv), logger, db, shutdown: stop });
    return { app: made, shutdown: stop };
  };
  afterAll(async () => {
    await shutdown?.run('test');
    const child: ChildProcess | undefined = worker?.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await producer?.close();
    await sandbox?.stop();
    await db?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers the worker's check of the default source, as the CLI prints it", async () => {
    // (acme's Odoo has no worker here: without ?source= its section would wait for one.)
    const answer = await app.inject({
      method: 'GET',
      url: '/api/sync/check?source=default',
      headers: bearer('operator'),
    });
    expect(answer.statusCode, answer.body).toBe(200);
    const report = answer.json<CheckReport>();
    expect(report.ok).toBe(true);
    expect(report.sections).toHaveLength(1);
    const [section] = report.sections;
    expect(section).toMatchObject({
      kind: 'odoo',
      source: 'default',
      target: `${sandbox.url}, database ${sandbox.database}, user ${sandbox.username}`,
    });
    const byTopic = Object.fromEntries(section!.lines.map((line) => [line.topic, line]));
    expect(byTopic).toMatchObject({
      version: { status: 'ok', text: 'Odoo 20.0 (series 20.0)' },
      // The worker's key, not the API's: the API has none.
      credentials: { status: 'ok', text: expect.stringContaining('with its API key') },
      'family bcs': { status: 'ok' },
    });
    expect(section!.calls).toBeGreaterThan(0);
  }, 120_000);

  it('says what the worker found wrong: a model the sync user may not read is a FAIL', async () => {
    const check = (api: App) =>
      api.inject({
        method: 'GET',
        url: '/api/sync/check?source=default',
        headers: bearer('operator'),
      });
    // An answer of the last 15 s stands: this API process asked a moment ago.
    expect((await check(app)).json<CheckReport>().ok).toBe(true);
    sandbox.control.denyRead({ model: 'dimagaz.bc' });
    const fresh = await startApi();
    try {
      expect((await check(app)).json<CheckReport>().ok).toBe(true);
      // Another API process asks the worker now.
      const answer = await check(fresh.app);
      expect(answer.statusCode).toBe(200);
      expect(answer.json<CheckReport>()).toMatchObject({
        ok: false,
        sections: [
          {
            lines: expect.arrayContaining([
              expect.objectContaining({ status: 'fail', topic: 'family bcs' }),
            ]) as unknown,
          },
        ],
      });
    } finally {
      sandbox.control.allowRead('dimagaz.bc');
      await fresh.shutdown.run('test');
    }
  }, 120_000);

  /** The check jobs the worker ran so far. */
  const checksRun = async () =>
    (await producer.queues.of('default').sync.getJobs(['completed', 'failed'])).filter(
      (job) => job.name === 'check-odoo',
    ).length;

  it('runs one check per source however many callers, on however many API processes', async () => {
    // Two API processes that have not checked yet.
    const [one, other] = [await startApi(), await startApi()];
    // The check's read of the user's keys answers late: every request below comes meanwhile.
    const slow = sandbox.control.injectFault({
      kind: 'latency',
      latencyMs: 2_000,
      model: KEYS_MODEL,
    });
    try {
      const before = await checksRun();
      const answers = await Promise.all(
        [one.app, one.app, one.app, other.app, other.app].map((api) =>
          api.inject({ url: '/api/sync/check?source=default', headers: bearer('operator') }),
        ),
      );
      expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 200, 200]);
      expect(new Set(answers.map((answer) => answer.body)).size).toBe(1);
      expect(answers[0]!.json<CheckReport>().ok).toBe(true);
      expect(slow.triggered).toBe(1);
      expect((await checksRun()) - before).toBe(1);
    } finally {
      slow.remove();
      await one.shutdown.run('test');
      await other.shutdown.run('test');
    }
  }, 120_000);

  it('keeps no run waiting while the checks of an Odoo that hangs wait for it', async () => {
    const apis = [await startApi(), await startApi()];
    // Two checks' reads of the user's keys hang, far longer than the run below takes.
    const hang = sandbox.control.injectFault({
      kind: 'latency',
      latencyMs: 45_000,
      model: KEYS_MODEL,
      times: 2,
    });
    const inOdoo = sandbox.control.waitForCall({ model: KEYS_MODEL });
    let checked = false;
    const checks = Promise.all(
      apis.map(({ app: api }) =>
        api.inject({ url: '/api/sync/check?source=default', headers: bearer('operator') }),
      ),
    ).finally(() => (checked = true));
    try {
      await inOdoo;
      await setPaused(db.db, bcsFamily.name, null);
      const asked = await app.inject({
        method: 'POST',
        url: '/api/sync/run',
        headers: bearer('operator'),
      });
      expect(asked.statusCode, asked.body).toBe(202);
      const [queued] = asked.json<{ jobs: { jobId: string }[] }>().jobs;
      const run = await producer.queues.of('default').sync.getJob(queued!.jobId);
      await producer.events.waitFor(run!);
      // The run was done while the check still waited for Odoo: it took no slot of the runs'.
      expect(checked).toBe(false);
      expect(hang.triggered).toBe(1);
    } finally {
      hang.remove();
      await setPaused(db.db, bcsFamily.name, 'test');
      await checks;
      for (const one of apis) await one.shutdown.run('test');
    }
  }, 120_000);

  it('is for operators, and a key checks only the sources it reads', async () => {
    const asReader = await app.inject({
      method: 'GET',
      url: '/api/sync/check',
      headers: bearer('reader'),
    });
    expect(asReader.statusCode).toBe(403);
    const otherSource = await app.inject({
      method: 'GET',
      url: '/api/sync/check?source=default',
      headers: { authorization: `Bearer ${acmeOnly.key}` },
    });
    expect(otherSource.statusCode).toBe(403);
    const nowhere = await app.inject({
      method: 'GET',
      url: '/api/sync/check?source=nowhere',
      headers: bearer('operator'),
    });
    expect(nowhere.statusCode).toBe(404);
  });

  it('says so when no worker of the source answers', async () => {
    // A queue prefix no worker listens on: nothing will ever take the job.
    const lonely = await createProducer(`nobody-${randomBytes(4).toString('hex')}`, 'sync');
    try {
      const section = await checkThroughWorker({
        queues: lonely.queues,
        source: 'default',
        target: 'the default source',
        waitMs: 1_000,
      });
      expect(section.lines).toEqual([
        expect.objectContaining({
          status: 'fail',
          topic: 'worker',
          text: 'no worker of source default ran the check within 1 s',
        }),
      ]);
      // Not left for a worker that would come later.
      expect(await lonely.queues.of('default').sync.getJobCounts('waiting')).toEqual({
        waiting: 0,
      });
    } finally {
      await lonely.close();
    }
  });
});
