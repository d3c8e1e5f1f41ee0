/**
 * A model's rows of a write batch, as statements: one set-based upsert per shape of rows, read
 * from one jsonb parameter, guarded by the rows' stamps and auditing in the same statement what it
 * really wrote; then the link rows of the records written, replaced whole. write-records.ts
 * decides what a batch writes; this module writes it.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { intArray, rowsOf } from '../db/sql-rows.js';
import type {
  ChildModel,
  LinkTable,
  ModelDeclaration,
  RecordFamily,
  RootModel,
} from '../families/family.js';
import type { MappedRecord } from '../families/map-record.js';
import { linkTableSql } from '../families/table-names.js';
import { absentKey, writeShape, type WriteShape } from '../families/write-shape.js';
import { auditInsert, type AuditSource } from './audit.js';
import { ConcurrentCreateError } from './sync-errors.js';
import type { AuditedAction } from './write-rule.js';

/**
 * A written row that replaced a stored one: its audit entry. Every other written row is new. A
 * row written again only because its table's layout grew (`relaid`) leaves no audit row: Odoo
 * did not change it.
 */
export interface AuditedUpdate {
  readonly odoo_id: number;
  readonly action: AuditedAction;
  readonly changed: string[];
  readonly reason: string | null;
}

/** What one model of a batch writes. */
export interface ModelWrites {
  readonly records: MappedRecord[];
  readonly updates: AuditedUpdate[];
}

type Executor = Pick<Db, 'execute'>;

/** What a batch's new rows are audited as, and when a stored row yields to an older stamp. */
export interface WriteHow {
  readonly created: 'created' | 'drift';
  /** Under the lease, from Odoo's current record (up to `overwriteThrough`, when set). */
  readonly overwriteOlder: boolean;
  /** With reads that may lag: a stored stamp later than this is kept (write-rule.ts). */
  readonly overwriteThrough: Date | undefined;
  /** When the stored stamp is later than this (a clock ahead of Odoo's). */
  readonly overwriteAfter: Date | undefined;
  /** With `overwriteOlder`: only a row not written since then (its read's start). */
  readonly overwriteWrittenBy: Date | undefined;
}

/** Who wrote a batch of rows, which of them replaced stored rows, and what a new row is. */
interface RowsAudit extends AuditSource {
  readonly updates: readonly AuditedUpdate[];
  readonly created: 'created' | 'drift';
  /**
   * When a stored row may be overwritten by an older stamp: what the rule decided under the rows'
   * locks (write-rule.ts), kept by the statement itself for the rows a first copy does not lock.
   */
  readonly guard: SQL;
}

/**
 * Writes a model's rows of a batch, then the links of those the guard let through. Rows are
 * written by the columns they hold: a batch read with one field list holds one set.
 */
export async function writeModel(
  tx: Executor,
  family: RecordFamily,
  model: RootModel | ChildModel,
  writes: ModelWrites,
  source: AuditSource,
  anyStored: boolean,
  how: WriteHow,
): Promise<void> {
  const linked = model.links.length > 0;
  // Rows are grouped by the shape that writes them: the columns they lack, the fields unread,
  // whether they hold references to large texts (staged, put back by the statement). A row that
  // holds such texts is written alone: a statement then puts back one record's values (at most
  // what one `data` holds), never a batch's, and stays as short as the execution's bound on a
  // pending query asks (docs/sync.md, "Large values").
  const groups = new Map<string, { shape: WriteShape; records: MappedRecord[] }>();
  for (const record of writes.records) {
    const absent = absentKey(record.values);
    const restoring = record.large !== undefined;
    const key = `${absent}|${record.unread.join(',')}|${restoring ? record.odooId : ''}`;
    const group = groups.get(key);
    if (group) group.records.push(record);
    else
      groups.set(key, {
        shape: writeShape(model, absent, record.unread, restoring),
        records: [record],
      });
  }
  for (const { shape, records } of groups.values()) {
    const written = await upsertRows(
      tx,
      family,
      model.model,
      shape,
      records.map((record) => shape.rowValues(record.values)),
      {
        ...source,
        updates: writes.updates,
        created: how.created,
        guard: sql`(${
          how.overwriteOlder
            ? sql`${
                how.overwriteThrough
                  ? sql`${shape.table}.odoo_write_date <= ${how.overwriteThrough.toISOString()}::timestamptz`
                  : sql`true`
              } and ${
                how.overwriteWrittenBy
                  ? sql`${shape.table}.synced_at <= ${how.overwriteWrittenBy.toISOString()}::timestamptz`
                  : sql`true`
              }`
            : sql`false`
        } or ${
          how.overwriteAfter
            ? sql`${shape.table}.odoo_write_date > ${how.overwriteAfter.toISOString()}::timestamptz`
            : sql`false`
        })`,
      },
      linked,
    );
    if (!linked || written.length === 0) continue;
    const ids = new Set(written);
    await replaceLinks(
      tx,
      model,
      records.filter((record) => ids.has(record.odooId)),
      anyStored,
    );
  }
}

