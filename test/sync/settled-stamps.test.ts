/**
 * Settled stamps (src/sync/settled.ts): a BC changed inside the overlap window is re-read until a
 * run has read Odoo after its stamp + overlap by Odoo's clock; after that, runs that find nothing
 * new cost the two scans alone — and a change, even one keeping the stamp's second, is read.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../dev/sandbox/sandbox-time.js';
import { BC_LINE_MODEL, BC_MODEL } from '../../src/families/bcs/family.js';
import { CLOCK_SKEW_MARGIN_SECONDS } from '../../src/sync/settled.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

const OVERLAP_SECONDS = 60;
const SETTLE_MS = (OVERLAP_SECONDS + CLOCK_SKEW_MARGIN_SECONDS + 1) * 1_000;

describe('settled stamps', () => {
  let h: SyncHarness;
  const clock = createManualClock(new Date('2026-03-02T08:00:00.100Z'));
  beforeAll(async () => {
    h = await createSyncHarness({
      sandbox: { orders: 30, linesPerOrder: 3, clock: clock.source },
      pageSize: 10,
      overlapSeconds: OVERLAP_SECONDS,
    });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  /** Runs once and returns the Odoo calls it made, by ORM method. */
  async function runCountingCalls(): Promise<Record<string, number>> {
    const c = h.sandbox.control;
    c.resetCalls();
    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
    const calls: Record<string, number> = {};
    for (const call of c.calls()) {
      const method = call.modelMethod ?? call.method;
      calls[method] = (calls[method] ?? 0) + call.count;
    }
    return calls;
  }

  /** Writes `origin` on a BC, then runs until its stamp has settled and a run costs the scans alone. */
  async function changeAndSettle(bcId: number, origin: string): Promise<void> {
    clock.advanceMs(SETTLE_MS);
    h.sandbox.control.write(BC_MODEL, bcId, { origin });
    await runCountingCalls();
    clock.advanceMs(SETTLE_MS);
    await runCountingCalls();
    expect(await runCountingCalls()).toEqual({ search_read: 2 });
  }

  it('a BC changed a moment ago is read again until a run read it after its stamp settled', async () => {
    const c = h.sandbox.control;
    const [bcId] = c.ids(BC_MODEL, { activeOnly: true });
    clock.advanceMs(SETTLE_MS);
    c.write(BC_MODEL, bcId!, { origin: 'changed' });

    // Read when changed, and again while its stamp is younger than overlap + margin.
    expect((await runCountingCalls()).read).toBe(1);
    expect((await runCountingCalls()).read).toBe(1);
    clock.advanceMs(SETTLE_MS);
    expect((await runCountingCalls()).read).toBe(1);
    // That run read it after the stamp settled: from now on only the two scans.
    expect(await runCountingCalls()).toEqual({ search_read: 2 });
    expect((await h.copyOf(bcId!)).bc!.origin).toBe('changed');
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('a settled BC changed again is read, and so is one whose line alone changed', async () => {
    const c = h.sandbox.control;
    const [first, second] = c.ids(BC_MODEL, { activeOnly: true }).slice(1);
    await changeAndSettle(first!, 'settled, then changed');

    c.write(BC_MODEL, first!, { origin: 'changed once more' });
    const line = c.records(BC_LINE_MODEL, { load: '' }).find((l) => l.bc_id === second)!;
    c.write(BC_LINE_MODEL, line.id, { qty_received: 7 });
    const calls = await runCountingCalls();
    expect(calls.read).toBe(1);
    expect((await h.copyOf(first!)).bc!.origin).toBe('changed once more');
    const copied = (await h.copyOf(second!)).lines.find((l) => l.odooId === line.id)!;
    expect(Number(copied.qtyReceived)).toBe(7);
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('a row written outside the runs after the one that settled it is read again', async () => {
    const [bcId] = h.sandbox.control.ids(BC_MODEL, { activeOnly: true }).slice(2);
    await changeAndSettle(bcId!, 'the last version');

    // As a webhook job that read an older version of the same stamp and wrote it late would.
    await h.db.db.execute(sql`
      update scrap_dimagaz_bc set origin = 'an older version of the stamp',
        data = jsonb_set(data, '{origin}', '"an older version of the stamp"'), synced_at = now()
      where odoo_id = ${bcId}`);
    expect((await runCountingCalls()).read).toBe(1);
    expect((await h.copyOf(bcId!)).bc!.origin).toBe('the last version');
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('a second commit in the same second as a copied one is read, however the runs fall', async () => {
    const c = h.sandbox.control;
    const [bcId] = c.ids(BC_MODEL, { activeOnly: true }).slice(3);
    clock.advanceMs(SETTLE_MS);
    c.write(BC_MODEL, bcId!, { origin: 'first of the second' });
    await runCountingCalls();
    clock.advanceMs(400);
    c.write(BC_MODEL, bcId!, { origin: 'second of the second' });
    await runCountingCalls();
    expect((await h.copyOf(bcId!)).bc!.origin).toBe('second of the second');
    expect(await h.diffWithSandbox()).toEqual([]);
  });
});
