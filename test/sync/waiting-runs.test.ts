/**
 * A run whose children wait — behind a burst of webhook events, in a paused or busy queue — keeps
 * its lease: nothing of it is active to heartbeat, yet the run asked for meanwhile is skipped and
 * the waiting run ends as it should. So does a run whose pages are all done while its own job
 * waits for a worker busy elsewhere to take it up again for its last step.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sql } from 'drizzle-orm';
import { syncFailure } from '../../src/db/schema/index.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import { BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import { partnersFamily } from '../../src/families/partners/family.js';
import { takeLease } from '../../src/sync/sync-state.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

const leasePastIn = async (h: SyncHarness, expiry: Date) => {
  const [row] = rowsOf<{ past: boolean }>(
    await h.db.db.execute(sql`select now() > ${expiry.toISOString()}::timestamptz as past`),
  );
  return row!.past;
};

describe('a run waiting on its children', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({
      sandbox: { orders: 40, linesPerOrder: 1 },
      leaseSeconds: 2,
      concurrency: 1,
    });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  const leasePast = (expiry: Date) => leasePastIn(h, expiry);

  /** A BC waiting in sync_failure: the next run retries it as a BC job of its own. */
  const pendingFailure = (odooId: number) =>
    h.db.db
      .insert(syncFailure)
      .values({ family: 'bcs', odooId, errorCode: 'ODOO_NETWORK', error: 'Odoo did not answer' })
      .onConflictDoNothing();

  /**
   * Starts a run and, once the lease it took has reached its first expiry (unless the run ended
   * before), asks for another: what a schedule does to a run that stopped heartbeating.
   */
  async function runAndAskAgain(): Promise<{ first: unknown; second: unknown }> {
    const first = await h.add('sync-run', { trigger: 'waiting' });
    let expiry: Date | undefined;
    await vi.waitFor(
      async () => {
        if (await first.isCompleted()) return;
        const state = await h.state();
        if (state.leaseOwner === `run-${first.id}`) expiry ??= state.leaseExpiresAt!;
        expect(expiry && (await leasePast(expiry))).toBe(true);
      },
      { timeout: 20_000, interval: 100 },
    );
    const second = await h.run('sync-run', { trigger: 'meanwhile' });
    return { first: await h.wait(first), second };
  }

  it('keeps its lease while its BC jobs wait in a paused queue', async () => {
    const [retried] = h.sandbox.control.ids(BC_MODEL).slice(3);
    await pendingFailure(retried!);
    const bcQueue = h.runtime.queues.byName['sync-record'];
    await bcQueue.pause();
    const first = await h.add('sync-run', { trigger: 'waiting' });
    await vi.waitFor(async () => expect(await first.getState()).toBe('waiting-children'), {
      timeout: 10_000,
      interval: 50,
    });
    const expiry = (await h.state()).leaseExpiresAt!;
    await vi.waitFor(async () => expect(await leasePast(expiry)).toBe(true), {
      timeout: 10_000,
      interval: 100,
    });
    await expect(h.run('sync-run', { trigger: 'meanwhile' })).resolves.toMatchObject({
      status: 'skipped',
    });
    await bcQueue.resume();
    await expect(h.wait(first)).resolves.toMatchObject({ status: 'succeeded' });
    expect(await h.failures()).toEqual([]);
  });

  it('a burst of webhook events does not queue ahead of its BC jobs', async () => {
    const c = h.sandbox.control;
    const [retried, ...edited] = c.ids(BC_MODEL).slice(5, 16);
    await pendingFailure(retried!);
    // Events announcing versions Odoo never commits: each job reads until it gives up (~3 s).
    for (const odooId of edited)
      await h.add('webhook-record', {
        model: BC_MODEL,
        recordId: odooId,
        rootId: odooId,
        writeDate: '2099-01-01 00:00:00',
        receivedAtMs: Date.now(),
      });
    const { first, second } = await runAndAskAgain();
    expect(first).toMatchObject({ status: 'succeeded' });
    expect(second).toMatchObject({ status: expect.stringMatching(/^(skipped|succeeded)$/) });
    expect(await h.failures()).toEqual([]);
  });
});

describe('a run whose pages are done, waiting for its last step', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({
      families: [bcsFamily, partnersFamily],
      sandbox: { orders: 20, linesPerOrder: 1 },
      leaseSeconds: 2,
    });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it("keeps its lease while the worker's run slots are busy elsewhere", async () => {
    const c = h.sandbox.control;
    c.write(BC_MODEL, c.ids(BC_MODEL)[0]!, { origin: 'read by the waiting run' });
    // The run's page reads slowly: meanwhile the run's slots fill with slow jobs of another family.
    c.injectFault({ kind: 'latency', latencyMs: 1_500, method: 'read', model: BC_MODEL });
    const pageRead = c.waitForCall({ method: 'read', model: BC_MODEL });
    const run = await h.add('sync-run', { trigger: 'waiting' });
    await pageRead;
    // Four record reads of 12 s on a queue of two slots: busy for about 24 s, far past the checks
    // below even on a loaded machine (with reads of 4 s, a slot freed before them).
    c.injectFault({
      kind: 'latency',
      latencyMs: 12_000,
      method: 'read',
      model: partnersFamily.root.model,
      times: 4,
    });
    const partners = c.ids(partnersFamily.root.model).slice(0, 4);
    const busy = await Promise.all(
      partners.map((odooId) =>
        h.add('resync-record', { family: partnersFamily.name, odooId, trigger: 'busy' }),
      ),
    );
    await vi.waitFor(async () => expect(await run.getState()).toBe('waiting'), {
      timeout: 10_000,
      interval: 50,
    });
    expect(await busy[0]!.getState()).toBe('active');
    // Past the lease as it stood when the pages were done: only a keeper holds it now.
    const expiry = (await h.state()).leaseExpiresAt!;
    await vi.waitFor(async () => expect(await leasePastIn(h, expiry)).toBe(true), {
      timeout: 5_000,
      interval: 100,
    });
    expect(await run.getState()).toBe('waiting');
    // What the next scheduled run would do first.
    const taken = await takeLease(h.db.db, {
      key: bcsFamily.name,
      owner: 'run-scheduled-meanwhile',
      leaseSeconds: 60,
    });
    expect(taken).toBeUndefined();
    await expect(h.wait(run)).resolves.toMatchObject({ status: 'succeeded' });
    await Promise.all(busy.map((job) => h.wait(job)));
    expect(await h.diffWithSandbox()).toEqual([]);
  }, 120_000);
});
