/**
 * Rows of `sync_audit`, one per change the sync made to the copy, written by the statement that
 * makes the change (from its `returning` rows), so a write the stamp guard refused leaves none.
 *
 * Each row names the BC it belongs to (`bc_odoo_id`: a line's BC, or the BC itself), which is
 * how a BC's history, lines included, is read through one index.
 */
import { sql, type SQL } from 'drizzle-orm';

/** Who made a change: a run, or a trigger outside any run (`resync`, `webhook`). */
export interface AuditSource {
  readonly runId: number | null;
  readonly trigger: string | null;
}

/**
 * `insert into sync_audit` for `rows`, a select of (odoo_id, bc_odoo_id, action,
 * changed_fields jsonb, odoo_write_date).
 */
export function auditInsert(model: string, source: AuditSource, rows: SQL): SQL {
  return sql`
    insert into sync_audit (run_id, trigger, model, odoo_id, bc_odoo_id, action, changed_fields, odoo_write_date)
    select ${source.runId}::bigint, ${source.trigger}::text, ${model}::text, a.* from (${rows}) a`;
}
