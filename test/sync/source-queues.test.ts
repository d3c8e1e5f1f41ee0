/**
 * Each source has queues of its own (docs/sources.md, "Queues"), and a worker's slots are shared by
 * its sources: one source's first copy, thousands of pages queued, does not hold another's pages
 * back until it ends, as it did when every source's pages queued on one `sync-page`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BC_MODEL } from '../../src/families/bcs/family.js';
import { WITH_ACME } from '../helpers/acme-source.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

/** Roots per page: the default source's copy is 30 pages, acme's 12, of one priority class. */
const PAGE_SIZE = 2;

describe("each source's queues", () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({
      sandbox: {
        databases: {
          main_db: { orders: 60, linesPerOrder: 1, seed: 7 },
          acme_db: { orders: 24, linesPerOrder: 1, seed: 8 },
        },
      },
      ...WITH_ACME,
      pageSize: PAGE_SIZE,
      // Two page slots for the process, whichever source's.
      concurrency: 2,
    });
  });
  afterAll(async () => {
    await h?.dispose();
  });
  const main = () => h.sandbox.control;
  const other = () => h.sandbox.db('acme_db').control;
  const pageReads = (control: ReturnType<typeof main>) =>
    control.countCalls({ model: BC_MODEL, method: 'read' });

  it("take a source's jobs on its own queues, under its own key prefix", async () => {
    const job = await h.add('sync-run', { family: 'acme.bcs', trigger: 'test' });
    expect(await h.wait(job)).toMatchObject({ status: 'succeeded' });
    const queues = h.runtime.queues.of('acme');
    expect(job.queueName).toBe('acme.sync');
    expect(queues.sync.opts.prefix).toBe(`${h.prefix}:acme`);
    expect(await h.runtime.queues.byName.sync.getJob(job.id!)).toBeUndefined();
    expect(await queues['sync-page'].getJobCountByTypes('completed')).toBe(12);
    expect(await h.runtime.queues.byName['sync-page'].getJobCountByTypes('completed')).toBe(0);
    // The worker's queues: each source's, and the change feed's once.
    expect(h.runtime.workers.map((worker) => worker.name).sort()).toEqual(
      [
        ...['sync', 'sync-page', 'sync-record', 'sync-webhook', 'sync-reconcile'].flatMap(
          (kind) => [kind, `acme.${kind}`],
        ),
        'feed',
      ].sort(),
    );
  });

  it("share the worker's page slots: a source's pages run beside another's first copy, not after it", async () => {
    // Every page read takes a while, so that the default source's copy is under way throughout.
    const slowMain = main().injectFault({ kind: 'latency', latencyMs: 40, times: Infinity });
    const slowOther = other().injectFault({ kind: 'latency', latencyMs: 40, times: Infinity });
    main().resetCalls();
    other().resetCalls();
    try {
      const reading = main().waitForCall({ model: BC_MODEL, method: 'read' });
      const first = await h.add('sync-run', { family: 'bcs', trigger: 'test', full: true });
      await reading;
      const second = await h.add('sync-run', { family: 'acme.bcs', trigger: 'test', full: true });
      expect(await h.wait(second)).toMatchObject({ status: 'succeeded' });
      // Acme's 12 pages took turns with the default source's 30: most of those were still to come.
      const mainPagesBefore = pageReads(main());
      expect(pageReads(other())).toBe(12);
      expect(mainPagesBefore).toBeLessThan(24);
      expect(await h.wait(first)).toMatchObject({ status: 'succeeded' });
      expect(pageReads(main())).toBe(30);
    } finally {
      slowMain.remove();
      slowOther.remove();
    }
  });
});
