/**
 * Odoo's time model against the copy: `write_date` is the transaction's start, sent in whole
 * seconds. Equal stamps do not mean equal data, and a run longer than the overlap must not move
 * the watermark past changes it never listed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../dev/sandbox/sandbox-time.js';
import { BC_LINE_MODEL, BC_MODEL } from '../../src/families/bcs/family.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

describe('equal stamps are not equal data', () => {
  let h: SyncHarness;
  const clock = createManualClock(new Date('2026-03-02T08:00:00.100Z'));
  beforeAll(async () => {
    h = await createSyncHarness({
      sandbox: { orders: 30, linesPerOrder: 3, clock: clock.source },
      pageSize: 10,
    });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('two commits on one BC and one line in one second, a run between them: the copy ends with the second', async () => {
    const c = h.sandbox.control;
    const [bcId] = c.ids(BC_MODEL, { activeOnly: true });
    const lineId = c.records(BC_LINE_MODEL, { load: '' }).find((l) => l.bc_id === bcId)!.id;
    clock.set(new Date('2026-03-02T09:00:00.100Z'));
    c.write(BC_MODEL, bcId!, { origin: 'first version' });
    c.write(BC_LINE_MODEL, lineId, { qty_received: 1 });
    await h.run('sync-run', { trigger: 'test' });
    expect((await h.copyOf(bcId!)).bc!.origin).toBe('first version');

    clock.advanceMs(500);
    c.write(BC_MODEL, bcId!, { origin: 'second version' });
    c.write(BC_LINE_MODEL, lineId, { qty_received: 2 });
    // Same second: Odoo sends the same stamp for both versions.
    const [bc] = c.records(BC_MODEL, { ids: [bcId!], fields: ['write_date'] });
    expect(bc!.write_date).toBe('2026-03-02 09:00:00');

    await h.run('sync-run', { trigger: 'test' });
    const copy = await h.copyOf(bcId!);
    expect(copy.bc!.origin).toBe('second version');
    expect(Number(copy.lines.find((l) => l.odooId === lineId)!.qtyReceived)).toBe(2);
    expect(await h.diffWithSandbox()).toEqual([]);
    const audits = (await h.auditRows()).filter((a) => a.odooId === bcId && a.model === BC_MODEL);
    expect(audits.at(-1)!.changedFields).toContain('origin');
  });
});

describe('the watermark moves only as far as the scan proved', () => {
  let h: SyncHarness;
  const clock = createManualClock(new Date('2026-03-02T08:00:00.250Z'));
  beforeAll(async () => {
    h = await createSyncHarness({
      sandbox: { orders: 40, linesPerOrder: 2, clock: clock.source },
      pageSize: 10,
      overlapSeconds: 60,
    });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('a BC changed during a run longer than the overlap is caught by the next run', async () => {
    const c = h.sandbox.control;
    const [listed, unlisted] = c.ids(BC_MODEL, { activeOnly: true });
    clock.advanceMs(60_000);
    c.write(BC_MODEL, listed!, { origin: 'listed by the scan' });

    // The run's page read waits; meanwhile a header-only change lands on a BC the scan did not
    // list, then the listed BC changes again much later: the page reads that later stamp.
    const slow = c.injectFault({
      kind: 'latency',
      latencyMs: 300,
      method: 'read',
      model: BC_MODEL,
    });
    const pageRead = c.waitForCall({ method: 'read', model: BC_MODEL });
    const run = await h.add('sync-run', { trigger: 'test' });
    await pageRead;
    c.write(BC_MODEL, unlisted!, { origin: 'changed during the run' });
    clock.advanceMs(10 * 60_000);
    c.write(BC_MODEL, listed!, { origin: 'read by the page, ten minutes later' });
    await expect(h.wait(run)).resolves.toMatchObject({ status: 'succeeded' });
    slow.remove();

    await h.run('sync-run', { trigger: 'test' });
    expect((await h.copyOf(unlisted!)).bc!.origin).toBe('changed during the run');
    expect(await h.diffWithSandbox()).toEqual([]);
  });
});

describe('a run without a BC window', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({ sandbox: { orders: 30, linesPerOrder: 4 }, pageSize: 10 });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('reads every BC, and learns the line watermark from the latest line alone', async () => {
    const c = h.sandbox.control;
    c.resetCalls();
    await h.run('sync-run', { trigger: 'test' });
    // Three pages of 10 BCs, each reading its lines; one more line call for the watermark.
    expect(c.countCalls({ model: BC_LINE_MODEL, method: 'search_read' })).toBe(3 + 1);
    const latest = c
      .records(BC_LINE_MODEL, { fields: ['write_date'] })
      .map((line) => String(line.write_date))
      .sort()
      .at(-1)!;
    expect((await h.watermark(BC_LINE_MODEL))!.toISOString()).toBe(
      `${latest.replace(' ', 'T')}.000Z`,
    );
    expect(await h.diffWithSandbox()).toEqual([]);
  });
});

describe('a record stamped in the future', () => {
  let h: SyncHarness;
  const clock = createManualClock(new Date('2026-03-02T08:00:00.250Z'));
  beforeAll(async () => {
    h = await createSyncHarness({
      sandbox: { orders: 20, linesPerOrder: 2, clock: clock.source },
      overlapSeconds: 60,
    });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it("never moves the watermark past Odoo's clock: later changes are still picked up", async () => {
    const c = h.sandbox.control;
    const [future, later] = c.ids(BC_MODEL, { activeOnly: true });
    clock.advanceMs(60_000);
    // A stamp set by SQL, or by a database whose clock stepped a year ahead.
    const nextYearMicros = Date.parse('2027-03-02T08:00:00Z') * 1_000;
    c.corrupt(BC_MODEL, future!, { origin: 'stamped next year', write_date: nextYearMicros });
    const first = await h.run('sync-run', { trigger: 'test' });
    clock.advanceMs(60_000);
    c.write(BC_MODEL, later!, { origin: 'changed after the future stamp' });
    const second = await h.run('sync-run', { trigger: 'test' });

    expect((await h.copyOf(later!)).bc!.origin).toBe('changed after the future stamp');
    expect((await h.copyOf(future!)).bc!.origin).toBe('stamped next year');
    expect(await h.diffWithSandbox()).toEqual([]);
    expect((await h.watermark())!.getTime()).toBeLessThan(Date.parse('2026-03-03T00:00:00Z'));
    // Counted and logged, and read again by every run until its stamp is past.
    expect(first).toMatchObject({ status: 'succeeded', counts: { futureStamped: 1 } });
    expect(second).toMatchObject({ status: 'succeeded', counts: { futureStamped: 1 } });
    expect(
      h.logLines.some(
        (line) => line.includes('stamped later than Odoo') && line.includes(`${future}`),
      ),
    ).toBe(true);
  });
});
