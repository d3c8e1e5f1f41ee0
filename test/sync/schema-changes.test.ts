/**
 * Odoo's schema moves under the copy, in every family (test/helpers/family-cases.ts): a field
 * Odoo adds (a module installed, a Studio field) with a default moves no stamp, yet reaches every
 * record's copy — the verify checks every record when the fields the reads use changed, and a
 * configured family's `migrate` gives it a column the next reconcile fills; a field Odoo stops
 * listing keeps its column and its last value through runs, reconciles and verifies (and
 * `migrate`): the copy never destroys a value (docs/models.md, "When Odoo's schema changes").
 */
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { rowsOf } from '../../src/db/sql-rows.js';
import { readUnfitValues } from '../../src/sync/unfit-values.js';
import { describeStatus } from '../../workers/sync-cli-status.js';
import { registerUnfitMetrics } from '../../workers/worker-metrics.js';
import {
  caseCopy,
  FAMILY_CASES,
  LAGGING_CASES,
  useCaseHarness,
  type FamilyCase,
} from '../helpers/family-cases.js';

interface VerifyResult {
  scope: unknown;
  drifted: number;
  healed: number;
  driftFields: Record<string, Record<string, number>>;
}

describe.each(FAMILY_CASES)('the $name copy when Odoo’s schema moves', schemaMovesOf);
describe.each(LAGGING_CASES)(
  'the $name copy when Odoo’s schema moves, read from a replica that lags',
  schemaMovesOf,
);

