/** Admins pause, resume and fully resync through the API; failures are listed a page at a time. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/http/app.js';
import { syncFailure, syncWebhookInbox } from '../../src/db/schema/index.js';
import type { QueueName } from '../../src/queues/catalogue.js';
import { BC_MODEL } from '../../src/families/bcs/family.js';
import { OdooError } from '../../src/clients/odoo/index.js';
import { createCallBudget } from '../../src/odoo-budget/call-budget.js';
import type { RedisQueueStore } from '../../src/stores/queue-store.js';
import { bearer, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

describe('sync controls through the API', () => {
  let h: SyncHarness;
  let app: App;
  beforeAll(async () => {
    h = await createSyncHarness({ sandbox: { orders: 20, linesPerOrder: 2 }, pageSize: 10 });
    app = await buildApp({
      config: testConfig(),
      logger: memoryLogger('warn').logger,
      db: h.db,
      queues: h.runtime.queues,
    });
    await app.ready();
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await app.close();
    await h.dispose();
  });

  const post = (url: string) => app.inject({ method: 'POST', url, headers: bearer('admin') });
  /** A job's result: runs are on `sync`, reconciles and verifies on `sync-reconcile`. */
  const finished = async (jobId: string, queue: QueueName = 'sync') => {
    const job = await h.runtime.queues.byName[queue].getJob(jobId);
    expect(job).toBeDefined();
    return h.wait(job!);
  };

  it('the state shows a fleet-wide pause of the Odoo calls while it lasts', async () => {
    // The API names the link; it is given no secret of it.
    const config = testConfig({
      ODOO_URL: h.sandbox.url,
      ODOO_DATABASE: h.sandbox.database,
      ODOO_USERNAME: h.sandbox.username,
    });
    const shared = {
      kind: 'redis',
      redis: (h.runtime.queues.backend as RedisQueueStore).connection,
      prefix: config.redis.queuePrefix,
    } as const;
    const withOdoo = await buildApp({
      config,
      logger: memoryLogger('warn').logger,
      db: h.db,
      queues: h.runtime.queues,
      shared,
    });
    const state = async () =>
      (await withOdoo.inject({ url: '/api/sync/state', headers: bearer('reader') })).json<{
        odooCallPause: unknown;
      }>().odooCallPause;
    try {
      expect(await state()).toBeNull();
      const budget = createCallBudget({
        shared,
        // A worker's budget of the same Odoo database.
        odoo: { url: h.sandbox.url, database: h.sandbox.database },
        settings: { maxConcurrentCalls: 0, maxCallsPerSecond: 0, leaseMs: 5_000 },
        logger: memoryLogger('warn').logger,
      });
      const permit = await budget.admit('res.partner.read');
      await permit.release(
        new OdooError('ODOO_HTTP', 'HTTP 429', {
          httpStatus: 429,
          retryable: true,
          retryAfterMs: 5_000,
        }),
      );
      expect(await state()).toEqual({ status: 429, remainingMs: expect.any(Number) });
    } finally {
      await withOdoo.close();
    }
  });

  it('pause names the admin and makes scheduled runs skip; resume lets them run again', async () => {
    const paused = await post('/api/sync/pause');
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toMatchObject({
      families: [
        {
          family: 'bcs',
          source: 'default',
          name: 'bcs',
          paused: true,
          pausedAt: expect.any(String),
          pausedBy: expect.stringMatching(/^api:/),
        },
      ],
    });
    expect(
      (await app.inject({ url: '/api/sync/state?family=bcs', headers: bearer('reader') })).json(),
    ).toMatchObject({ families: [{ family: 'bcs', paused: true }] });

    const c = h.sandbox.control;
    const id = c.ids(BC_MODEL)[0]!;
    c.write(BC_MODEL, id, { origin: 'after the pause' });
    await expect(
      h.run('sync-run', { trigger: 'schedule', scheduled: true }),
    ).resolves.toMatchObject({ status: 'paused' });
    expect((await h.copyOf(id)).bc!.origin).not.toBe('after the pause');

    const resumed = await post('/api/sync/resume');
    expect(resumed.statusCode).toBe(200);
    expect(resumed.json()).toMatchObject({
      families: [{ paused: false, pausedAt: null, pausedBy: null }],
    });
    await expect(
      h.run('sync-run', { trigger: 'schedule', scheduled: true }),
    ).resolves.toMatchObject({ status: 'succeeded' });
    expect((await h.copyOf(id)).bc!.origin).toBe('after the pause');
  });

  it("the state names the queues an operator paused in BullMQ (bull-board's pause), apart from the schedule", async () => {
    const state = async () =>
      (await app.inject({ url: '/api/sync/state', headers: bearer('reader') })).json<{
        families: { family: string; paused: boolean; pausedQueues: string[] | null }[];
      }>().families;
    expect(await state()).toEqual([
      expect.objectContaining({ family: 'bcs', paused: false, pausedQueues: [] }),
    ]);
    const pages = h.runtime.queues.byName['sync-page'];
    await pages.pause();
    try {
      expect(await state()).toEqual([
        expect.objectContaining({ family: 'bcs', paused: false, pausedQueues: ['sync-page'] }),
      ]);
    } finally {
      await pages.resume();
    }
    expect(await state()).toEqual([expect.objectContaining({ pausedQueues: [] })]);
  });

  it('full-resync queues a run that reads every BC again, keeping the data and the watermark', async () => {
    const before = await h.watermark();
    const response = await post('/api/sync/full-resync');
    expect(response.statusCode).toBe(202);
    const { jobs } = response.json<{ jobs: { family: string; jobId: string }[] }>();
    expect(jobs.map((job) => job.family)).toEqual(['bcs']);
    const result = await finished(jobs[0]!.jobId);
    expect(result).toMatchObject({
      status: 'succeeded',
      counts: expect.objectContaining({ recordsSeen: 20, created: 0, updated: 0, unchanged: 20 }),
    });
    expect(await h.watermark()).toEqual(before);
    expect((await h.runs())[0]).toMatchObject({ trigger: expect.stringMatching(/^api:/) });
  });

  it('refuses a reconcile or a verify while one is queued, and for the cooldown after one ran, saying when the next may run', async () => {
    const queue = h.runtime.queues.byName['sync-reconcile'];
    // Held in the queue until this test lets it go.
    await queue.pause();
    let jobId: string;
    try {
      const queued = await post('/api/sync/reconcile?family=bcs');
      expect(queued.statusCode).toBe(202);
      jobId = queued.json<{ jobs: { jobId: string }[] }>().jobs[0]!.jobId;
      for (const url of ['/api/sync/reconcile?family=bcs', '/api/sync/reconcile']) {
        const again = await post(url);
        expect([url, again.statusCode]).toEqual([url, 409]);
        expect(again.json()).toMatchObject({
          error: 'RECONCILE_PENDING',
          message: expect.stringContaining(`job ${jobId}`),
        });
      }
    } finally {
      await queue.resume();
    }
    expect(await finished(jobId, 'sync-reconcile')).toMatchObject({ status: 'succeeded' });

    const tooSoon = await post('/api/sync/reconcile');
    expect(tooSoon.statusCode).toBe(409);
    expect(tooSoon.json()).toMatchObject({
      error: 'RECONCILE_TOO_SOON',
      message: expect.stringMatching(/the next may run from \d{4}-\d\d-\d\dT/),
    });
    expect(Number(tooSoon.headers['retry-after'])).toBeGreaterThan(890);
    expect(Number(tooSoon.headers['retry-after'])).toBeLessThanOrEqual(900);

    const verify = await post('/api/sync/verify?all=true');
    expect(verify.statusCode).toBe(202);
    await finished(verify.json<{ jobs: { jobId: string }[] }>().jobs[0]!.jobId, 'sync-reconcile');
    expect((await post('/api/sync/verify')).json()).toMatchObject({ error: 'VERIFY_TOO_SOON' });

    // Without a cooldown, only a reconcile queued or running is refused.
    const eager = await buildApp({
      config: testConfig({ API_RECONCILE_COOLDOWN_SECONDS: '0' }),
      logger: memoryLogger('warn').logger,
      db: h.db,
      queues: h.runtime.queues,
    });
    try {
      const now = await eager.inject({
        method: 'POST',
        url: '/api/sync/reconcile',
        headers: bearer('operator'),
      });
      expect(now.statusCode).toBe(202);
      await finished(now.json<{ jobs: { jobId: string }[] }>().jobs[0]!.jobId, 'sync-reconcile');
    } finally {
      await eager.close();
    }
  });

  it('failures come a page at a time, with the total and a cursor', async () => {
    const now = new Date();
    await h.db.db.insert(syncFailure).values(
      [5, 1, 4, 2, 3].map((odooId) => ({
        family: 'bcs',
        odooId,
        errorCode: 'SYNC_DATA',
        error: `BC ${odooId} cannot be mapped`,
        firstFailedAt: now,
        lastFailedAt: now,
        nextAttemptAt: now,
      })),
    );
    try {
      const page = async (query: string) => {
        const response = await app.inject({
          url: `/api/sync/failures${query}`,
          headers: bearer('reader'),
        });
        expect(response.statusCode).toBe(200);
        return response.json<{
          items: { odooId: number }[];
          total: number;
          nextAfter: string | null;
        }>();
      };
      const first = await page('?limit=2');
      expect(first).toMatchObject({ total: 5, nextAfter: 'bcs/2' });
      expect(first.items.map((item) => item.odooId)).toEqual([1, 2]);
      const second = await page('?family=bcs&limit=2&after=bcs/2');
      expect(second.items.map((item) => item.odooId)).toEqual([3, 4]);
      const last = await page(`?limit=2&after=${second.nextAfter}`);
      expect(last).toMatchObject({ total: 5, nextAfter: null });
      expect(last.items.map((item) => item.odooId)).toEqual([5]);
    } finally {
      await h.db.db.delete(syncFailure);
    }
  });

  it("the inbox's webhook events come a page at a time, oldest first, each with why it waits", async () => {
    const kept = await h.db.db
      .insert(syncWebhookInbox)
      .values([
        {
          family: 'bcs',
          model: BC_MODEL,
          recordId: 7,
          rootId: 7,
          writeDate: '2026-11-27 09:41:07',
          deleted: false,
        },
        { family: 'bcs', model: 'dimagaz.bc.line', recordId: 70, rootId: 7, deleted: true },
        { family: 'bcs', model: BC_MODEL, recordId: 8, deleted: false },
      ])
      .returning({ id: syncWebhookInbox.id });
    try {
      const page = async (query: string) => {
        const response = await app.inject({
          url: `/api/sync/webhooks${query}`,
          headers: bearer('reader'),
        });
        expect(response.statusCode).toBe(200);
        return response.json<{
          items: Record<string, unknown>[];
          total: number;
          nextAfter: number | null;
        }>();
      };
      const first = await page('?limit=2');
      expect(first).toMatchObject({ total: 3, nextAfter: kept[1]!.id });
      expect(first.items).toEqual([
        {
          id: kept[0]!.id,
          family: 'bcs',
          source: 'default',
          model: BC_MODEL,
          recordId: 7,
          rootId: 7,
          writeDate: '2026-11-27 09:41:07',
          deleted: false,
          receivedAt: expect.any(String) as unknown,
          requeues: 0,
          unseenReads: 0,
          dueAt: expect.any(String) as unknown,
        },
        expect.objectContaining({ recordId: 70, rootId: 7, writeDate: null, deleted: true }),
      ]);
      const last = await page(`?family=bcs&limit=2&after=${first.nextAfter}`);
      expect(last).toMatchObject({ total: 3, nextAfter: null });
      expect(last.items).toEqual([expect.objectContaining({ recordId: 8, rootId: null })]);
      const refused = await app.inject({
        url: '/api/sync/webhooks?after=0',
        headers: bearer('reader'),
      });
      expect(refused.statusCode).toBe(400);
    } finally {
      await h.db.db.delete(syncWebhookInbox);
    }
  });
});
