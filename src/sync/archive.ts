/**
 * Marking root records that vanished from Odoo. A root is never deleted from the copy: it is
 * archived (with the reason), its children kept, and restored by the next write if it comes back.
 * Its link rows go: they are Odoo's relations of a record Odoo no longer has (a restore writes
 * them again).
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import type { RecordFamily } from '../families/family.js';
import { rootWriteShape } from '../families/write-shape.js';
import { intArray, rowsOf } from '../db/sql-rows.js';
import { auditInsert } from './audit.js';
import { fenceLease, type Lease } from './sync-state.js';
import { linkTableSql } from '../families/table-names.js';

/**
 * Archives the live roots among `odooIds`; returns the ids it archived. With reads that may lag
 * (a read replica), `shownThrough` is the latest stamp they show whole (write-rule.ts): a root
 * stored with a later stamp may be one the replica has not replayed yet, not one gone, and is
 * kept live until the reads show it or a later check confirms it gone.
 */
export async function archiveRoots(
  db: Db,
  family: RecordFamily,
  odooIds: readonly number[],
  reason: string,
  context: { runId: number | null; lease: Lease | null; trigger?: string; shownThrough?: Date },
): Promise<number[]> {
  if (odooIds.length === 0) return [];
  const { table } = rootWriteShape(family.root);
  return db.transaction(async (tx) => {
    if (context.lease) await fenceLease(tx, context.lease);
    const source = { runId: context.runId, trigger: context.trigger ?? null };
    const rows = rowsOf<{ odoo_id: number }>(
      await tx.execute(sql`
        with archived as (
          update ${table} set archived_at = now(), archive_reason = ${reason}
          where odoo_id = any(${intArray(odooIds)}::int[]) and archived_at is null
            ${context.shownThrough ? sql`and odoo_write_date <= ${context.shownThrough.toISOString()}::timestamptz` : sql``}
          returning odoo_id, odoo_write_date)
        ${auditInsert(
          family.name,
          family.root.model,
          source,
          sql`select odoo_id, odoo_id, 'archived', '[]'::jsonb, odoo_write_date, ${reason}::text from archived`,
        )}
        returning odoo_id`),
    );
    const archived = rows.map((row) => row.odoo_id);
    if (archived.length > 0)
      for (const link of family.root.links)
        await tx.execute(sql`
          delete from ${linkTableSql(link)}
          where owner_id = any(${intArray(archived)}::int[])`);
    return archived;
  });
}
