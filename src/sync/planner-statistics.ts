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
import { quotedTable } from '../families/table-names.js';

/** The advisory lock of a table's ANALYZE, by the table's name. */
const ANALYZE_LOCK = 'erp-bridge analyze ';

/** A family's tables, quoted and in their schema: its models' and their link tables. */
function familyTables(family: RecordFamily): string[] {
  return [family.root, ...family.children].flatMap((model) => [
    quotedTable(model.table),
    ...model.links.map((link) => quotedTable({ name: link.table, schema: model.table.schema })),
  ]);
}

/**
 * Analyzes those of a family's tables whose statistics say empty (analyzed with no row: `relpages`
 * and `reltuples` 0) while they hold rows. One catalog query when none does, so a write can ask
 * after every page; a table is analyzed once, its statistics then describe rows. Pages written
 * at once find it empty together: one analyzes it, under a lock the others do not wait for, and
 * they find it analyzed at their next page (each ANALYZE of a wide table is a second of
 * PostgreSQL's CPU in a first copy).
 */
export async function analyzeTablesPlannedEmpty(db: Db, family: RecordFamily): Promise<string[]> {
  const stale = rowsOf<{ name: string }>(
    await db.execute(sql`
      select c.oid::regclass::text as name from pg_class c
      where c.oid = any(${textArray(familyTables(family))}::text[]::regclass[])
        and c.relpages = 0 and c.reltuples = 0 and pg_relation_size(c.oid) > 0`),
  ).map((row) => row.name);
  if (stale.length === 0) return [];
  return db.transaction(async (tx) => {
    const analyzed: string[] = [];
    for (const name of stale) {
      const [lock] = rowsOf<{ mine: boolean }>(
        await tx.execute(
          sql`select pg_try_advisory_xact_lock(hashtextextended(${ANALYZE_LOCK + name}, 0)) as mine`,
        ),
      );
      if (!lock?.mine) continue;
      // Read after the lock: a writer that held it has committed its statistics by now.
      const [still] = rowsOf<{ empty: boolean }>(
        await tx.execute(
          sql`select relpages = 0 and reltuples = 0 as empty from pg_class where oid = ${name}::regclass`,
        ),
      );
      if (!still?.empty) continue;
      // The regclass's own text: quoted where needed, in its schema when off the search path.
      await tx.execute(sql`analyze ${sql.raw(name)}`);
      analyzed.push(name);
    }
    return analyzed;
  });
}
