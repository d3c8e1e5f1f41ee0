/**
 * Sorts, inside the write's own transaction, the roots whose copy is already current from those
 * to write. The overlap window re-reads many current roots on every run; they cost one query for
 * the whole batch this way, and are neither locked nor read in full.
 *
 * Stamps alone cannot prove a root current: Odoo sends `write_date` in whole seconds, so two
 * commits in one second carry the same stamp. A root whose stamps (its own and its children's) all
 * match is compared by its data too, in PostgreSQL, by digest: each record goes as the SHA-256 of
 * its jsonb text (src/db/jsonb-text.ts), not whole, so a window of current records costs 64 hex
 * digits a record on the wire instead of the record, and no parsing. A stamp that differs already
 * proves a change. A row written under an older layout of its table (docs/models.md) is never
 * current.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { jsonbDigest } from '../db/jsonb-text.js';
import { intArray, rowsOf, textArray } from '../db/sql-rows.js';
import type { RecordFamily } from '../families/family.js';
import { digestedData } from '../families/large-values.js';
import type { MappedRoot } from '../families/map-record.js';
import { childWriteShape, rootWriteShape, staleLayout } from '../families/write-shape.js';

export interface Selection {
  /**
   * Roots to write: new, archived, or with a stamp or data that differs from the copy; the
   * others' copy is current.
   */
  readonly changed: MappedRoot[];
  /** Whether the copy holds any of these roots, or any of their children (under whatever root). */
  readonly anyStored: boolean;
}

interface StoredStamp {
  /** -1 for the root, else the child model's index in the family. */
  model: number;
  odoo_id: number;
  root_id: number;
  odoo_write_date: Date | string;
  archived: boolean;
  stale_layout: boolean;
}

const stampMs = (value: Date | string) => new Date(value).getTime();

/** The stored stamps of these roots, and of their children and these children wherever they are. */
function storedStamps(family: RecordFamily, items: readonly MappedRoot[]): SQL {
  const rootIds = intArray(items.map((item) => item.odooId));
  const parts = [
    sql`select -1 as model, odoo_id, odoo_id as root_id, odoo_write_date, archived_at is not null as archived,
        ${staleLayout(family.root)} as stale_layout
      from ${rootWriteShape(family.root).table} where odoo_id = any(${rootIds}::int[])`,
    // Children are looked up by id too: one that moved from another root is stored, and its row
    // will be written, even when none of these roots is.
    ...family.children.map((child, i) => {
      const childIds = intArray(items.flatMap((item) => item.children[i]!.map((c) => c.odooId)));
      const parent = sql.identifier(child.parentColumn);
      return sql`select ${sql.raw(String(i))}, odoo_id, ${parent}, odoo_write_date, false,
          ${staleLayout(child)}
        from ${childWriteShape(child).table}
        where ${parent} = any(${rootIds}::int[]) or odoo_id = any(${childIds}::int[])`;
    }),
  ];
  return sql.join(parts, sql` union all `);
}

/**
 * Runs in the caller's transaction, after its `KEY_LOOKUPS_ONLY`: one query for every stamp, one
 * more for the data of the roots whose stamps all match.
 */
