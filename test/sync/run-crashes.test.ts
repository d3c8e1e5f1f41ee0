/**
 * What a crash, a stall or a slow job must not do to a run, in every family
 * (test/helpers/family-cases.ts): drop its children, let a second run write alongside it, let a
 * run that lost the family's lease write on, or leave a log row `running` for ever — and a run
 * closes only its own family's rows.
 */
import { describe, expect, it, vi } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { syncLog, syncState } from '../../src/db/schema/index.js';
import {
  caseCopy,
  createCaseHarness,
  FAMILY_CASES,
  POSTGRES_QUEUE_CASES,
  type FamilyCase,
  neighbourOf,
  useCaseHarness,
} from '../helpers/family-cases.js';

/**
 * The dying worker's job lock: short, since each case waits for it to lapse; it needs to outlive
 * only the few hundred milliseconds its worker lives (renewed every half of it).
 */
const DYING_WORKER_LOCK_MS = 2_000;
/**
 * The lock of the worker that takes the run over, which is also how often it looks for stalled
 * jobs: long enough that no stall of a loaded machine loses it (1 s did: "job stalled more than
 * allowable limit"), short enough that the dead worker's run is found within seconds.
 */
const TAKING_OVER_LOCK_MS = 10_000;

// Each case waits for a dead worker's lock to expire, on a harness of its own: they run at once.
describe('children first, then step state', () => {
  it.concurrent.for(
    [...FAMILY_CASES, ...POSTGRES_QUEUE_CASES].flatMap((c) =>
      (
        [
          ['while it queues its pages', false],
          ['after it queued its pages, before it saved its state', true],
        ] as const
      ).map(
        ([when, afterQueuing]) =>
          [c.name, c.queueBackend ?? 'redis', when, afterQueuing, c] as const,
      ),
    ),
  )(
    'a %s worker (queues on %s) dies %s: another worker takes the run over and every page is synced',
    // Waits for the dead worker's lock, then the taking over worker's look for stalled jobs,
    // with every case at once on a machine that may be loaded: a bound that only waits.
    { timeout: 180_000 },
    async ([, , , afterQueuing, c], { expect, onTestFinished }) => {
      const h = await createCaseHarness(c, {
        size: { roots: 60, childrenPerRoot: 2 },
        pageSize: 10,
        jobLockMs: DYING_WORKER_LOCK_MS,
      });
      onTestFinished(() => h.dispose());
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
      // Another worker of the fleet takes the stalled run over once its lock expires. Its own
      // lock is a healthy worker's: the run it takes over was stalled once already, and a second
      // stall (a lock not renewed in time on a loaded machine) would fail it for good.
      h.spawnRuntime(undefined, undefined, { jobLockMs: TAKING_OVER_LOCK_MS });
      await expect(h.wait(run)).resolves.toMatchObject({
        status: 'succeeded',
        counts: expect.objectContaining({
          recordsSeen: h.sandbox.control.ids(c.rootModel).length,
          failed: 0,
        }),
      });
      expect(await h.diffWithSandbox()).toEqual([]);
      // Whichever execution's pages wrote them, each root was created once.
      const created = (await h.auditRows())
        .filter((a) => a.model === c.rootModel && a.action === 'created')
        .map((a) => a.odooId);
      expect(created.sort((a, b) => a - b)).toEqual(h.sandbox.control.ids(c.rootModel));
      expect((await h.runs()).map((r) => [r.family, r.status])).toEqual([[c.name, 'succeeded']]);
      expect(await h.state()).toMatchObject({ isSyncing: false, leaseOwner: null });
    },
  );
});

