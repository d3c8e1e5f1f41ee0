/**
 * Rows of `sync_audit`, one per change the sync made to the copy, written by the statement that
 * makes the change (from its `returning` rows), so a write the stamp guard refused leaves none.
 *
 * Each row names its family and the root it belongs to (`root_odoo_id`: a child's root, or the
 * root itself), which is how a root's history, children included, is read through one index.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { rowsOf } from '../db/sql-rows.js';

/** Who made a change: a run, or a trigger outside any run (`resync`, `webhook`). */
export interface AuditSource {
  readonly runId: number | null;
  readonly trigger: string | null;
}

/**
 * `insert into sync_audit` for `rows`, a select of (odoo_id, root_odoo_id, action,
 * changed_fields jsonb, odoo_write_date, reason).
 */
export function auditInsert(family: string, model: string, source: AuditSource, rows: SQL): SQL {
  return sql`
    insert into sync_audit (run_id, trigger, family, model, odoo_id, root_odoo_id, action, changed_fields, odoo_write_date, reason)
    select ${source.runId}::bigint, ${source.trigger}::text, ${family}::text, ${model}::text, a.*
    from (${rows}) a`;
}

/** The id of the last audit row committed now (0 before the first). */
export async function lastAuditId(db: Db): Promise<number> {
  const [row] = rowsOf<{ id: string }>(
    await db.execute(sql`select coalesce(max(id), 0)::text as id from sync_audit`),
  );
  return Number(row!.id);
}
