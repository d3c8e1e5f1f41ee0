/**
 * A stamp in the future or in the past never freezes a record: a copy stamped later than Odoo's
 * clock takes Odoo's newer version; an Odoo restored from a backup (its records stamped before
 * the copy's) is the truth for the reconcile, audited `drift` with its reason; a watermark later
 * than Odoo's clock is clamped, and a first copy never takes a watermark from a stamp in the
 * future.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../dev/sandbox/sandbox-time.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import { BC_LINE_MODEL, BC_MODEL } from '../../src/families/bcs/family.js';
import { STAMP_FROM_FUTURE, STAMP_WENT_BACK } from '../../src/sync/write-rule.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

const NOW = new Date('2026-03-02T08:00:00.250Z');

describe('stamps out of time', () => {
  let h: SyncHarness;
  const clock = createManualClock(NOW);
  const c = () => h.sandbox.control;
  const query = async <T>(text: string) => rowsOf<T>(await h.db.db.execute(sql.raw(text)));
  beforeAll(async () => {
    h = await createSyncHarness({
      sandbox: { orders: 12, linesPerOrder: 2, clock: clock.source },
      overlapSeconds: 60,
    });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it("a first copy bounds the lines' watermark by Odoo's clock, though a line is stamped next year", async () => {
    const [line] = c().ids(BC_LINE_MODEL);
    c().corrupt(BC_LINE_MODEL, line!, { write_date: Date.parse('2027-03-02T08:00:00Z') * 1_000 });
    await h.run('sync-run', { trigger: 'test' });
    expect((await h.watermark(BC_LINE_MODEL))!.getTime()).toBeLessThan(NOW.getTime() + 5 * 60_000);
    // So a line changed now is still seen by the next run.
    clock.advanceMs(120_000);
    const [, other] = c().ids(BC_LINE_MODEL);
    c().write(BC_LINE_MODEL, other!, { name: 'changed after the first copy' });
    await h.run('sync-run', { trigger: 'test' });
    expect((await h.lineRows()).find((row) => row.odooId === other)!.name).toBe(
      'changed after the first copy',
    );
  });

  it("a copy stamped later than Odoo's clock takes Odoo's newer version, audited drift", async () => {
    const [, bc] = c().ids(BC_MODEL, { activeOnly: true });
    // A stamp written by a clock a day ahead, before scans were bounded by Odoo's clock.
    await query(
      `update scrap_dimagaz_bc set odoo_write_date = '2026-03-03T08:00:00Z' where odoo_id = ${bc}`,
    );
    clock.advanceMs(60_000);
    c().write(BC_MODEL, bc!, { origin: 'changed today' });
    await h.run('sync-run', { trigger: 'test' });
    expect((await h.copyOf(bc!)).bc!.origin).toBe('changed today');
    const [audit] = await query<{ action: string; reason: string }>(
      `select action, reason from sync_audit where odoo_id = ${bc} and model = '${BC_MODEL}' order by id desc limit 1`,
    );
    expect(audit).toEqual({ action: 'drift', reason: STAMP_FROM_FUTURE });
  });

  it('the reconcile writes an Odoo restored from a backup over a copy stamped later, with the reason', async () => {
    const [, , bc] = c().ids(BC_MODEL, { activeOnly: true });
    // The copy holds a version Odoo no longer has: Odoo went back to an older one.
    await query(
      `update scrap_dimagaz_bc set odoo_write_date = odoo_write_date + interval '30 seconds',
         origin = 'lost with the backup', data = data || '{"origin": "lost with the backup"}'
       where odoo_id = ${bc}`,
    );
    await h.run('reconcile', { trigger: 'test' });
    expect((await h.copyOf(bc!)).bc!.origin).not.toBe('lost with the backup');
    expect(await h.diffWithSandbox()).toEqual([]);
    const [audit] = await query<{ action: string; reason: string }>(
      `select action, reason from sync_audit where odoo_id = ${bc} and model = '${BC_MODEL}' order by id desc limit 1`,
    );
    expect(audit).toEqual({ action: 'drift', reason: STAMP_WENT_BACK });
  });

  it("a watermark later than Odoo's clock is clamped and logged: the changes behind it are copied", async () => {
    await query(
      `update sync_watermark set watermark = '2027-01-01T00:00:00Z' where model = '${BC_LINE_MODEL}'`,
    );
    clock.advanceMs(60_000);
    const [, , , line] = c().ids(BC_LINE_MODEL);
    c().write(BC_LINE_MODEL, line!, { name: 'behind a watermark from the future' });
    await h.run('sync-run', { trigger: 'test' });
    expect((await h.lineRows()).find((row) => row.odooId === line)!.name).toBe(
      'behind a watermark from the future',
    );
    expect((await h.watermark(BC_LINE_MODEL))!.getTime()).toBeLessThan(
      Date.parse('2026-03-03T00:00:00Z'),
    );
    expect(
      h.logLines.some((text) => text.includes("watermarks later than Odoo's clock, clamped")),
    ).toBe(true);
  });
});
