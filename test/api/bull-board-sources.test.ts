/**
 * bull-board keeps a key's sources (docs/sources.md, "Keys limited to sources"): an admin key
 * limited to acme, probing every route of bull-board's API over HTTP on 127.0.0.1 as an attacker
 * would, sees acme's queues alone (never the deployment's `feed`, nor Redis's details), reads its
 * jobs, and changes nothing at all — not another source's jobs, queues and schedulers, and not its
 * own either (adding a job, editing a job's data, retrying, removing, pausing: through the API's
 * routes, which check what they are given). An admin key of every source keeps the whole board.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Worker, type Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateApiKey } from '../../src/config/api-keys.js';
import { bcsFamily } from '../../src/families/bcs/family.js';
import { createFamilies } from '../../src/families/registry.js';
import { buildApp, type App } from '../../src/http/app.js';
import { redisQueues } from '../../src/stores/queue-store.js';
import { createQueues, type Queues } from '../../src/queues/queues.js';
import { acmeBcs } from '../helpers/acme-source.js';
import { launchBrowser } from '../helpers/browser.js';
import { KEYS, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const acmeAdmin = generateApiKey('acme-ops', 'admin');
const basic = (key: string) => ({
  authorization: `Basic ${Buffer.from(`anyone:${key}`).toString('base64')}`,
});

/** A job of each state a write may aim at, on `queue`, with ids of their own. */
async function seedJobs(queue: Queue, connection: Redis, family: string): Promise<void> {
  const data = { family, trigger: 'probe' };
  await queue.add('sync-run', data, { jobId: 'probe-failed' });
  // Taken and failed by hand: a worker that runs nothing.
  const worker = new Worker(queue.name, undefined, {
    connection,
    prefix: queue.opts.prefix,
    autorun: false,
  });
  try {
    const taken = await worker.getNextJob('probe-token');
    await taken.moveToFailed(new Error('failed for the probe'), 'probe-token', false);
  } finally {
    await worker.close();
  }
  await queue.add('sync-run', data, { jobId: 'probe-waiting' });
  await queue.add('sync-run', data, { jobId: 'probe-delayed', delay: 3_600_000 });
  await queue.upsertJobScheduler(
    'probe-scheduler',
    { every: 3_600_000 },
    { name: 'sync-run', data },
  );
}

/** Everything a write could change on a queue: its jobs (state, data), pause, schedulers. */
async function stateOf(queue: Queue) {
  const jobs = await queue.getJobs(['waiting', 'delayed', 'failed', 'completed', 'active']);
  return {
    paused: await queue.isPaused(),
    counts: await queue.getJobCounts(),
    jobs: await Promise.all(
      jobs
        .filter((job) => job.id?.startsWith('probe-'))
        .sort((a, b) => (a.id! < b.id! ? -1 : 1))
        .map(async (job) => ({ id: job.id, state: await job.getState(), data: job.data })),
    ),
    schedulers: (await queue.getJobSchedulers()).map((scheduler) => scheduler.key),
  };
}

