/**
 * PostgreSQL plans from the statistics of the last ANALYZE. A copy table analyzed while empty
 * (an operator's `vacuum analyze` after `migrate`, a restore) is planned as empty until autovacuum
 * analyzes it again, up to a minute into a first copy: the planner then finds a whole composite
 * index (`(bc_odoo_id, sequence, odoo_id)`, `(odoo_write_date, odoo_id)`) as cheap as the unique
 * one for `odoo_id = any(…)`, and scans it for every batch — a first copy grows quadratic (measured
 * in docs/performance.md). `set local enable_seqscan = off` cannot keep that out; fresh statistics
 * do.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { rowsOf, textArray } from '../db/sql-rows.js';
import type { RecordFamily } from '../families/family.js';

/** A family's tables: its models' and their link tables. */
function familyTables(family: RecordFamily): string[] {
  return [family.root, ...family.children].flatMap((model) => [
    model.table.name,
    ...model.links.map((link) => link.table),
  ]);
}

/**
 * Analyzes those of a family's tables whose statistics say empty (analyzed with no row: `relpages`
 * and `reltuples` 0) while they hold rows. One catalog query when none does, so a write can ask
 * after every page; a table is analyzed once, its statistics then describe rows.
 */
export async function analyzeTablesPlannedEmpty(db: Db, family: RecordFamily): Promise<string[]> {
  const stale = rowsOf<{ name: string }>(
    await db.execute(sql`
      select c.relname as name from pg_class c
      where c.oid = any(${textArray(familyTables(family))}::text[]::regclass[])
        and c.relpages = 0 and c.reltuples = 0 and pg_relation_size(c.oid) > 0`),
  ).map((row) => row.name);
  for (const name of stale) await db.execute(sql`analyze ${sql.identifier(name)}`);
  return stale;
}
