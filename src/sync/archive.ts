/**
 * Marking BCs that vanished from Odoo. A BC is never deleted from the copy: it is archived (with
 * the reason), its lines kept, and restored by the next write if it comes back.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { intArray, rowsOf } from '../db/sql-rows.js';
import { auditInsert } from './audit.js';
import { BC_MODEL } from './models.js';
import { fenceLease, type Lease } from './sync-state.js';

/** Archives the live BCs among `odooIds`; returns the ids it archived. */
export async function archiveBcs(
  db: Db,
  odooIds: readonly number[],
  reason: string,
  context: { runId: number | null; lease: Lease | null; trigger?: string },
): Promise<number[]> {
  if (odooIds.length === 0) return [];
  return db.transaction(async (tx) => {
    if (context.lease) await fenceLease(tx, context.lease);
    const source = { runId: context.runId, trigger: context.trigger ?? null };
    const rows = rowsOf<{ odoo_id: number }>(
      await tx.execute(sql`
        with archived as (
          update scrap_dimagaz_bc set archived_at = now(), archive_reason = ${reason}
          where odoo_id = any(${intArray(odooIds)}::int[]) and archived_at is null
          returning odoo_id, odoo_write_date)
        ${auditInsert(
          BC_MODEL,
          source,
          sql`select odoo_id, odoo_id, 'archived', '[]'::jsonb, odoo_write_date from archived`,
        )}
        returning odoo_id`),
    );
    return rows.map((row) => row.odoo_id);
  });
}
