/**
 * One family's long work never holds another family's run back: a first copy of thousands of
 * records queues its pages a wave at a time, and another family's small run goes before them; a
 * reconcile and a verify, which hold a worker's slot for as long as they read, run beside the
 * runs, never in their slots.
 */
import { and, desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { syncLog } from '../../src/db/schema/index.js';
import { toRunBody } from '../../src/http/schemas/sync.js';
import { BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import { movesFamily } from '../../src/families/moves/family.js';
import { partnersFamily } from '../../src/families/partners/family.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

const ORDERS = 1_000;
const PAGE_SIZE = 10;
const PAGES_IN_FLIGHT = 20;
const PARTNER = partnersFamily.root.model;
const MOVE = movesFamily.root.model;

describe('runs before the long work of other families', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({
      families: [bcsFamily, partnersFamily, movesFamily],
      sandbox: { orders: ORDERS, linesPerOrder: 1, partners: 20, moves: 10, linesPerMove: 2 },
      pageSize: PAGE_SIZE,
      runPagesInFlight: PAGES_IN_FLIGHT,
      concurrency: 4,
    });
    await h.run('sync-run', { family: partnersFamily.name, trigger: 'test' });
    await h.run('sync-run', { family: movesFamily.name, trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  /** The BC runs of the run log, the last first. */
  const bcRunRows = () =>
    h.db.db
      .select()
      .from(syncLog)
      .where(and(eq(syncLog.family, bcsFamily.name), eq(syncLog.kind, 'sync')))
      .orderBy(desc(syncLog.id));

  const pagesQueued = async () =>
    (await h.runtime.queues.byName['sync-page'].getJobs(['waiting', 'prioritized', 'active']))
      .length;

  it("a family's run goes before another family's first copy, which queues its pages in waves", async () => {
    const c = h.sandbox.control;
    // 100 pages of BCs, each read slowly: the first copy takes seconds.
    const slow = c.injectFault({
      kind: 'latency',
      latencyMs: 100,
      method: 'read',
      model: BC_MODEL,
      times: Infinity,
    });
    const firstRead = c.waitForCall({ method: 'read', model: BC_MODEL });
    const firstCopy = await h.add('sync-run', { family: bcsFamily.name, trigger: 'first copy' });
    await firstRead;

    const [partner] = c.ids(PARTNER);
    c.write(PARTNER, partner!, { email: 'changed@example.ma' });
    await expect(
      h.run('sync-run', { family: partnersFamily.name, trigger: 'small' }),
    ).resolves.toMatchObject({ status: 'succeeded', counts: { updated: 1 } });
    // The partner's page went before most of the BCs' pages queued ahead of it.
    expect((await h.bcRows()).length).toBeLessThan(ORDERS / 2);
    // The first copy goes on, never more than a wave of its pages queued.
    expect(await firstCopy.getState()).toBe('waiting-children');
    // The run log says where it stands: the pages settled so far, of its 100, each counted as it
    // settles (after its records were written), not only once its wave has.
    const running = toRunBody((await bcRunRows())[0]!).progress;
    expect(running).toMatchObject({ pages: ORDERS / PAGE_SIZE });
    expect(running!.pagesDone * PAGE_SIZE).toBeLessThanOrEqual((await h.bcRows()).length);
    expect(running!.pagesDone).toBeLessThan(ORDERS / PAGE_SIZE);
    expect(await pagesQueued()).toBeLessThanOrEqual(PAGES_IN_FLIGHT);

    await expect(h.wait(firstCopy)).resolves.toMatchObject({
      status: 'succeeded',
      counts: { created: ORDERS, pages: ORDERS / PAGE_SIZE },
    });
    // Each wave that settled was logged with the run's progress before the next was queued.
    const progress = h.logLines.flatMap((line) => {
      const done = /bcs sync run \d+: (\d+) of (\d+) pages done \((\d+) %\) in .+ left/.exec(line);
      return done ? [done.slice(1).join('/')] : [];
    });
    expect(progress).toEqual(['20/100/20', '40/100/40', '60/100/60', '80/100/80']);
    const [ended] = await bcRunRows();
    // Every page counted, the last wave's too.
    expect(ended).toMatchObject({ status: 'succeeded', pagesDone: ORDERS / PAGE_SIZE });
    expect(toRunBody(ended!).progress).toBeNull();
    slow.remove();
    for (const family of [bcsFamily, partnersFamily])
      expect(await h.diffWithSandbox(family)).toEqual([]);
  });

  it("a small run's page is taken before every page a large run queued earlier", async () => {
    const c = h.sandbox.control;
    const pages = h.runtime.workers.find((worker) => worker.name === 'sync-page')!;
    // No page is taken meanwhile: the queue's own order decides, not how fast the pages go.
    await pages.pause();
    const fullCopy = await h.add('sync-run', {
      family: bcsFamily.name,
      trigger: 'full',
      full: true,
    });
    await vi.waitFor(async () => expect(await pagesQueued()).toBe(PAGES_IN_FLIGHT), {
      timeout: 30_000,
      interval: 20,
    });
    const [partner] = c.ids(PARTNER);
    c.write(PARTNER, partner!, { email: 'before the queued pages@example.ma' });
    const small = await h.add('sync-run', { family: partnersFamily.name, trigger: 'small' });
    await vi.waitFor(async () => expect(await pagesQueued()).toBe(PAGES_IN_FLIGHT + 1), {
      timeout: 30_000,
      interval: 20,
    });
    c.resetCalls();
    await pages.resume();
    await expect(h.wait(small)).resolves.toMatchObject({ status: 'succeeded' });
    const reads = c
      .timedCalls()
      .filter(
        (call) =>
          // A page of BCs reads them with their lines (`web_read`), one of partners `read`s them.
          ['read', 'web_read'].includes(call.modelMethod ?? call.method) &&
          (call.model === BC_MODEL || call.model === PARTNER),
      )
      .sort((a, b) => a.atMs - b.atMs)
      .map((call) => call.model);
    // Among the first the worker's slots took; queued in order, it would come 21st.
    expect(reads.indexOf(PARTNER)).toBeGreaterThanOrEqual(0);
    expect(reads.indexOf(PARTNER)).toBeLessThan(4);
    await expect(h.wait(fullCopy)).resolves.toMatchObject({ status: 'succeeded' });
  });

  it("a family's run does not wait for the slots of a reconcile and a verify", async () => {
    const c = h.sandbox.control;
    // The reconcile's first list of Odoo's BCs, and the verify's first read of partners, are slow.
    c.injectFault({ kind: 'latency', latencyMs: 4_000, method: 'search_read', model: BC_MODEL });
    c.injectFault({ kind: 'latency', latencyMs: 4_000, method: 'read', model: PARTNER });
    const listing = c.waitForCall({ method: 'search_read', model: BC_MODEL });
    const reconcile = await h.add('reconcile', { family: bcsFamily.name, trigger: 'nightly' });
    await listing;
    const reading = c.waitForCall({ method: 'read', model: PARTNER });
    const verify = await h.add('verify', { family: partnersFamily.name, trigger: 'nightly' });
    await reading;

    const [move] = c.ids(MOVE);
    c.write(MOVE, move!, { ref: 'while the night works' });
    await expect(
      h.run('sync-run', { family: movesFamily.name, trigger: 'small' }),
    ).resolves.toMatchObject({ status: 'succeeded', counts: { updated: 1 } });
    expect(await reconcile.getState()).toBe('active');
    expect(await verify.getState()).toBe('active');

    await expect(h.wait(reconcile)).resolves.toMatchObject({ status: 'succeeded' });
    await expect(h.wait(verify)).resolves.toMatchObject({ status: 'succeeded' });
    expect(await h.diffWithSandbox(movesFamily)).toEqual([]);
  });
});