function schemaMovesOf(c: FamilyCase): void {
  const configured = 'file' in c.declaration;
  const h = useCaseHarness(c, { size: { roots: 30, childrenPerRoot: 2 }, copied: true });
  beforeAll(async () => {
    // A verify notes the fields the reads use: the next one knows when they changed.
    await h.run('verify', { trigger: 'test', all: true });
  });

  const control = () => h.sandbox.control;
  const root = () => sql.identifier(h.family.root.table.name);
  const count = async (where: ReturnType<typeof sql>) =>
    rowsOf<{ n: number }>(
      await h.db.db.execute(
        sql`select count(*)::int as n from ${root()} where archived_at is null and ${where}`,
      ),
    )[0]!.n;

  it('a field Odoo adds with a default, moving no stamp, reaches every record: by the verify, and by migrate and the reconcile into its column', async () => {
    control().addField(
      c.rootModel,
      { name: 'x_channel', type: 'char', string: 'Channel', store: true, manual: true },
      { default: 'portal' },
    );
    await h.run('sync-run', { trigger: 'test' });
    await h.run('reconcile', { trigger: 'test' });
    const live = await count(sql`true`);
    const holding = () => count(sql`data->>'x_channel' = 'portal'`);
    expect(await holding()).toBeLessThan(live);

    // The fields the reads use changed: the verify checks every record, not a slice.
    const result = (await h.run('verify', { trigger: 'test' })) as unknown as VerifyResult;
    expect(result.scope).toBe('all');
    expect(result.driftFields[c.rootModel]).toMatchObject({ x_channel: expect.any(Number) });
    expect(await holding()).toBe(live);
    expect(await h.diffWithSandbox()).toEqual([]);
    // Told, not hidden: the run log row and its counts, the audit rows.
    const [run] = await h.runs();
    expect(run).toMatchObject({ kind: 'verify', drifted: result.drifted, healed: result.drifted });
    expect(run!.driftFields).toEqual(result.driftFields);
    expect(h.logLines.join('')).toContain('the copy differed from Odoo; written again');

    if (!configured) {
      // A family in code has the columns its tables declare: the field is in `data` alone.
      expect(h.family.root.table.sqlTypes.has('x_channel')).toBe(false);
      return;
    }
    // A configured family's layout follows Odoo's schema at `migrate`: a column, filled for
    // every record by the next reconcile, which reads again what an older layout wrote.
    const [applied] = await h.migrate();
    expect(applied).toMatchObject({ family: c.name, changed: true });
    expect(await count(sql`x_channel is not null`)).toBe(0);
    const audits = (await h.auditRows()).length;
    await expect(h.run('reconcile', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
    expect(await count(sql`x_channel = 'portal'`)).toBe(live);
    expect(await count(sql`layout_version <> ${applied!.version}`)).toBe(0);
    // Odoo changed no record: a record written again for its new column leaves no audit row.
    expect((await h.auditRows()).length).toBe(audits);
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('a field Odoo stops listing keeps its column and its value in data through a run, a reconcile and a verify, and migrate', async () => {
    const field = c.droppable;
    const column = h.family.root.columns.find((col) => col.field === field)!.column;
    const [id] = control()
      .records(c.rootModel, { ids: c.standalone(control()), fields: [field] })
      .filter((record) => record[field] !== false)
      .map((record) => record.id);
    const kept = async () =>
      rowsOf<{ typed: string | null; held: unknown }>(
        await h.db.db.execute(
          sql`select ${sql.identifier(column)}::text as typed, data->${field} as held
              from ${root()} where odoo_id = ${id}`,
        ),
      )[0]!;
    const before = await kept();
    expect(before.typed).not.toBeNull();
    expect(before.held).not.toBeNull();
    const heldBy = () => count(sql`${sql.identifier(column)} is not null and data ? ${field}`);
    const heldBefore = await heldBy();

    control().removeField(c.rootModel, field);
    // A change Odoo stamps: the next run reads the record, without the field.
    control().write(c.rootModel, id!, { [c.rootText]: 'changed after the upgrade' });
    await h.run('sync-run', { trigger: 'test' });
    expect(await caseCopy(h, c).rootText(id!)).toBe('changed after the upgrade');
    expect(await kept()).toEqual(before);

    await h.run('reconcile', { trigger: 'test' });
    const verified = await h.run('verify', { trigger: 'test', all: true });
    expect(verified).toMatchObject({ drifted: 0 });
    expect(await kept()).toEqual(before);
    // The verify says what it kept rather than erasing it.
    expect(
      h.logLines.some(
        (line) =>
          line.includes(
            'fields Odoo no longer lists are kept in the copy with their last values, not erased',
          ) && line.includes(`${c.rootModel}: ${field}`),
      ),
    ).toBe(true);

    // migrate (a configured family's) freezes the column: no longer written, still holding.
    await h.migrate();
    control().write(c.rootModel, id!, { [c.rootText]: 'changed again' });
    await h.run('sync-run', { trigger: 'test' });
    await h.run('reconcile', { trigger: 'test' });
    await h.run('verify', { trigger: 'test', all: true });
    expect(await caseCopy(h, c).rootText(id!)).toBe('changed again');
    expect(await kept()).toEqual(before);
    expect(await heldBy()).toBe(heldBefore);
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('a field Odoo recreates as another type freezes no record: its column keeps its value, data follows Odoo, and it is told per field', async () => {
    // Last in the table: the field stays retyped in this row's Odoo. A text field of the root's
    // own (one its children relate to would fault the sandbox's related fields, as in Odoo).
    const column = h.family.root.columns.find(
      (col) =>
        (col.kind === 'text' || col.kind === 'selection') &&
        ![c.rootText, c.droppable, 'name', ...c.rootTextInChild].includes(col.field),
    )!;
    const field = column.field;
    const id = c.standalone(control()).at(-1)!;
    const typed = async () =>
      rowsOf<{ typed: string | null; held: unknown; stamp: string }>(
        await h.db.db.execute(
          sql`select ${sql.identifier(column.column)}::text as typed, data->${field} as held,
                odoo_write_date::text as stamp
              from ${root()} where odoo_id = ${id}`,
        ),
      )[0]!;
    const before = await typed();
    expect(before.typed).not.toBeNull();

    // A Studio field made anew as an integer, under the same name.
    control().removeField(c.rootModel, field);
    control().addField(c.rootModel, {
      name: field,
      type: 'integer',
      string: 'Retyped',
      store: true,
      manual: true,
    });
    control().write(c.rootModel, id, { [field]: 42 });
    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
      counts: expect.objectContaining({ failed: 0 }) as unknown,
    });
    const after = await typed();
    expect(after.held).toBe(42);
    expect(after.typed).toBe(before.typed);
    expect(after.stamp).not.toBe(before.stamp);
    expect(await h.failures()).toEqual([]);

    // A later change of the record is copied too: nothing froze.
    control().write(c.rootModel, id, { [field]: 43 });
    await h.run('sync-run', { trigger: 'test' });
    expect((await typed()).held).toBe(43);

    const unfit = await readUnfitValues(h.db.db, c.name);
    expect(unfit).toEqual([
      expect.objectContaining({
        model: c.rootModel,
        field,
        kind: column.kind,
        writes: expect.any(Number) as unknown,
      }),
    ]);
    const status = await describeStatus(h.db.db, [h.family]);
    expect(status.text).toContain(`${c.rootModel}.${field}: `);
    const registry = new Registry();
    registerUnfitMetrics(registry, h.db.db);
    expect(await registry.getSingleMetricAsString('erp_bridge_sync_unfit_value_writes')).toContain(
      `family="${c.name}",model="${c.rootModel}",field="${field}"`,
    );
  });
}
