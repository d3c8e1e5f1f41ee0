/**
 * The incremental sync, for every family (test/helpers/family-cases.ts): the first run copies
 * the committed state exactly — every field, the typed columns, archived roots — reading every
 * root once and learning each model's watermark from its latest stamp without scanning the
 * children; a quiet run costs its scans; every kind of change reaches the copy with exactly its
 * audit rows; and a transaction that commits late with an old stamp is not lost behind the
 * watermark.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../dev/sandbox/sandbox-time.js';
import type { ColumnKind } from '../../src/families/columns.js';
import { familyModels, relationScans } from '../../src/families/family.js';
import {
  caseCopy,
  caseModels,
  childIdsOf,
  FAMILY_CASES,
  LAGGING_CASES,
  POSTGRES_QUEUE_CASES,
  type FamilyCase,
  useCaseHarness,
} from '../helpers/family-cases.js';
import { copyRows } from '../helpers/family-copy.js';
import { diffTypedColumns } from '../helpers/copy-diff.js';

const odooStamp = (date: Date) => date.toISOString().replace('T', ' ').slice(0, 19);
const latestStamp = (records: readonly Record<string, unknown>[]) =>
  records
    .map((record) => String(record.write_date))
    .sort()
    .at(-1)!;
const TYPED_BUT_JSON: readonly ColumnKind[] = [
  'text',
  'integer',
  'decimal',
  'datetime',
  'date',
  'boolean',
  'many2one',
];
const sorted = (ids: readonly number[]) => [...ids].sort((a, b) => a - b);

function incrementalSync(c: FamilyCase): void {
  const clock = createManualClock(new Date('2026-03-02T08:00:00.250Z'));
  const PAGE_SIZE = 25;
  const h = useCaseHarness(c, {
    size: { roots: 120, childrenPerRoot: 3 },
    sandbox: { clock: clock.source },
    pageSize: PAGE_SIZE,
  });

  it('a first run copies the committed state exactly, typed columns included, and takes each watermark from the latest stamp', async () => {
    const control = h.sandbox.control;
    const roots = control.ids(c.rootModel);
    control.resetCalls();
    const result = await h.run('sync-run', { trigger: 'test' });
    expect(result).toMatchObject({
      status: 'succeeded',
      counts: expect.objectContaining({ created: roots.length, failed: 0 }),
    });
    expect(await h.diffWithSandbox()).toEqual([]);
    expect(await diffTypedColumns(h.db.db, control, h.family, TYPED_BUT_JSON)).toEqual([]);

    const rows = await copyRows(h.db.db, h.family.root);
    expect(rows.map((row) => row.odoo_id)).toEqual(roots);
    const records = new Map(control.records(c.rootModel).map((record) => [record.id, record]));
    const activeField = h.family.root.activeField;
    for (const row of rows) {
      const record = records.get(row.odoo_id)!;
      expect(row.active).toBe(activeField === null ? true : record[activeField]);
      expect(row[c.rootText]).toBe(record[c.rootText] === false ? null : record[c.rootText]);
      expect(odooStamp(row.odoo_write_date)).toBe(record.write_date);
      expect(row.archived_at).toBeNull();
    }
    expect(activeField !== null).toBe(c.archivable);
    if (c.archivable) expect(rows.filter((row) => row.active === false).length).toBeGreaterThan(0);
    expect(odooStamp((await h.watermark())!)).toBe(latestStamp([...records.values()]));

    for (const child of h.family.children) {
      const childRecords = control.records(child.model, { fields: ['write_date'] });
      expect((await copyRows(h.db.db, child)).length).toBe(childRecords.length);
      // Without a root window every root is read, its children with it (Odoo 17's `web_read`:
      // each family's roots list their children), and one call for the child model's latest
      // stamp instead of a scan.
      const reads = ['search_read', 'search', 'read'].map((method) =>
        control.countCalls({ model: child.model, method }),
      );
      expect(reads.reduce((sum, calls) => sum + calls, 0)).toBe(1);
      expect(control.countCalls({ model: c.rootModel, method: 'web_read' })).toBe(
        Math.ceil(roots.length / PAGE_SIZE),
      );
      expect(odooStamp((await h.watermark(child.model))!)).toBe(latestStamp(childRecords));
    }
  });

  it('an empty json field is an empty column (SQL NULL), a set one its json', async () => {
    expect(await diffTypedColumns(h.db.db, h.sandbox.control, h.family, ['json'])).toEqual([]);
  });

  it("a run with nothing changed costs its scans (and at most four calls more: Odoo's clock, a page of the overlap and its children) and writes no audit row", async () => {
    const auditsBefore = (await h.auditRows()).length;
    // One scan per model, and one per one2many kept as a link table (a configured family's).
    const scans = familyModels(h.family).length + relationScans(h.family).length;
    h.sandbox.control.resetCalls();
    const result = await h.run('sync-run', { trigger: 'test' });
    expect(result).toMatchObject({
      status: 'succeeded',
      counts: expect.objectContaining({ created: 0, updated: 0, failed: 0 }),
    });
    expect(h.sandbox.control.countCalls()).toBeLessThanOrEqual(scans + 4);
    expect((await h.auditRows()).length).toBe(auditsBefore);
  });

  it('picks up edits, child-only edits, child deletions, archives and new roots, and audits exactly those', async () => {
    const control = h.sandbox.control;
    const ids = c.standalone(control);
    const edited = ids.slice(0, 6);
    const childEdited = c.childModel ? ids.slice(6, 9) : [];
    const childDeletedFrom = c.childModel ? ids.slice(9, 11) : [];
    const archived = c.archivable ? ids.slice(11, 13) : [];
    const auditsBefore = (await h.auditRows()).length;
    clock.advanceMs(60_000);

    for (const id of edited) control.write(c.rootModel, id, { [c.rootText]: `edited ${id}` });
    const editedChildren = childEdited.map((id) => childIdsOf(control, c, id)[0]!);
    for (const childId of editedChildren)
      control.write(c.childModel!, childId, { [c.childText!]: `label ${childId}` });
    // Deleted through its root, which moves the root's stamp.
    const deletedChildren = childDeletedFrom.map((id) => childIdsOf(control, c, id)[1]!);
    for (const [i, childId] of deletedChildren.entries())
      c.deleteChild(control, childDeletedFrom[i]!, childId);
    if (archived.length > 0) control.archive(c.rootModel, archived);
    const created = [0, 1, 2].map((i) => control.create(c.rootModel, c.newRoot(i, control)));

    const result = await h.run('sync-run', { trigger: 'test' });
    expect(result).toMatchObject({
      status: 'succeeded',
      counts: expect.objectContaining({
        created: 3,
        failed: 0,
        childrenDeleted: deletedChildren.length,
      }),
    });
    expect(await h.diffWithSandbox()).toEqual([]);

    const audits = (await h.auditRows()).slice(auditsBefore);
    const of = (model: string | undefined, action: string) =>
      sorted(audits.filter((a) => a.model === model && a.action === action).map((a) => a.odooId));
    expect(of(c.rootModel, 'created')).toEqual(created);
    expect(of(c.rootModel, 'updated')).toEqual(
      sorted([...edited, ...archived, ...childDeletedFrom]),
    );
    expect(of(c.rootModel, 'archived')).toEqual([]);
    // write_uid moves too: the control interface writes as another user than the seed data.
    const changed = (id: number) =>
      audits
        .find((a) => a.model === c.rootModel && a.odooId === id)!
        .changedFields.filter((field) => field !== 'write_uid');
    for (const id of edited) expect(changed(id)).toEqual([c.rootText, 'write_date'].sort());
    const activeField = h.family.root.activeField;
    for (const id of archived) expect(changed(id)).toEqual([activeField, 'write_date'].sort());
    for (const row of (await copyRows(h.db.db, h.family.root)).filter((r) =>
      archived.includes(r.odoo_id),
    ))
      expect(row).toMatchObject({ active: false, archived_at: null });

    if (c.childModel) {
      const childUpdates = audits.filter((a) => a.model === c.childModel && a.action === 'updated');
      // A child whose root's text changed reads it where it holds it (its link's display name, a
      // related copy): those fields alone moved.
      for (const a of childUpdates.filter((a) => edited.includes(a.rootOdooId!)))
        expect(a.changedFields).toEqual([...c.rootTextInChild].sort());
      expect(
        sorted(childUpdates.filter((a) => !edited.includes(a.rootOdooId!)).map((a) => a.odooId)),
      ).toEqual(sorted(editedChildren));
      expect(of(c.childModel, 'deleted')).toEqual(sorted(deletedChildren));
      expect(of(c.childModel, 'created')).toEqual([]);
      const copy = caseCopy(h, c);
      for (const [i, id] of childEdited.entries())
        expect(await copy.childText(id, editedChildren[i]!)).toBe(`label ${editedChildren[i]}`);
    }
  });

  it('picks up a long transaction that commits after a run with a stamp older than the watermark', async () => {
    const control = h.sandbox.control;
    const copy = caseCopy(h, c);
    const [target, quick, childOwner] = c.standalone(control).slice(20, 23);
    const child = c.childModel ? childIdsOf(control, c, childOwner!)[0] : undefined;
    clock.advanceMs(60_000);
    const tx = control.begin();
    tx.write(c.rootModel, target!, { [c.rootText]: 'written by a long transaction' });
    if (child !== undefined)
      tx.write(c.childModel!, child, { [c.childText!]: 'child written by a long transaction' });
    clock.advanceMs(90_000);
    control.write(c.rootModel, quick!, { [c.rootText]: 'a later, quicker change' });
    if (c.childModel)
      control.write(c.childModel, childIdsOf(control, c, quick!)[0]!, {
        [c.childText!]: 'a later, quicker child change',
      });

    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
    for (const model of caseModels(c))
      expect((await h.watermark(model))!.getTime()).toBeGreaterThan(tx.startedAt.getTime());
    tx.commit();

    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
    expect(await copy.rootText(target!)).toBe('written by a long transaction');
    if (child !== undefined)
      expect(await copy.childText(childOwner!, child)).toBe('child written by a long transaction');
    expect(await h.diffWithSandbox()).toEqual([]);
    expect((await h.runs()).filter((run) => run.status !== 'succeeded')).toEqual([]);
  });
}

describe.each(FAMILY_CASES)('incremental sync of $name', incrementalSync);
describe.each(LAGGING_CASES)(
  'incremental sync of $name, read from a replica that lags',
  incrementalSync,
);
describe.each(POSTGRES_QUEUE_CASES)(
  'incremental sync of $name, its queues in PostgreSQL',
  incrementalSync,
);
