/** Compares a family's copy with the sandbox's committed state, as a sync should leave it. */
import { sql } from 'drizzle-orm';
import type { Db } from '../../src/db/create-db.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import type { RecordFamily } from '../../src/families/family.js';
import type { SandboxControl } from '../../dev/sandbox/sandbox-control.js';

/**
 * Asserts nothing: returns one line per difference (a record missing from the copy, a record
 * whose data differs, a record in the copy that Odoo does not have). Archived roots and their
 * children are the copy's history, not Odoo's state: they are left out.
 */
export async function diffCopyWithSandbox(
  db: Db,
  control: SandboxControl,
  family: RecordFamily,
): Promise<string[]> {
  const diffs: string[] = [];
  const compare = (model: string, rows: { odoo_id: number; data: Record<string, unknown> }[]) => {
    const expected = new Map(control.records(model).map((record) => [record.id, record]));
    const actual = new Map(rows.map((row) => [row.odoo_id, row.data]));
    for (const [id, record] of expected) {
      const copy = actual.get(id);
      if (!copy) diffs.push(`${model} ${id}: missing from the copy`);
      else if (JSON.stringify(sortKeys(copy)) !== JSON.stringify(sortKeys(record)))
        diffs.push(`${model} ${id}: data differs`);
    }
    for (const id of actual.keys())
      if (!expected.has(id)) diffs.push(`${model} ${id}: in the copy but not in Odoo`);
  };
  const { root } = family;
  const roots = rowsOf<{ odoo_id: number; data: Record<string, unknown>; archived: boolean }>(
    await db.execute(
      sql`select odoo_id, data, archived_at is not null as archived from ${sql.identifier(root.table.name)} order by odoo_id`,
    ),
  );
  const archived = new Set(roots.filter((row) => row.archived).map((row) => row.odoo_id));
  compare(
    root.model,
    roots.filter((row) => !archived.has(row.odoo_id)),
  );
  for (const child of family.children) {
    const children = rowsOf<{ odoo_id: number; data: Record<string, unknown>; root_id: number }>(
      await db.execute(
        sql`select odoo_id, data, ${sql.identifier(child.parentColumn)} as root_id from ${sql.identifier(child.table.name)} order by odoo_id`,
      ),
    );
    compare(
      child.model,
      children.filter((row) => !archived.has(row.root_id)),
    );
  }
  return diffs;
}

function sortKeys(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