export async function selectChanged(
  tx: Db,
  family: RecordFamily,
  items: readonly MappedRoot[],
): Promise<Selection> {
  if (items.length === 0) return { changed: [], anyStored: false };
  const stamps = rowsOf<StoredStamp>(await tx.execute(storedStamps(family, items)));
  if (stamps.length === 0) return { changed: [...items], anyStored: false };

  const storedRoot = new Map<number, StoredStamp>();
  const staleRoots = new Set<number>();
  // By child model: root id → child id → stamp.
  const storedChildren = family.children.map(() => new Map<number, Map<number, number>>());
  for (const row of stamps) {
    if (row.stale_layout) staleRoots.add(row.root_id);
    if (row.model < 0) {
      storedRoot.set(row.odoo_id, row);
      continue;
    }
    const byRoot = storedChildren[row.model]!;
    let byId = byRoot.get(row.root_id);
    if (!byId) byRoot.set(row.root_id, (byId = new Map<number, number>()));
    byId.set(row.odoo_id, stampMs(row.odoo_write_date));
  }
  const sameStamps = (item: MappedRoot) => {
    const stored = storedRoot.get(item.odooId);
    if (
      !stored ||
      stored.archived ||
      staleRoots.has(item.odooId) ||
      stampMs(stored.odoo_write_date) !== item.writeDate.getTime()
    )
      return false;
    return item.children.every((children, i) => {
      const byId = storedChildren[i]!.get(item.odooId);
      if ((byId?.size ?? 0) !== children.length) return false;
      return children.every((child) => byId?.get(child.odooId) === child.writeDate.getTime());
    });
  };
  const candidates = items.filter(sameStamps);
  const differing = await differingData(tx, family, candidates);
  const current = new Set(candidates.filter((item) => !differing.has(item.odooId)));
  return { changed: items.filter((item) => !current.has(item)), anyStored: true };
}

/** Of roots whose stamps match the copy's, those whose data (the root's or a child's) does not. */
async function differingData(
  tx: Db,
  family: RecordFamily,
  items: readonly MappedRoot[],
): Promise<Set<number>> {
  if (items.length === 0) return new Set();
  const parts = [
    ...comparisons(
      rootWriteShape(family.root).table,
      items.map((item) => ({ id: item.odooId, root: item.odooId, data: item.data })),
      items[0]!.unread,
    ),
    ...family.children.flatMap((child, i) => {
      const records = items.flatMap((item) => item.children[i]!);
      return records.length === 0
        ? []
        : comparisons(
            childWriteShape(child).table,
            items.flatMap((item) =>
              item.children[i]!.map((c) => ({ id: c.odooId, root: item.odooId, data: c.data })),
            ),
            records[0]!.unread,
          );
    }),
  ];
  const rows = rowsOf<{ root: number }>(await tx.execute(sql.join(parts, sql` union `)));
  return new Set(rows.map((row) => row.root));
}

/**
 * The statements that name the roots of `records` whose row in `table` differs from the record.
 * A record goes as the digest of its jsonb text when it has one (jsonb-text.ts): equal digests
 * prove the row holds that very data, which a write would leave as it is; unequal ones may only
 * print an equal value otherwise, and the write's own comparison then finds the row current
 * (write-rule.ts). The rest go whole, compared as a write would merge them.
 */
function comparisons(
  table: SQL,
  records: readonly { id: number; root: number; data: Record<string, unknown> }[],
  unread: readonly string[],
): SQL[] {
  const digested: { id: number; root: number; digest: string }[] = [];
  const whole: { id: number; root: number; data: Record<string, unknown> }[] = [];
  for (const record of records) {
    const digest = jsonbDigest(record.data);
    if (digest === undefined) whole.push(record);
    else digested.push({ id: record.id, root: record.root, digest });
  }
  // What a write would leave (writeShape's merge): a key only the copy holds is kept, unless the
  // reads leave it out on purpose. Large texts compare by their references (large-values.ts).
  const stored = sql.raw(`(${digestedData('c.data')})`);
  const parts: SQL[] = [];
  if (digested.length > 0)
    parts.push(sql`select x.root from unnest(${intArray(digested.map((r) => r.id))}::int[],
        ${intArray(digested.map((r) => r.root))}::int[], ${textArray(digested.map((r) => r.digest))}::text[])
        as x(id, root, digest)
      join ${table} c on c.odoo_id = x.id
      where encode(sha256(convert_to(${stored}::text, 'UTF8')), 'hex') is distinct from x.digest`);
  if (whole.length > 0)
    parts.push(sql`select x.root from jsonb_to_recordset(${JSON.stringify(whole)}::jsonb)
        as x(id int, root int, data jsonb)
      join ${table} c on c.odoo_id = x.id
      where ${stored} is distinct from ((${stored} - ${textArray(unread)}::text[]) || x.data)`);
  return parts;
}
