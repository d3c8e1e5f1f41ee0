/** Admins pause, resume and fully resync through the API; failures are listed a page at a time. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/http/app.js';
import { syncFailure } from '../../src/db/schema/index.js';
import { BC_MODEL } from '../../src/families/bcs/family.js';
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
  const finished = async (jobId: string) => {
    const job = await h.runtime.queues.byName.sync.getJob(jobId);
    expect(job).toBeDefined();
    return h.wait(job!);
  };

  it('pause names the admin and makes scheduled runs skip; resume lets them run again', async () => {
    const paused = await post('/api/sync/pause');
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toMatchObject({
      families: [
        {
          family: 'bcs',
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
});
