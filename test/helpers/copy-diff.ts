/** Compares the copy with the sandbox's committed state, as a sync should leave it. */
import { asc } from 'drizzle-orm';
import type { Db } from '../../src/db/create-db.js';
import { scrapDimagazBc, scrapDimagazBcLine } from '../../src/db/schema/index.js';
import type { SandboxControl } from '../../dev/sandbox/sandbox-control.js';
import { BC_LINE_MODEL, BC_MODEL } from '../../src/sync/models.js';

/**
 * Asserts nothing: returns one line per difference (a record missing from the copy, a record
 * whose data differs, a record in the copy that Odoo does not have). Archived BCs and their
 * lines are the copy's history, not Odoo's state: they are left out.
 */
export async function diffCopyWithSandbox(db: Db, control: SandboxControl): Promise<string[]> {
  const diffs: string[] = [];
  const compare = (model: string, rows: { odooId: number; data: Record<string, unknown> }[]) => {
    const expected = new Map(control.records(model).map((record) => [record.id, record]));
    const actual = new Map(rows.map((row) => [row.odooId, row.data]));
    for (const [id, record] of expected) {
      const copy = actual.get(id);
      if (!copy) diffs.push(`${model} ${id}: missing from the copy`);
      else if (JSON.stringify(sortKeys(copy)) !== JSON.stringify(sortKeys(record)))
        diffs.push(`${model} ${id}: data differs`);
    }
    for (const id of actual.keys())
      if (!expected.has(id)) diffs.push(`${model} ${id}: in the copy but not in Odoo`);
  };
  const bcs = await db.select().from(scrapDimagazBc).orderBy(asc(scrapDimagazBc.odooId));
  const archived = new Set(bcs.filter((row) => row.archivedAt).map((row) => row.odooId));
  compare(
    BC_MODEL,
    bcs.filter((row) => !archived.has(row.odooId)),
  );
  const lines = await db.select().from(scrapDimagazBcLine).orderBy(asc(scrapDimagazBcLine.odooId));
  compare(
    BC_LINE_MODEL,
    lines.filter((line) => !archived.has(line.bcOdooId)),
  );
  return diffs;
}

function sortKeys(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