function leaseThatFences(c: FamilyCase): void {
  const neighbour = neighbourOf(c);
  const h = useCaseHarness(c, {
    size: { roots: 30, childrenPerRoot: 2 },
    beside: [neighbour],
    pageSize: 10,
    leaseSeconds: 2,
    copied: true,
  });

  const rootText = (id: number) => caseCopy(h, c).rootText(id);

  it('a page longer than the lease keeps it: a run asked for meanwhile is skipped', async () => {
    const control = h.sandbox.control;
    const target = c.standalone(control)[0]!;
    control.write(c.rootModel, target, { [c.rootText]: 'read by a slow page' });
    const { job: first, slow } = await h.addWhileReading(
      'sync-run',
      { trigger: 'slow' },
      // Far past the lease, so that the run asked for below comes while the page still reads on
      // however loaded a machine.
      { model: c.rootModel, latencyMs: 12_000 },
    );
    const expiry = (await h.state()).leaseExpiresAt!;
    // Past the lease the first run took: only its heartbeat keeps it.
    await vi.waitFor(async () => expect(await h.isPast(expiry)).toBe(true), {
      timeout: 10_000,
      interval: 100,
    });
    await expect(h.run('sync-run', { trigger: 'meanwhile' })).resolves.toMatchObject({
      status: 'skipped',
    });
    await expect(h.wait(first)).resolves.toMatchObject({ status: 'succeeded' });
    slow.remove();
    expect(await rootText(target)).toBe('read by a slow page');
  });

  it('a run that lost its lease writes nothing more and ends failed', async () => {
    const control = h.sandbox.control;
    const target = c.standalone(control)[1]!;
    control.write(c.rootModel, target, { [c.rootText]: 'must not be written by the old run' });
    const { job: run, slow } = await h.addWhileReading(
      'sync-run',
      { trigger: 'test' },
      { model: c.rootModel, latencyMs: 500 },
    );
    // Another run takes the family's lease over while the page is reading.
    await h.db.db
      .update(syncState)
      .set({ leaseOwner: 'run-intruder', leaseExpiresAt: sql`now() + interval '1 hour'` })
      .where(eq(syncState.key, c.name));

    await expect(h.wait(run)).rejects.toThrow(/failed/);
    slow.remove();
    expect(await rootText(target)).not.toBe('must not be written by the old run');
    const [last] = await h.runs();
    expect(last).toMatchObject({ family: c.name, status: 'failed' });
    expect(last!.errors.map((e) => e.code)).toContain('SYNC_LEASE_LOST');
    await h.db.db
      .update(syncState)
      .set({ isSyncing: false, leaseOwner: null, leaseExpiresAt: null })
      .where(eq(syncState.key, c.name));
    await h.run('sync-run', { trigger: 'test' });
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it("the log row of a run whose job is gone is closed by its own family's next run, not another's", async () => {
    // Runs whose workers died and whose jobs were removed from the queue by hand.
    const ghost = async (family: string) =>
      (
        await h.db.db
          .insert(syncLog)
          .values({
            family,
            kind: 'sync',
            trigger: 'schedule',
            status: 'running',
            leaseOwner: 'run-gone',
          })
          .returning()
      )[0]!.id;
    const ownGhost = await ghost(c.name);
    const otherGhost = await ghost(neighbour.name);
    const row = async (id: number) =>
      (await h.db.db.select().from(syncLog).where(eq(syncLog.id, id)))[0]!;

    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
    expect(await row(ownGhost)).toMatchObject({ status: 'failed' });
    expect((await row(ownGhost)).finishedAt).not.toBeNull();
    expect((await row(ownGhost)).errors[0]!.code).toBe('SYNC_RUN_ABANDONED');
    // The other family's lease was never taken: its run may still be alive for all this run knows.
    expect(await row(otherGhost)).toMatchObject({ status: 'running' });

    await expect(
      h.run('sync-run', { family: neighbour.name, trigger: 'test' }),
    ).resolves.toMatchObject({ status: 'succeeded' });
    expect((await row(otherGhost)).errors[0]!.code).toBe('SYNC_RUN_ABANDONED');
    expect((await h.runs()).filter((r) => r.status === 'running')).toEqual([]);
    expect(await h.diffWithSandbox()).toEqual([]);
    expect(await h.diffWithSandbox(h.runtime.sync.families.require(neighbour.name))).toEqual([]);
  });
}

describe.each(FAMILY_CASES)('a $name lease that fences, and no orphan rows', leaseThatFences);
describe.each(POSTGRES_QUEUE_CASES)(
  'a $name lease that fences, and no orphan rows, its queues in PostgreSQL',
  leaseThatFences,
);
