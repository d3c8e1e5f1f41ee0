/**
 * Settled stamps (src/sync/settled.ts), in every family (test/helpers/family-cases.ts): a root
 * changed inside the overlap window is re-read until a run has read Odoo after its stamp +
 * overlap by Odoo's clock; after that, runs that find nothing new cost their scans alone — and a
 * change, even one keeping the stamp's second, is read.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../dev/sandbox/sandbox-time.js';
import { familyModels, relationScans } from '../../src/families/family.js';
import { CLOCK_SKEW_MARGIN_SECONDS } from '../../src/sync/settled.js';
import { caseCopy, childIdsOf, FAMILY_CASES, useCaseHarness } from '../helpers/family-cases.js';

const OVERLAP_SECONDS = 60;
const SETTLE_MS = (OVERLAP_SECONDS + CLOCK_SKEW_MARGIN_SECONDS + 1) * 1_000;

describe.each(FAMILY_CASES)('settled stamps of $name', (c) => {
  const clock = createManualClock(new Date('2026-03-02T08:00:00.100Z'));
  const h = useCaseHarness(c, {
    size: { roots: 30, childrenPerRoot: 3 },
    sandbox: { clock: clock.source },
    pageSize: 10,
    overlapSeconds: OVERLAP_SECONDS,
    copied: true,
  });

  const copy = () => caseCopy(h, c);
  /** What a run that finds nothing new costs: its scans, one per model and per one2many scanned. */
  const scansAlone = () => ({
    search_read: familyModels(h.family).length + relationScans(h.family).length,
  });

  /**
   * Runs once and returns the Odoo calls it made, by ORM method; its reading of Odoo's clock
   * (`version`, which reads no record) aside, and the reads of a page's children by id (`search`
   * then `read` of a child model: its root's page, counted once as the root's `read`). A page's
   * roots read with their children (`web_read`) count as the roots' `read`.
   */
  async function runCountingCalls(): Promise<Record<string, number>> {
    const control = h.sandbox.control;
    control.resetCalls();
    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
    const calls: Record<string, number> = {};
    for (const call of control.calls()) {
      if (call.method === 'version') continue;
      const named = call.modelMethod ?? call.method;
      const method = named === 'web_read' ? 'read' : named;
      if (call.model !== c.rootModel && (method === 'search' || method === 'read')) continue;
      calls[method] = (calls[method] ?? 0) + call.count;
    }
    return calls;
  }

  /** Writes the root's text, then runs until its stamp has settled and a run costs its scans alone. */
  async function changeAndSettle(id: number, text: string): Promise<void> {
    clock.advanceMs(SETTLE_MS);
    h.sandbox.control.write(c.rootModel, id, { [c.rootText]: text });
    await runCountingCalls();
    clock.advanceMs(SETTLE_MS);
    await runCountingCalls();
    expect(await runCountingCalls()).toEqual(scansAlone());
  }

  /**
   * As a webhook job that read an older version of the same stamp and wrote it late would: the
   * root `id`'s row, or with `child` its child's.
   */
  async function writeOlderVersionOutsideRuns(id: number, child?: number): Promise<void> {
    const [table, column] =
      child === undefined
        ? [h.family.root.table.name, c.rootText]
        : [h.family.children[0]!.table.name, c.childText!];
    await h.db.db.execute(sql`
      update ${sql.identifier(table)}
      set ${sql.identifier(column)} = 'an older version of the stamp',
        data = jsonb_set(data, ${`{${column}}`}::text[], '"an older version of the stamp"'),
        synced_at = now()
      where odoo_id = ${child ?? id}`);
  }

  it('a root changed a moment ago is read again until a run read it after its stamp settled', async () => {
    const control = h.sandbox.control;
    const [id] = c.standalone(control);
    clock.advanceMs(SETTLE_MS);
    control.write(c.rootModel, id!, { [c.rootText]: 'changed' });

    // Read when changed, and again while its stamp is younger than overlap + margin.
    expect((await runCountingCalls()).read).toBe(1);
    expect((await runCountingCalls()).read).toBe(1);
    clock.advanceMs(SETTLE_MS);
    expect((await runCountingCalls()).read).toBe(1);
    // That run read it after the stamp settled: from now on only the scans.
    expect(await runCountingCalls()).toEqual(scansAlone());
    expect(await copy().rootText(id!)).toBe('changed');
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('a settled root changed again is read, and so is one whose child alone changed', async () => {
    const control = h.sandbox.control;
    const [first, second] = c.standalone(control).slice(1);
    await changeAndSettle(first!, 'settled, then changed');

    control.write(c.rootModel, first!, { [c.rootText]: 'changed once more' });
    const [child] = childIdsOf(control, c, second!);
    if (child !== undefined) control.write(c.childModel!, child, { [c.childText!]: 'relabelled' });
    const calls = await runCountingCalls();
    expect(calls.read).toBe(1);
    expect(await copy().rootText(first!)).toBe('changed once more');
    if (child !== undefined) expect(await copy().childText(second!, child)).toBe('relabelled');
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('a row written outside the runs after the one that settled it is read again', async () => {
    const [id] = c.standalone(h.sandbox.control).slice(2);
    await changeAndSettle(id!, 'the last version');

    await writeOlderVersionOutsideRuns(id!);
    expect((await runCountingCalls()).read).toBe(1);
    expect(await copy().rootText(id!)).toBe('the last version');
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('a root and child the settling run wrote itself are not read by the next run', async () => {
    const control = h.sandbox.control;
    const [id] = c.standalone(control).slice(4);
    control.write(c.rootModel, id!, { [c.rootText]: 'written by the settling run' });
    const [child] = childIdsOf(control, c, id!);
    if (child !== undefined) control.write(c.childModel!, child, { [c.childText!]: 'its child' });
    clock.advanceMs(SETTLE_MS);

    // The first run to read them after their stamps settled writes them, and settles them: a
    // first copy, or a mass update, is read once, not once more by the run after it.
    expect((await runCountingCalls()).read).toBe(1);
    expect(await runCountingCalls()).toEqual(scansAlone());
    expect(await copy().rootText(id!)).toBe('written by the settling run');
    if (child !== undefined) expect(await copy().childText(id!, child)).toBe('its child');
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('a root the settling run wrote, then a writer outside the runs, is read again', async () => {
    const [id] = c.standalone(h.sandbox.control).slice(5);
    h.sandbox.control.write(c.rootModel, id!, { [c.rootText]: 'the last version' });
    clock.advanceMs(SETTLE_MS);
    expect((await runCountingCalls()).read).toBe(1);

    await writeOlderVersionOutsideRuns(id!);
    expect((await runCountingCalls()).read).toBe(1);
    expect(await copy().rootText(id!)).toBe('the last version');
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  if (c.childModel !== undefined)
    it('a child the settling run wrote, then a writer outside the runs, is read again', async () => {
      const control = h.sandbox.control;
      const [id] = c.standalone(control).slice(6);
      const [child] = childIdsOf(control, c, id!);
      control.write(c.childModel!, child!, { [c.childText!]: 'the last version' });
      clock.advanceMs(SETTLE_MS);
      expect((await runCountingCalls()).read).toBe(1);

      await writeOlderVersionOutsideRuns(id!, child);
      expect((await runCountingCalls()).read).toBe(1);
      expect(await copy().childText(id!, child!)).toBe('the last version');
      expect(await h.diffWithSandbox()).toEqual([]);
    });

  it('a second commit in the same second as a copied one is read, however the runs fall', async () => {
    const control = h.sandbox.control;
    const [id] = c.standalone(control).slice(3);
    clock.advanceMs(SETTLE_MS);
    control.write(c.rootModel, id!, { [c.rootText]: 'first of the second' });
    await runCountingCalls();
    clock.advanceMs(400);
    control.write(c.rootModel, id!, { [c.rootText]: 'second of the second' });
    await runCountingCalls();
    expect(await copy().rootText(id!)).toBe('second of the second');
    expect(await h.diffWithSandbox()).toEqual([]);
  });
});
