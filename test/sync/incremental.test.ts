import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { syncLog } from '../../src/db/schema/index.js';
import { createManualClock } from '../../dev/sandbox/sandbox-time.js';
import { BC_LINE_MODEL, BC_MODEL } from '../../src/families/bcs/family.js';
import { createSyncHarness, ODOO_PROTOCOLS, type SyncHarness } from '../helpers/sync-harness.js';

describe.each(ODOO_PROTOCOLS)('incremental sync over %s', (protocol) => {
  let h: SyncHarness;
  // Odoo's clock, moved by hand: Odoo stamps write_date with the transaction start and sends whole seconds.
  const clock = createManualClock(new Date('2026-03-02T08:00:00.250Z'));
  beforeAll(async () => {
    h = await createSyncHarness({
      protocol,
      sandbox: { orders: 2_000, linesPerOrder: 10, clock: clock.source },
      pageSize: 250,
    });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('first run copies the committed state exactly: ids, every field, typed columns, archived BCs', async () => {
    const result = await h.run('sync-run', { trigger: 'test' });
    expect(result).toMatchObject({
      status: 'succeeded',
      counts: expect.objectContaining({ created: 2_000, failed: 0 }),
    });
    expect(await h.diffWithSandbox()).toEqual([]);

    const bcs = await h.bcRows();
    expect(bcs).toHaveLength(2_000);
    const records = new Map(h.sandbox.control.records(BC_MODEL).map((r) => [r.id, r]));
    const archived = bcs.filter((bc) => !bc.active);
    expect(archived.length).toBeGreaterThan(0);
    for (const bc of bcs) {
      const record = records.get(bc.odooId)!;
      expect(bc.active).toBe(record.active);
      expect(bc.name).toBe(record.name);
      expect(bc.state).toBe(record.state);
      expect(bc.partnerId).toBe((record.partner_id as [number, string])[0]);
      expect(Number(bc.amountTotal)).toBe(record.amount_total);
      expect(bc.odooWriteDate.toISOString().replace('T', ' ').slice(0, 19)).toBe(record.write_date);
      expect(bc.archivedAt).toBeNull();
    }
    const lines = await h.lineRows();
    expect(lines).toHaveLength(h.sandbox.control.ids(BC_LINE_MODEL).length);
  });

  it('a run with nothing changed makes at most 4 Odoo calls and writes no audit row', async () => {
    const auditsBefore = (await h.auditRows()).length;
    h.sandbox.control.resetCalls();
    const result = await h.run('sync-run', { trigger: 'test' });
    expect(result).toMatchObject({
      status: 'succeeded',
      counts: expect.objectContaining({ created: 0, updated: 0, failed: 0 }),
    });
    expect(h.sandbox.control.countCalls()).toBeLessThanOrEqual(4);
    expect((await h.auditRows()).length).toBe(auditsBefore);
  });

  it('picks up edits, line-only edits, archives, line deletions and new BCs, and audits exactly those', async () => {
    const c = h.sandbox.control;
    const ids = c.ids(BC_MODEL, { activeOnly: true });
    const edited = ids.slice(0, 10);
    const lineEdited = ids.slice(10, 15);
    const toArchive = ids.slice(15, 17);
    const lineDeletedFrom = ids.slice(17, 20);
    const auditsBefore = (await h.auditRows()).length;

    for (const id of edited) c.write(BC_MODEL, id, { origin: `edited ${id}` });
    const linesOf = (bcId: number) =>
      c
        .records(BC_LINE_MODEL, { load: '' })
        .filter((l) => l.bc_id === bcId)
        .map((l) => l.id);
    const editedLines = lineEdited.map((bcId) => linesOf(bcId)[0]!);
    for (const lineId of editedLines) c.write(BC_LINE_MODEL, lineId, { qty_received: 1 });
    c.archive(BC_MODEL, toArchive);
    // Deleting a line recomputes its BC's totals in Odoo, which moves the BC's write_date.
    const deletedLines = lineDeletedFrom.map((bcId) => linesOf(bcId)[1]!);
    for (const lineId of deletedLines) c.unlink(BC_LINE_MODEL, lineId, { bumpParent: true });
    const partner = c.records(BC_MODEL, { load: '', ids: [ids[0]!] })[0]!.partner_id;
    const created = Array.from({ length: 5 }, (_, i) =>
      c.create(BC_MODEL, { name: `NEW${i}`, partner_id: partner, state: 'draft' }),
    );

    const result = await h.run('sync-run', { trigger: 'test' });
    expect(result).toMatchObject({ status: 'succeeded' });
    expect(await h.diffWithSandbox()).toEqual([]);

    const audits = (await h.auditRows()).slice(auditsBefore);
    const of = (model: string, action: string) =>
      audits
        .filter((a) => a.model === model && a.action === action)
        .map((a) => a.odooId)
        .sort((a, b) => a - b);
    expect(of(BC_MODEL, 'created')).toEqual(created);
    expect(of(BC_LINE_MODEL, 'updated')).toEqual([...editedLines].sort((a, b) => a - b));
    expect(of(BC_LINE_MODEL, 'deleted')).toEqual([...deletedLines].sort((a, b) => a - b));
    expect(of(BC_MODEL, 'updated')).toEqual(
      [...edited, ...toArchive, ...lineDeletedFrom].sort((a, b) => a - b),
    );
    // write_uid moves too: the control interface writes as another user than the seed data.
    for (const a of audits.filter((a) => a.model === BC_MODEL && edited.includes(a.odooId))) {
      expect(a.changedFields.filter((f) => f !== 'write_uid')).toEqual(['origin', 'write_date']);
    }
    for (const a of audits.filter((a) => a.model === BC_MODEL && toArchive.includes(a.odooId))) {
      expect(a.changedFields.filter((f) => f !== 'write_uid')).toEqual(['active', 'write_date']);
    }
    expect(of(BC_LINE_MODEL, 'created')).toEqual([]);
    expect(of(BC_MODEL, 'archived')).toEqual([]);
    const archivedRows = (await h.bcRows()).filter((bc) => toArchive.includes(bc.odooId));
    expect(archivedRows.map((bc) => bc.active)).toEqual([false, false]);
  });

  it('picks up a long transaction that commits after a run with a write_date older than the watermark', async () => {
    const c = h.sandbox.control;
    const [target] = c.ids(BC_MODEL, { activeOnly: true }).slice(-1);
    clock.advanceMs(60_000);
    const tx = c.begin();
    tx.write(BC_MODEL, target!, { origin: 'written by a long transaction' });
    clock.advanceMs(90_000);
    c.write(BC_MODEL, c.ids(BC_MODEL)[100]!, { origin: 'a later, quicker change' });

    const first = await h.run('sync-run', { trigger: 'test' });
    expect(first).toMatchObject({ status: 'succeeded' });
    expect((await h.watermark())!.getTime()).toBeGreaterThan(tx.startedAt.getTime());
    tx.commit();

    await h.run('sync-run', { trigger: 'test' });
    const row = (await h.bcRows()).find((bc) => bc.odooId === target);
    expect(row!.origin).toBe('written by a long transaction');
    expect(await h.diffWithSandbox()).toEqual([]);
    const runs = await h.db.db.select().from(syncLog).where(eq(syncLog.kind, 'sync'));
    expect(runs.every((run) => run.status === 'succeeded')).toBe(true);
  });
});
