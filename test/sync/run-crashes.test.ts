/**
 * What a crash, a stall or a slow job must not do to a run: drop its children, let a second run
 * write alongside it, or leave its log row `running` for ever.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { syncLog, syncState } from '../../src/db/schema/index.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import { BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

describe.each([
  ['while it queues its pages', false],
  ['after it queued its pages, before it saved its state', true],
])('children first, then step state: a worker dies %s', (_when, afterQueuing) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({
      sandbox: { orders: 60, linesPerOrder: 2 },
      pageSize: 10,
      jobLockMs: 1_000,
    });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('another worker takes the run over and every page is synced', async () => {
    const queues = h.runtime.queues;
    const addBulk = queues.addBulk.bind(queues);
    let dying: () => void = () => undefined;
    const died = new Promise<void>((resolve) => (dying = resolve));
    // The worker dies around the queuing of the run's pages: the call never returns.
    (queues as { addBulk: typeof queues.addBulk }).addBulk = async (name, jobs) => {
      if (!String(name).endsWith('page')) return addBulk(name, jobs);
      if (afterQueuing) await addBulk(name, jobs);
      dying();
      return new Promise(() => undefined);
    };

    const run = await h.add('sync-run', { trigger: 'test' });
    await died;
    await Promise.all(h.runtime.workers.map((worker) => worker.close(true)));
    // Another worker of the fleet takes the stalled run over once its lock expires.
    h.spawnRuntime();
    await expect(h.wait(run)).resolves.toMatchObject({ status: 'succeeded' });
    expect(await h.diffWithSandbox()).toEqual([]);
    expect((await h.runs()).map((r) => r.status)).toEqual(['succeeded']);
  });
});

describe('a lease that fences', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({
      sandbox: { orders: 30, linesPerOrder: 2 },
      pageSize: 10,
      leaseSeconds: 2,
    });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  const leasePast = async (expiry: Date) => {
    const [row] = rowsOf<{ past: boolean }>(
      await h.db.db.execute(sql`select now() > ${expiry.toISOString()}::timestamptz as past`),
    );
    return row!.past;
  };

  it('a page longer than the lease keeps it: a run asked for meanwhile is skipped', async () => {
    const c = h.sandbox.control;
    c.write(BC_MODEL, c.ids(BC_MODEL)[0]!, { origin: 'read by a slow page' });
    const slow = c.injectFault({
      kind: 'latency',
      latencyMs: 5_000,
      method: 'read',
      model: BC_MODEL,
    });
    const pageRead = c.waitForCall({ method: 'read', model: BC_MODEL });
    const first = await h.add('sync-run', { trigger: 'slow' });
    await pageRead;
    const expiry = (await h.state()).leaseExpiresAt!;
    // Past the lease the first run took: only its heartbeat keeps it.
    await vi.waitFor(async () => expect(await leasePast(expiry)).toBe(true), {
      timeout: 4_000,
      interval: 100,
    });
    await expect(h.run('sync-run', { trigger: 'meanwhile' })).resolves.toMatchObject({
      status: 'skipped',
    });
    await expect(h.wait(first)).resolves.toMatchObject({ status: 'succeeded' });
    slow.remove();
  });

  it('a run that lost its lease writes nothing more and ends failed', async () => {
    const c = h.sandbox.control;
    const target = c.ids(BC_MODEL)[1]!;
    c.write(BC_MODEL, target, { origin: 'must not be written by the old run' });
    const slow = c.injectFault({
      kind: 'latency',
      latencyMs: 500,
      method: 'read',
      model: BC_MODEL,
    });
    const pageRead = c.waitForCall({ method: 'read', model: BC_MODEL });
    const run = await h.add('sync-run', { trigger: 'test' });
    await pageRead;
    // Another run takes the lease over while the page is reading.
    await h.db.db
      .update(syncState)
      .set({ leaseOwner: 'run-intruder', leaseExpiresAt: sql`now() + interval '1 hour'` })
      .where(eq(syncState.key, bcsFamily.name));

    await expect(h.wait(run)).rejects.toThrow(/failed/);
    slow.remove();
    expect((await h.copyOf(target)).bc!.origin).not.toBe('must not be written by the old run');
    const [last] = await h.runs();
    expect(last!.status).toBe('failed');
    expect(last!.errors.map((e) => e.code)).toContain('SYNC_LEASE_LOST');
    await h.db.db
      .update(syncState)
      .set({ isSyncing: false, leaseOwner: null, leaseExpiresAt: null })
      .where(eq(syncState.key, bcsFamily.name));
  });
});

describe('no orphan rows', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({ sandbox: { orders: 10, linesPerOrder: 1 } });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('the log row of a run whose job is gone is closed by the next run', async () => {
    // A run whose worker died and whose job was removed from the queue by hand.
    const [ghost] = await h.db.db
      .insert(syncLog)
      .values({
        family: 'bcs',
        kind: 'sync',
        trigger: 'schedule',
        status: 'running',
        leaseOwner: 'run-gone',
      })
      .returning();
    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
    const [row] = await h.db.db.select().from(syncLog).where(eq(syncLog.id, ghost!.id));
    expect(row).toMatchObject({ status: 'failed' });
    expect(row!.finishedAt).not.toBeNull();
    expect(row!.errors[0]!.code).toBe('SYNC_RUN_ABANDONED');
    expect((await h.runs()).filter((r) => r.status === 'running')).toEqual([]);
  });
});
