/**
 * Values that no longer fit their column (docs/models.md, "When a field changes type"). A field
 * Odoo recreated as another type (a Studio field made anew, char → integer, selection →
 * many2one) sends values its column's kind cannot hold. Refusing the record would freeze it, and
 * every later change of it, until a person renamed the column; so the mapping leaves that column
 * as it is, as for a field Odoo no longer lists, and copies the record, `data` exact
 * (map-record.ts). What is left out is noted here, per field, in the write's own transaction:
 * `status`, the worker's metrics and `migrate` read it; `migrate` forgets a field once its column
 * takes its values again.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { syncUnfitValue } from '../db/schema/index.js';
import type { ColumnKind } from '../families/columns.js';
import { familyModels, type ModelDeclaration, type RecordFamily } from '../families/family.js';
import type { MappedRecord, MappedRoot } from '../families/map-record.js';

export interface UnfitField {
  readonly family: string;
  readonly model: string;
  readonly field: string;
  readonly kind: string;
  readonly writes: number;
  readonly firstSeenAt: Date;
  readonly lastSeenAt: Date;
  readonly lastOdooId: number;
}

/** The kind of the column (or `link`) a field fills in `model`. */
function kindOf(model: ModelDeclaration, field: string): ColumnKind | 'link' {
  return model.columns.find((column) => column.field === field)?.kind ?? 'link';
}

/** Notes the unfit values of a batch's records, if any (one statement, in the write's transaction). */
export async function noteUnfitValues(
  tx: Pick<Db, 'execute'>,
  family: RecordFamily,
  items: readonly MappedRoot[],
): Promise<void> {
  const seen = new Map<
    string,
    { model: string; field: string; kind: string; writes: number; last: number }
  >();
  const note = (model: ModelDeclaration, record: MappedRecord) => {
    for (const field of record.unfit) {
      const key = `${model.model}\0${field}`;
      const entry = seen.get(key);
      if (entry) {
        entry.writes += 1;
        entry.last = record.odooId;
      } else
        seen.set(key, {
          model: model.model,
          field,
          kind: kindOf(model, field),
          writes: 1,
          last: record.odooId,
        });
    }
  };
  const [, ...children] = familyModels(family);
  for (const item of items) {
    note(family.root, item);
    children.forEach((child, i) => {
      for (const record of item.children[i] ?? []) note(child, record);
    });
  }
  if (seen.size === 0) return;
  const rows = [...seen.values()];
  await tx.execute(sql`
    insert into sync_unfit_value (family, model, field, kind, writes, last_odoo_id)
    select ${family.name}, r.model, r.field, r.kind, r.writes, r.last
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as r(model text, field text, kind text, writes bigint, last int)
    on conflict (family, model, field) do update set
      kind = excluded.kind,
      writes = sync_unfit_value.writes + excluded.writes,
      last_seen_at = now(),
      last_odoo_id = excluded.last_odoo_id`);
}

/** The fields whose values were left out, a family's or every family's. */
export async function readUnfitValues(db: Db, family?: string): Promise<UnfitField[]> {
  const rows = await db
    .select()
    .from(syncUnfitValue)
    .where(family === undefined ? sql`true` : sql`${syncUnfitValue.family} = ${family}`)
    .orderBy(syncUnfitValue.family, syncUnfitValue.model, syncUnfitValue.field);
  return rows;
}

/** Forgets a field: its column takes its values again (migrate made it anew). */
export async function forgetUnfitValues(
  db: Db,
  entries: readonly { family: string; model: string; field: string }[],
): Promise<void> {
  if (entries.length === 0) return;
  await db.execute(sql`
    delete from sync_unfit_value u
    using jsonb_to_recordset(${JSON.stringify(entries)}::jsonb) as e(family text, model text, field text)
    where u.family = e.family and u.model = e.model and u.field = e.field`);
}

/** One line per field, for `status` and `migrate`. */
export function describeUnfit(field: UnfitField): string {
  return `${field.model}.${field.field}: ${field.writes} writes since ${field.firstSeenAt.toISOString()} left values out of its ${field.kind} column (last: record ${field.lastOdooId}, ${field.lastSeenAt.toISOString()}); the records are copied, data exact — Odoo's field changed type: see docs/models.md, "When a field changes type"`;
}
