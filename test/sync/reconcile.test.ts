import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BC_LINE_MODEL, BC_MODEL } from '../../src/sync/models.js';
import { createSyncHarness, ODOO_PROTOCOLS, type SyncHarness } from '../helpers/sync-harness.js';

describe.each(ODOO_PROTOCOLS)('reconcile over %s', (protocol) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({
      protocol,
      sandbox: { orders: 60, linesPerOrder: 4 },
    });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('archives a BC hard-deleted in Odoo (row kept, audit row) and deletes vanished lines', async () => {
    const c = h.sandbox.control;
    const [deletedBc, otherBc] = c.ids(BC_MODEL).slice(3, 5);
    const deletedLine = c.records(BC_LINE_MODEL, { load: '' }).find((l) => l.bc_id === otherBc)!.id;
    c.unlink(BC_MODEL, deletedBc!);
    // A line deleted without its BC's write_date moving: invisible to the write_date scan.
    c.unlink(BC_LINE_MODEL, deletedLine);

    const result = await h.run('reconcile', { trigger: 'test' });
    expect(result).toMatchObject({ status: 'succeeded', archived: 1, linesDeleted: 1 });

    const row = (await h.bcRows()).find((bc) => bc.odooId === deletedBc)!;
    expect(row.archivedAt).not.toBeNull();
    expect(row.archiveReason).toBe('deleted in Odoo');
    expect((await h.lineRows()).some((l) => l.odooId === deletedLine)).toBe(false);
    const audits = await h.auditRows();
    expect(audits.filter((a) => a.action === 'archived').map((a) => a.odooId)).toEqual([deletedBc]);
    expect(audits.filter((a) => a.action === 'deleted').map((a) => a.odooId)).toEqual([
      deletedLine,
    ]);
    expect(await h.diffWithSandbox()).toEqual([]);

    const again = await h.run('reconcile', { trigger: 'test' });
    expect(again).toMatchObject({ archived: 0, linesDeleted: 0 });
  });

  it('restores an archived BC that Odoo lists again', async () => {
    const c = h.sandbox.control;
    const [hidden] = c.ids(BC_MODEL).slice(10, 11);
    c.hide(BC_MODEL, hidden!);
    expect(await h.run('reconcile', { trigger: 'test' })).toMatchObject({ archived: 1 });
    c.unhide(BC_MODEL, hidden!);
    expect(await h.run('reconcile', { trigger: 'test' })).toMatchObject({ restored: 1 });
    const row = (await h.bcRows()).find((bc) => bc.odooId === hidden)!;
    expect(row.archivedAt).toBeNull();
    expect(
      (await h.auditRows())
        .filter((a) => a.odooId === hidden && a.model === BC_MODEL)
        .map((a) => a.action),
    ).toEqual(['created', 'archived', 'restored']);
  });

  it('refuses to archive most of the table when Odoo suddenly lists far fewer BCs', async () => {
    const c = h.sandbox.control;
    const visible = c.ids(BC_MODEL);
    c.hide(BC_MODEL, visible.slice(0, Math.ceil(visible.length * 0.8)));
    const before = (await h.bcRows()).filter((bc) => bc.archivedAt).length;
    await expect(h.run('reconcile', { trigger: 'test' })).rejects.toThrow(
      /SYNC_RECONCILE_SAFETY_STOP/,
    );
    expect((await h.bcRows()).filter((bc) => bc.archivedAt).length).toBe(before);
    c.unhide(BC_MODEL, visible);
  });
});
