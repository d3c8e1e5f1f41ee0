/**
 * What a webhook read needs to tell a record deleted since its event from one not committed yet
 * (src/sync/webhook-event.ts): both are absent from Odoo's answer. A record the copy's history
 * knows (`sync_audit`: every record the sync ever wrote, deleted children included) was
 * committed once: absent now, it was deleted, and the read that shows it absent settles its
 * events — the copy then holds that deletion. A record the copy never knew may be a creation
 * whose transaction has not committed yet: its events wait for a read that shows it.
 */
import { sql } from 'drizzle-orm';
import type { OdooCallOptions } from '../clients/odoo/odoo-types.js';
import type { Db } from '../db/create-db.js';
import { intArray, rowsOf } from '../db/sql-rows.js';
import type { ChildModel, RecordFamily } from '../families/family.js';
import { childWriteShape } from '../families/write-shape.js';
import type { FamilySchema } from './odoo-reads.js';
import type { CountedSource } from './odoo-source.js';

/** A record of a family as the events name it: `model#id`. */
export const recordKey = (model: string, odooId: number) => `${model}#${odooId}`;

/**
 * Of these records of one root, those the copy's history knows: written by the sync once, under
 * this root (one range of the audit's index).
 */
export async function knownToCopy(
  db: Db,
  family: RecordFamily,
  rootId: number,
  records: readonly { readonly model: string; readonly recordId: number }[],
): Promise<Set<string>> {
  if (records.length === 0) return new Set();
  const rows = rowsOf<{ model: string; odoo_id: number }>(
    await db.execute(sql`
      select distinct model, odoo_id from sync_audit
      where family = ${family.name} and root_odoo_id = ${rootId}
        and odoo_id = any(${intArray([...new Set(records.map((one) => one.recordId))])}::int[])`),
  );
  return new Set(rows.map((row) => recordKey(row.model, row.odoo_id)));
}

/** The root the copy holds a child under; null when it holds no such child. */
export async function copiedRootOfChild(
  db: Db,
  child: ChildModel,
  childId: number,
): Promise<number | null> {
  const [row] = rowsOf<{ root_id: number }>(
    await db.execute(sql`
      select ${sql.identifier(child.parentColumn)} as root_id from ${childWriteShape(child).table}
      where odoo_id = ${childId}`),
  );
  return row?.root_id ?? null;
}

/**
 * Of these children of `child`'s model, those Odoo has under no root (`search` counts archived
 * ones too, in the family's context): a child its root no longer lists may have moved.
 */
export async function childrenGone(
  odoo: CountedSource,
  child: ChildModel,
  ids: readonly number[],
  schema: FamilySchema,
  call?: OdooCallOptions,
): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const present = new Set(
    await odoo.search(child.model, [['id', 'in', [...ids]]], { context: schema.context }, call),
  );
  return new Set(ids.filter((id) => !present.has(id)));
}