describe('bull-board for a key limited to sources', () => {
  let db: TestDb;
  let app: App;
  let base: string;
  let connection: Redis;
  let blocking: Redis;
  let queues: Queues;
  const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-board-'));

  beforeAll(async () => {
    db = await createTestDb();
    connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
    blocking = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    queues = createQueues({
      logger: memoryLogger('warn').logger,
      backend: redisQueues(connection, `test-${randomBytes(5).toString('hex')}`),
      settings: { attempts: 1, backoffMs: 10 },
      sources: ['acme', 'globex'],
    });
    await seedJobs(queues.byName.sync, blocking, 'bcs');
    await seedJobs(queues.of('acme').sync, blocking, 'acme.bcs');
    await seedJobs(queues.of('globex').sync, blocking, 'globex.bcs');
    await queues.byName.feed.add('feed-deliver', { subscription: 1 }, { jobId: 'probe-feed' });
    const file = join(dir, 'sources.yaml');
    writeFileSync(
      file,
      ['acme', 'globex']
        .map(
          (name) =>
            `  - { name: ${name}, odoo: { url: "http://127.0.0.1:9/${name}", database: ${name}, username: sync, password: { env: UNSET_${name} } } }`,
        )
        .join('\n')
        .replace(/^/, 'sources:\n'),
    );
    app = await buildApp({
      config: testConfig({
        SYNC_SOURCES_FILE: file,
        API_KEYS: [...Object.values(KEYS).map((k) => k.entry), `${acmeAdmin.entry}:acme`].join(','),
      }),
      logger: memoryLogger('warn').logger,
      db,
      queues,
      families: createFamilies([bcsFamily, acmeBcs]),
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.close();
    await Promise.all((queues?.all ?? []).map((queue) => queue.obliterate({ force: true })));
    await queues?.close();
    await blocking?.quit();
    await connection?.quit();
    await db?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (method: string, path: string, key: string, body?: unknown) =>
    fetch(`${base}/admin/queues${path}`, {
      method,
      headers: {
        ...basic(key),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const listed = async (key: string) => {
    const response = await call('GET', '/api/queues', key);
    expect(response.status).toBe(200);
    return (
      (await response.json()) as {
        queues: { name: string; readOnlyMode: boolean; allowRetries: boolean }[];
      }
    ).queues;
  };

  it("lists a limited key's sources' queues alone, read-only, and every queue to a key of every source", async () => {
    const acme = await listed(acmeAdmin.key);
    expect(acme.map((queue) => queue.name).sort()).toEqual(
      ['sync', 'sync-page', 'sync-reconcile', 'sync-record', 'sync-webhook'].map(
        (kind) => `acme.${kind}`,
      ),
    );
    for (const queue of acme)
      expect(queue).toMatchObject({ readOnlyMode: true, allowRetries: false });
    const all = await listed(KEYS.admin.key);
    expect(all.map((queue) => queue.name)).toEqual(
      expect.arrayContaining(['feed', 'sync', 'acme.sync', 'globex.sync']),
    );
    expect(all.find((queue) => queue.name === 'sync')).toMatchObject({ readOnlyMode: false });
    const schedulers = (await (await call('GET', '/api/job-schedulers', acmeAdmin.key)).json()) as {
      schedulers: { queueName: string }[];
    };
    expect(new Set(schedulers.schedulers.map((s) => s.queueName))).toEqual(new Set(['acme.sync']));
    // Its own jobs, data included, it reads.
    const own = await call('GET', '/api/queues/acme.sync/probe-waiting', acmeAdmin.key);
    expect(own.status).toBe(200);
    expect(JSON.stringify(await own.json())).toContain('acme.bcs');
  });

  it("reads nothing of another source's queues, the feed's or Redis's", async () => {
    for (const queue of ['sync', 'globex.sync', 'feed']) {
      const job = queue === 'feed' ? 'probe-feed' : 'probe-waiting';
      for (const path of [
        `/api/queues/${queue}/${job}`,
        `/api/queues/${queue}/${job}/logs`,
        `/api/queues/${queue}/${job}/flow`,
        `/api/queues/${queue}/metrics`,
        `/api/queues/${queue}/workers`,
        `/api/queues/${queue}/default-job-options`,
        `/api/queues/${queue}/rate-limit`,
        `/api/queues/${queue}/job-data-schema`,
        `/api/job-schedulers?queueName=${queue}`,
        `/api/queues?activeQueue=${queue}&status=latest`,
      ]) {
        const response = await call('GET', path, acmeAdmin.key);
        const text = await response.text();
        expect(text, path).not.toMatch(/"(bcs|globex\.bcs)"|probe-(waiting|feed)|"feed"/);
        if (!path.startsWith('/api/queues?') && !path.startsWith('/api/job-schedulers'))
          expect([path, response.status]).toEqual([path, 404]);
      }
    }
    // However the path spells it: the router decodes it before it matches it.
    for (const path of ['/api/redis/stats', '/api/redis/%73tats', '/api/%72edis/st%61ts']) {
      const stats = await call('GET', path, acmeAdmin.key);
      expect([path, stats.status]).toEqual([path, 403]);
      expect(await stats.json()).toMatchObject({ error: 'FORBIDDEN' });
    }
    expect((await call('GET', '/api/redis/stats', KEYS.admin.key)).status).toBe(200);
  });

  it("changes nothing through any write of the board, another source's or its own", async () => {
    const targets = [
      queues.byName.sync,
      queues.of('acme').sync,
      queues.of('globex').sync,
      queues.byName.feed,
    ];
    const before = await Promise.all(targets.map(stateOf));
    const writes: [string, string, unknown?][] = [
      ['PUT', '/api/queues/pause'],
      ['PUT', '/api/queues/resume'],
    ];
    for (const queue of ['sync', 'acme.sync', 'globex.sync', 'feed'])
      writes.push(
        ['POST', `/api/queues/${queue}/add`, { name: 'sync-run', data: { family: 'globex.bcs' } }],
        ['PATCH', `/api/queues/${queue}/probe-waiting/update-data`, { data: { family: 'bcs' } }],
        ['PATCH', `/api/queues/${queue}/probe-delayed/delay`, { delay: 1 }],
        ['PATCH', `/api/queues/${queue}/probe-waiting/priority`, { priority: 1 }],
        ['PUT', `/api/queues/${queue}/probe-failed/retry`],
        ['PUT', `/api/queues/${queue}/retry/failed`],
        ['PUT', `/api/queues/${queue}/probe-delayed/promote`],
        ['PUT', `/api/queues/${queue}/promote`],
        ['PUT', `/api/queues/${queue}/probe-waiting/clean`],
        ['PUT', `/api/queues/${queue}/clean/failed`],
        ['PUT', `/api/queues/${queue}/probe-waiting/remove-unprocessed-children`],
        ['PUT', `/api/queues/${queue}/empty`],
        ['PUT', `/api/queues/${queue}/obliterate`, { force: true }],
        ['PUT', `/api/queues/${queue}/pause`],
        ['PUT', `/api/queues/${queue}/resume`],
        ['PUT', `/api/queues/${queue}/concurrency`, { concurrency: 1 }],
        ['PUT', `/api/queues/${queue}/rate-limit`, { max: 1, duration: 1_000 }],
        ['PUT', `/api/queues/${queue}/rate-limit/release`],
        ['PUT', `/api/queues/${queue}/job-schedulers/probe-scheduler/remove`],
        ['PUT', `/api/queues/${queue}/job-schedulers/probe-scheduler/run`],
        ['PATCH', `/api/queues/${queue}/job-schedulers/probe-scheduler`, { every: 1_000 }],
      );
    for (const [method, path, body] of writes) {
      const response = await call(method, path, acmeAdmin.key, body);
      expect([method, path, response.status]).toEqual([method, path, 403]);
      expect(await response.json()).toMatchObject({
        error: 'FORBIDDEN',
        message: expect.stringMatching(/read-only/) as unknown,
      });
    }
    expect(await Promise.all(targets.map(stateOf))).toEqual(before);
  });

  it('offers a limited key no action on its own queue in the page, where a key of every source has them', async () => {
    // Each action's button, by its icon: retry (a job, all), duplicate, edit the data, remove or
    // clean, and the queue's menu (add a job, pause, empty, obliterate…).
    const ACTIONS = [
      'lucide-refresh-cw',
      'lucide-files',
      'lucide-pencil',
      'lucide-trash',
      'lucide-ellipsis-vertical',
    ];
    const browser = await launchBrowser();
    try {
      const offered = async (key: string) => {
        const context = await browser.newContext({
          httpCredentials: { username: 'anyone', password: key },
        });
        try {
          const page = await context.newPage();
          await page.goto(`${base}/admin/queues/queue/acme.sync?status=failed`);
          // The failed job, open with its error: drawn in the same render as its actions and the
          // queue's (one answer of the board's API holds the queue, its flags and its jobs).
          await page.getByText('failed for the probe').first().waitFor({ timeout: 10_000 });
          const shown = await Promise.all(
            ACTIONS.map(
              async (action) => (await page.locator(`button svg[class*="${action}"]`).count()) > 0,
            ),
          );
          return ACTIONS.filter((_, at) => shown[at]);
        } finally {
          await context.close();
        }
      };
      expect(await offered(KEYS.admin.key)).toEqual(ACTIONS);
      expect(await offered(acmeAdmin.key)).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
