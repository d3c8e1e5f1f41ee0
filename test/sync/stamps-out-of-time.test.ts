/**
 * A stamp in the future or in the past never freezes a record, in every family
 * (test/helpers/family-cases.ts): a copy stamped later than Odoo's clock takes Odoo's newer
 * version; an Odoo restored from a backup (its records stamped before the copy's) is the truth
 * for the reconcile, audited `drift` with its reason; a watermark later than Odoo's clock is
 * clamped, and a first copy never takes a watermark from a stamp in the future.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../dev/sandbox/sandbox-time.js';
import { STAMP_FROM_FUTURE, STAMP_WENT_BACK } from '../../src/sync/write-rule.js';
import { caseCopy, childIdsOf, FAMILY_CASES, useCaseHarness } from '../helpers/family-cases.js';

const NOW = new Date('2026-03-02T08:00:00.250Z');

describe.each(FAMILY_CASES)('$name stamps out of time', (c) => {
  const clock = createManualClock(NOW);
  const control = () => h.sandbox.control;
  const copy = () => caseCopy(h, c);
  const root = () => sql.identifier(h.family.root.table.name);
  /** The root's last audit row: its action and the reason the writer gave. */
  const lastAudit = async (id: number) => {
    const rows = (await h.auditRows()).filter((a) => a.model === c.rootModel && a.odooId === id);
    return { action: rows.at(-1)?.action, reason: rows.at(-1)?.reason };
  };
  /**
   * The model whose watermark a first copy learns without scanning it (the children's, from
   * their latest stamp), or the root where the row has no children, and a record of it and its
   * text field.
   */
  const learned = () => {
    const [owner] = c.standalone(control());
    return c.childModel === undefined
      ? { model: c.rootModel, text: c.rootText, ids: c.standalone(control()) }
      : { model: c.childModel, text: c.childText!, ids: childIdsOf(control(), c, owner!), owner };
  };
  const h = useCaseHarness(c, {
    size: { roots: 12, childrenPerRoot: 2 },
    sandbox: { clock: clock.source },
    overlapSeconds: 60,
  });

  it("a first copy bounds each watermark by Odoo's clock, though a record is stamped next year", async () => {
    const { model, text, ids, owner } = learned();
    control().corrupt(model, ids[0]!, { write_date: Date.parse('2027-03-02T08:00:00Z') * 1_000 });
    await h.run('sync-run', { trigger: 'test' });
    expect((await h.watermark(model))!.getTime()).toBeLessThan(NOW.getTime() + 5 * 60_000);
    // So a record changed now is still seen by the next run.
    clock.advanceMs(120_000);
    control().write(model, ids[1]!, { [text]: 'changed after the first copy' });
    await h.run('sync-run', { trigger: 'test' });
    expect(
      owner === undefined ? await copy().rootText(ids[1]!) : await copy().childText(owner, ids[1]!),
    ).toBe('changed after the first copy');
  });

  it("a copy stamped later than Odoo's clock takes Odoo's newer version, audited drift", async () => {
    const id = c.standalone(control())[2]!;
    // A stamp written by a clock a day ahead, before scans were bounded by Odoo's clock.
    await h.db.db.execute(
      sql`update ${root()} set odoo_write_date = '2026-03-03T08:00:00Z' where odoo_id = ${id}`,
    );
    clock.advanceMs(60_000);
    control().write(c.rootModel, id, { [c.rootText]: 'changed today' });
    await h.run('sync-run', { trigger: 'test' });
    expect(await copy().rootText(id)).toBe('changed today');
    expect(await lastAudit(id)).toEqual({ action: 'drift', reason: STAMP_FROM_FUTURE });
  });

  it('the reconcile writes an Odoo restored from a backup over a copy stamped later, with the reason', async () => {
    const id = c.standalone(control())[3]!;
    // The copy holds a version Odoo no longer has: Odoo went back to an older one.
    const text = sql.identifier(c.rootText);
    await h.db.db.execute(sql`
      update ${root()} set odoo_write_date = odoo_write_date + interval '30 seconds',
        ${text} = 'lost with the backup',
        data = jsonb_set(data, ${`{${c.rootText}}`}::text[], '"lost with the backup"')
      where odoo_id = ${id}`);
    await h.run('reconcile', { trigger: 'test' });
    expect(await copy().rootText(id)).not.toBe('lost with the backup');
    expect(await h.diffWithSandbox()).toEqual([]);
    expect(await lastAudit(id)).toEqual({ action: 'drift', reason: STAMP_WENT_BACK });
  });

  it("a watermark later than Odoo's clock is clamped and logged: the changes behind it are copied", async () => {
    const { model, text, ids, owner } = learned();
    await h.db.db.execute(
      sql`update sync_watermark set watermark = '2027-01-01T00:00:00Z'
          where family = ${c.name} and model = ${model}`,
    );
    clock.advanceMs(60_000);
    control().write(model, ids.at(-1)!, { [text]: 'behind a watermark from the future' });
    await h.run('sync-run', { trigger: 'test' });
    expect(
      owner === undefined
        ? await copy().rootText(ids.at(-1)!)
        : await copy().childText(owner, ids.at(-1)!),
    ).toBe('behind a watermark from the future');
    expect((await h.watermark(model))!.getTime()).toBeLessThan(Date.parse('2026-03-03T00:00:00Z'));
    expect(
      h.logLines.some((line) => line.includes("watermarks later than Odoo's clock, clamped")),
    ).toBe(true);
  });

  it("a watermark taken while Odoo's clock ran a day ahead is clamped once the clock is set right", async () => {
    const [ahead, behind] = c.standalone(control()).slice(4);
    const rightMs = clock.nowMicros() / 1_000;
    clock.set(new Date(rightMs + 86_400_000));
    control().write(c.rootModel, ahead!, { [c.rootText]: 'stamped by a clock a day ahead' });
    await h.run('sync-run', { trigger: 'test' });
    // Set right: the process's last reading of Odoo's clock is still the day ahead.
    clock.set(new Date(rightMs + 60_000));
    control().write(c.rootModel, behind!, { [c.rootText]: 'stamped once the clock was right' });
    await h.run('sync-run', { trigger: 'test' });
    expect(await copy().rootText(behind!)).toBe('stamped once the clock was right');
    expect((await h.watermark(c.rootModel))!.getTime()).toBeLessThan(rightMs + 3_600_000);
  });
});
