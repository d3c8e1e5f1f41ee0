/** What operators can do to the schedule: pause it, resume it, and ask for a full resync. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import { setPaused } from '../../src/sync/sync-state.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

describe('operator controls', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({ sandbox: { orders: 30, linesPerOrder: 2 }, pageSize: 10 });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('while paused, scheduled runs and reconciles do nothing; runs asked for by a person still run', async () => {
    const c = h.sandbox.control;
    c.write(BC_MODEL, c.ids(BC_MODEL)[0]!, { origin: 'while paused' });
    await setPaused(h.db.db, bcsFamily.name, 'test');
    const runsBefore = (await h.runs()).length;
    await expect(
      h.run('sync-run', { trigger: 'schedule', scheduled: true }),
    ).resolves.toMatchObject({ status: 'paused' });
    await expect(
      h.run('reconcile', { trigger: 'schedule', scheduled: true }),
    ).resolves.toMatchObject({ status: 'paused' });
    expect((await h.runs()).length).toBe(runsBefore);
    expect((await h.copyOf(c.ids(BC_MODEL)[0]!)).bc!.origin).not.toBe('while paused');

    await expect(h.run('sync-run', { trigger: 'api' })).resolves.toMatchObject({
      status: 'succeeded',
    });
    await setPaused(h.db.db, bcsFamily.name, null);
    await expect(
      h.run('sync-run', { trigger: 'schedule', scheduled: true }),
    ).resolves.toMatchObject({ status: 'succeeded' });
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('a full resync reads every BC again and keeps the data', async () => {
    const before = await h.watermark();
    const result = await h.run('sync-run', { trigger: 'api', full: true });
    expect(result).toMatchObject({
      status: 'succeeded',
      counts: expect.objectContaining({ recordsSeen: 30, created: 0, updated: 0, unchanged: 30 }),
    });
    expect(await h.watermark()).toEqual(before);
    expect(await h.bcRows()).toHaveLength(30);
  });
});