/**
 * Upserts rows in one statement, from one jsonb parameter: each row the array of its values in
 * the shape's column order. Guarded: a row is never overwritten by an older
 * `write_date`. Each row the statement really wrote gets its audit row in the same statement (a
 * row the guard kept out gets none); rows not in `audit.updates` are `audit.created`.
 * @returns with `written`, the ids of the rows written (else none: a first copy writes 200,000)
 * @throws ConcurrentCreateError when a row planned as new was stored by another writer meanwhile
 */
async function upsertRows(
  tx: Executor,
  family: RecordFamily,
  model: string,
  shape: WriteShape,
  values: readonly (readonly unknown[])[],
  audit: RowsAudit,
  written: boolean,
): Promise<number[]> {
  if (values.length === 0) return [];
  const planned = intArray(audit.updates.map((update) => update.odoo_id));
  // `xmax` is 0 on a row the statement inserted, and set on one it updated: a row it updated
  // without a planned update is one another writer created meanwhile (see the module's header).
  const result = rowsOf<{ odoo_id: number; raced: boolean }>(
    await tx.execute(sql`
    with written as (
      insert into ${shape.table} ${shape.into}
      select ${shape.values} from jsonb_array_elements(${JSON.stringify(values)}::jsonb) as r
      order by "odoo_id"
      on conflict (odoo_id) do update set ${shape.update}
      where ${shape.table}.odoo_write_date <= excluded.odoo_write_date or ${audit.guard}
      returning odoo_id, ${shape.rootOf} as root_id, odoo_write_date,
        xmax <> 0 and odoo_id <> all(${planned}::int[]) as raced${shape.pieces ? sql`, data` : sql``}),
    ${shape.pieces ? sql`${shape.pieces('written')},` : sql``}
    audited as (${auditInsert(
      family.name,
      model,
      audit,
      sql`
        select w.odoo_id, w.root_id, coalesce(u.action, ${audit.created}::text), coalesce(u.changed, '[]'::jsonb),
          w.odoo_write_date, u.reason
        from written w
        left join jsonb_to_recordset(${JSON.stringify(audit.updates)}::jsonb)
          as u(odoo_id int, action text, changed jsonb, reason text) on u.odoo_id = w.odoo_id
        where u.action is distinct from 'relaid'`,
    )})
    select odoo_id, raced from written where ${written} or raced`),
  );
  const raced = result.filter((row) => row.raced).map((row) => row.odoo_id);
  if (raced.length > 0) throw new ConcurrentCreateError(model, raced);
  return result.map((row) => row.odoo_id);
}

/**
 * Replaces the link rows of written records whole: a removed target is removed, an emptied
 * field leaves none, and the order is Odoo's. In a first copy (`anyStored` false) there are
 * none to remove: a link row cannot outlive its record's row.
 */
async function replaceLinks(
  tx: Executor,
  model: ModelDeclaration,
  records: readonly MappedRecord[],
  anyStored: boolean,
): Promise<void> {
  if (records.length === 0) return;
  // A link field the read left out (its targets refused to the sync user) keeps its rows.
  const ownersOf = (i: number) =>
    records.filter((record) => record.links[i] !== undefined).map((record) => record.odooId);
  const tables = model.links.map((link) => linkTableSql(link));
  const deletes = tables.flatMap((table, i) => {
    const owners = ownersOf(i);
    return owners.length === 0
      ? []
      : [
          sql`${sql.raw(`d${String(i)}`)} as (delete from ${table} where owner_id = any(${intArray(owners)}::int[]))`,
        ];
  });
  if (anyStored && deletes.length > 0)
    await tx.execute(sql`with ${sql.join(deletes, sql`, `)} select 1`);
  const inserts = model.links.flatMap((link, i) => {
    const insert = linkRowsInsert(link, records, i);
    return insert ? [sql`${sql.raw(`i${String(i)}`)} as (${insert})`] : [];
  });
  if (inserts.length > 0) await tx.execute(sql`with ${sql.join(inserts, sql`, `)} select 1`);
}

/**
 * The insert into `link`, the model's `i`th link table, of the link rows of `records`, in
 * Odoo's order; undefined when they have none. Three int arrays, not a row object per link: a
 * first copy writes one per target.
 */
export function linkRowsInsert(
  link: Pick<LinkTable, 'table' | 'schema'>,
  records: readonly MappedRecord[],
  i: number,
): SQL | undefined {
  const owners: number[] = [];
  const positions: number[] = [];
  const targets: number[] = [];
  for (const record of records)
    record.links[i]?.forEach((target, at) => {
      owners.push(record.odooId);
      positions.push(at + 1);
      targets.push(target);
    });
  if (owners.length === 0) return undefined;
  return sql`insert into ${linkTableSql(link)} (owner_id, position, target_id)
    select * from unnest(${intArray(owners)}::int[], ${intArray(positions)}::int[], ${intArray(targets)}::int[])`;
}
