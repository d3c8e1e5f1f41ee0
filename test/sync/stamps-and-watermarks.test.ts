/**
 * Odoo's time model against the copy, for every family (test/helpers/family-cases.ts):
 * `write_date` is the transaction's start, sent in whole seconds. Equal stamps are not equal
 * data, a run longer than the overlap must not move the watermark past changes it never listed,
 * and a stamp in the future never moves it past Odoo's clock — for a root, and for a child, whose
 * watermark is its own. (A run without a root window learns the children's watermark from their
 * latest stamp alone: test/sync/incremental.test.ts, its first run.)
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/sql-rows.js';
import { createManualClock } from '../../dev/sandbox/sandbox-time.js';
import { relationScans } from '../../src/families/family.js';
import { readWatermarks } from '../../src/sync/sync-state.js';
import {
  caseCopy,
  caseModels,
  childIdsOf,
  FAMILY_CASES,
  useCaseHarness,
} from '../helpers/family-cases.js';

describe.each(FAMILY_CASES)('stamps and watermarks of $name', (c) => {
  const clock = createManualClock(new Date('2026-03-02T08:00:00.250Z'));
  const h = useCaseHarness(c, {
    size: { roots: 40, childrenPerRoot: 2 },
    sandbox: { clock: clock.source },
    pageSize: 10,
    overlapSeconds: 60,
    copied: true,
  });

  const rootText = (id: number) => caseCopy(h, c).rootText(id);
  const childText = (rootId: number, childId: number) => caseCopy(h, c).childText(rootId, childId);

  it('two commits on one root and one child in one second, a run between them: the copy ends with the second', async () => {
    const control = h.sandbox.control;
    const [id] = c.standalone(control);
    const child = c.childModel ? childIdsOf(control, c, id!)[0] : undefined;
    clock.set(new Date('2026-03-02T09:00:00.100Z'));
    control.write(c.rootModel, id!, { [c.rootText]: 'first version' });
    if (child !== undefined) control.write(c.childModel!, child, { [c.childText!]: 'first label' });
    await h.run('sync-run', { trigger: 'test' });
    expect(await rootText(id!)).toBe('first version');

    clock.advanceMs(500);
    control.write(c.rootModel, id!, { [c.rootText]: 'second version' });
    if (child !== undefined)
      control.write(c.childModel!, child, { [c.childText!]: 'second label' });
    // Same second: Odoo sends the same stamp for both versions.
    const [record] = control.records(c.rootModel, { ids: [id!], fields: ['write_date'] });
    expect(record!.write_date).toBe('2026-03-02 09:00:00');

    await h.run('sync-run', { trigger: 'test' });
    expect(await rootText(id!)).toBe('second version');
    if (child !== undefined) expect(await childText(id!, child)).toBe('second label');
    expect(await h.diffWithSandbox()).toEqual([]);
    const audits = (await h.auditRows()).filter((a) => a.odooId === id && a.model === c.rootModel);
    expect(audits.at(-1)!.changedFields).toEqual([c.rootText]);
  });

  it('a root read again with its stamp unchanged, whose row holds a field the reads no longer send, is current: nothing written, the field kept', async () => {
    const control = h.sandbox.control;
    const id = c.standalone(control)[4]!;
    clock.set(new Date('2026-03-02T09:30:00.100Z'));
    control.write(c.rootModel, id, { [c.rootText]: 'read twice' });
    await h.run('sync-run', { trigger: 'test' });
    // The row now differs from what the reads send (its digest too), by a key the write keeps.
    await h.db.db.execute(
      sql`update ${sql.identifier(h.family.root.table.name)}
          set data = data || '{"x_left_behind": "kept"}'::jsonb where odoo_id = ${id}`,
    );
    const audits = (await h.auditRows()).length;

    clock.advanceMs(500);
    const rerun = (await h.run('sync-run', { trigger: 'test' })) as {
      status: string;
      counts: { updated: number; unchanged: number };
    };
    expect(rerun).toMatchObject({ status: 'succeeded', counts: { updated: 0 } });
    expect(rerun.counts.unchanged).toBeGreaterThan(0);
    expect((await h.auditRows()).length).toBe(audits);
    const [row] = rowsOf<{ kept: unknown; text: unknown }>(
      await h.db.db.execute(
        sql`select data->'x_left_behind' as kept, data->${c.rootText} as text
            from ${sql.identifier(h.family.root.table.name)} where odoo_id = ${id}`,
      ),
    );
    expect(row).toEqual({ kept: 'kept', text: 'read twice' });
  });

  it('a root or child changed during a run longer than the overlap is caught by the next run', async () => {
    const control = h.sandbox.control;
    const [listed, unlisted, childOwner] = c.standalone(control).slice(1, 4);
    const child = c.childModel ? childIdsOf(control, c, childOwner!)[0] : undefined;
    clock.advanceMs(60_000);
    control.write(c.rootModel, listed!, { [c.rootText]: 'listed by the scan' });

    // The run's page read waits; meanwhile a change lands on a root the scan did not list, then
    // the listed root changes again much later: the page reads that later stamp.
    const { job: run, slow } = await h.addWhileReading(
      'sync-run',
      { trigger: 'test' },
      { model: c.rootModel, latencyMs: 300 },
    );
    control.write(c.rootModel, unlisted!, { [c.rootText]: 'changed during the run' });
    if (child !== undefined)
      control.write(c.childModel!, child, { [c.childText!]: 'child changed during the run' });
    clock.advanceMs(10 * 60_000);
    control.write(c.rootModel, listed!, { [c.rootText]: 'read by the page, ten minutes later' });
    await expect(h.wait(run)).resolves.toMatchObject({ status: 'succeeded' });
    slow.remove();
    expect(await rootText(unlisted!)).not.toBe('changed during the run');

    await h.run('sync-run', { trigger: 'test' });
    expect(await rootText(unlisted!)).toBe('changed during the run');
    if (child !== undefined)
      expect(await childText(childOwner!, child)).toBe('child changed during the run');
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  /** The two runs of the next case, and how many records it stamped in the future. */
  let futureRuns: {
    first: Record<string, unknown>;
    second: Record<string, unknown>;
    records: number;
  };

  it("a record stamped in the future never moves a watermark past Odoo's clock: later changes are still picked up", async () => {
    const control = h.sandbox.control;
    const [future, later, childOwner] = c.standalone(control).slice(3, 6);
    clock.advanceMs(60_000);
    // A stamp set by SQL, or by a database whose clock stepped a year ahead.
    const nextYearMicros = Date.parse('2027-03-02T08:00:00Z') * 1_000;
    control.corrupt(c.rootModel, future!, {
      [c.rootText]: 'stamped next year',
      write_date: nextYearMicros,
    });
    const futureChild = c.childModel ? childIdsOf(control, c, childOwner!)[0] : undefined;
    if (futureChild !== undefined)
      control.corrupt(c.childModel!, futureChild, {
        [c.childText!]: 'child stamped next year',
        write_date: nextYearMicros,
      });
    const first = await h.run('sync-run', { trigger: 'test' });
    clock.advanceMs(60_000);
    control.write(c.rootModel, later!, { [c.rootText]: 'changed after the future stamp' });
    const laterChild = c.childModel ? childIdsOf(control, c, later!)[0] : undefined;
    if (laterChild !== undefined)
      control.write(c.childModel!, laterChild, { [c.childText!]: 'child changed after it' });
    const second = await h.run('sync-run', { trigger: 'test' });
    futureRuns = { first, second, records: futureChild === undefined ? 1 : 2 };

    expect(first).toMatchObject({ status: 'succeeded' });
    expect(second).toMatchObject({ status: 'succeeded' });
    expect(await rootText(later!)).toBe('changed after the future stamp');
    expect(await rootText(future!)).toBe('stamped next year');
    if (futureChild !== undefined) {
      expect(await childText(childOwner!, futureChild)).toBe('child stamped next year');
      expect(await childText(later!, laterChild!)).toBe('child changed after it');
    }
    expect(await h.diffWithSandbox()).toEqual([]);
    // Every watermark: each model's, and each one2many's a configured family scans on its own.
    const marks = await readWatermarks(h.db.db, h.family.name);
    const scanned = [...caseModels(c), ...relationScans(h.family).map((scan) => scan.key)];
    expect(Object.keys(marks).sort()).toEqual(expect.arrayContaining(caseModels(c)));
    for (const [key, mark] of Object.entries(marks)) {
      expect(scanned, key).toContain(key);
      expect(mark.getTime(), key).toBeLessThan(Date.parse('2026-03-03T00:00:00Z'));
    }
    expect(
      h.logLines.some(
        (line) => line.includes('stamped later than Odoo') && line.includes(`${future}`),
      ),
    ).toBe(true);
  });

  // Once, though a record may be listed by its model's scan and by a one2many's.
  it('each record stamped in the future is counted once, by every run that reads it again', () => {
    const { first, second, records } = futureRuns;
    expect(first).toMatchObject({ counts: { futureStamped: records } });
    expect(second).toMatchObject({ counts: { futureStamped: records } });
  });
});
