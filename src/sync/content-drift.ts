/**
 * How a page of roots, as Odoo has them now, differs from the copy by content, whatever the
 * stamps say: each root's data and typed columns, its children (one missing, gone or moved, or
 * whose data or columns differ) and the link tables of both. What the verify reports and heals
 * (verify.ts); a stamp proves nothing here — two versions of a second share one, and a renamed
 * product moves no stamp.
 *
 * A field the copy holds that Odoo no longer lists is no difference: the copy keeps its last
 * value (docs/models.md). Those are counted apart (`kept`), for the verify to say so.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { intArray, quoteIdentifier, rowsOf } from '../db/sql-rows.js';
import type { ChildModel, ModelDeclaration, RecordFamily, RootModel } from '../families/family.js';
import {
  changedFields,
  type MappedRecord,
  type MappedRoot,
  type OdooRecordData,
} from '../families/map-record.js';
import { digestedData, digestedJson, digestedText } from '../families/large-values.js';
import { absentKey, rootWriteShape, writeShape } from '../families/write-shape.js';
import { storedChildrenQuery } from './write-records.js';
import { linkTableSql } from '../families/table-names.js';

/** Per model, per field: how many records differ in it. */
export type DriftCounts = Record<string, Record<string, number>>;

/** One root whose copy differs: the fields that differ, by model, with the records of each. */
export interface RootDrift {
  readonly odooId: number;
  /** Children's and links' as `(missing)`, `(gone)`, `(moved)`, `links.<field>`. */
  readonly fields: DriftCounts;
}

/** Adds one record's differing fields to counts by model and field. */
function countDrift(counts: DriftCounts, model: string, names: readonly string[]): void {
  if (names.length === 0) return;
  const byField = (counts[model] ??= {});
  for (const name of names) byField[name] = (byField[name] ?? 0) + 1;
}

/** Adds a root's counts to a run's. */
export function addDrift(total: DriftCounts, counts: DriftCounts): void {
  for (const [model, byField] of Object.entries(counts)) {
    const into = (total[model] ??= {});
    for (const [name, records] of Object.entries(byField)) into[name] = (into[name] ?? 0) + records;
  }
}

export interface PageDrift {
  readonly drifts: RootDrift[];
  /**
   * Records whose link tables or typed columns differ though their data may not, by model:
   * written again.
   */
  readonly relink: Map<string, Set<number>>;
  /** Per model, the fields Odoo no longer lists that the copy keeps, with how many records. */
  readonly kept: DriftCounts;
}

/** Fields the stored record holds that Odoo's lacks and the reads do not leave out on purpose. */
function keptFields(stored: OdooRecordData, record: MappedRecord): string[] {
  return Object.keys(stored).filter(
    (name) => !(name in record.data) && !record.unread.includes(name),
  );
}

/**
 * The typed columns of these records whose stored values differ from what a write would store,
 * compared in PostgreSQL with the writer's own casts (a numeric `1.50` is `1.5`), by record: the
 * fields they come from.
 */
async function columnDrift(
  db: Db,
  model: RootModel | ChildModel,
  records: readonly MappedRecord[],
): Promise<Map<number, string[]>> {
  const [first] = records;
  if (!first) return new Map();
  const shape = writeShape(model, absentKey(first.values), first.unread);
  const typed = model.columns.flatMap((column) =>
    [column.column, ...(column.nameColumn ? [column.nameColumn] : [])]
      .filter((name) => shape.columns.includes(name))
      .map((name) => ({ name, field: column.field })),
  );
  if (typed.length === 0) return new Map();
  const values = records.map((record) => shape.rowValues(record.values));
  const rows = rowsOf<{ odoo_id: number; fields: string[] }>(
    await db.execute(sql`
      select odoo_id, fields from (
        select x.odoo_id, array_remove(array[${sql.join(
          typed.map(
            ({ name, field }) =>
              sql`case when ${storedColumn(model, name)} is distinct from x.${sql.identifier(name)} then ${field}::text end`,
          ),
          sql`, `,
        )}], null) as fields
        from (select ${shape.values} from jsonb_array_elements(${JSON.stringify(values)}::jsonb) as r) x
        join ${shape.table} t on t.odoo_id = x.odoo_id) d
      where cardinality(fields) > 0`),
  );
  return new Map(rows.map((row) => [row.odoo_id, [...new Set(row.fields)]]));
}

/** A typed column of the copy (`t`) as a row's value compares with it: a large text by reference. */
function storedColumn(model: ModelDeclaration, name: string) {
  const column = `t.${quoteIdentifier(name)}`;
  const type = model.table.sqlTypes.get(name);
  return sql.raw(
    type === 'text' ? digestedText(column) : type === 'jsonb' ? digestedJson(column) : column,
  );
}

/** The link tables of these owners as the copy holds them: targets in order, by link. */
async function storedLinks(
  db: Db,
  model: ModelDeclaration,
  owners: readonly number[],
): Promise<Map<number, number[]>[]> {
  return Promise.all(
    model.links.map(async (link) => {
      const rows = rowsOf<{ owner_id: number; targets: number[] }>(
        await db.execute(sql`
          select owner_id, array_agg(target_id order by position) as targets
          from ${linkTableSql(link)}
          where owner_id = any(${intArray(owners)}::int[]) group by owner_id`),
      );
      return new Map(rows.map((row) => [row.owner_id, row.targets]));
    }),
  );
}

/** The link fields whose stored targets are not Odoo's, in order. */
function linkDrift(
  model: ModelDeclaration,
  record: MappedRecord,
  stored: readonly Map<number, number[]>[],
): string[] {
  return model.links.flatMap((link, i) => {
    const have = stored[i]!.get(record.odooId) ?? [];
    const want = record.links[i];
    // A field the read left out is no difference: its link table keeps what it holds.
    if (want === undefined) return [];
    return have.length === want.length && have.every((id, at) => id === want[at])
      ? []
      : [`links.${link.field}`];
  });
}

/** Compares a page of mapped roots with the copy; a handful of queries whatever its size. */
export async function contentDrift(
  db: Db,
  family: RecordFamily,
  items: readonly MappedRoot[],
): Promise<PageDrift> {
  const rootIds = items.map((item) => item.odooId);
  const relink = new Map<string, Set<number>>();
  const markRelink = (model: string, odooId: number) => {
    let ids = relink.get(model);
    if (!ids) relink.set(model, (ids = new Set()));
    ids.add(odooId);
  };
  const kept: DriftCounts = {};
  if (items.length === 0) return { drifts: [], relink, kept };
  const roots = rowsOf<{ odoo_id: number; data: OdooRecordData }>(
    await db.execute(sql`
      select odoo_id, ${sql.raw(digestedData('data'))} as data from ${rootWriteShape(family.root).table}
      where odoo_id = any(${intArray(rootIds)}::int[])`),
  );
  const rootById = new Map(roots.map((row) => [row.odoo_id, row.data]));
  const rootLinks = await storedLinks(db, family.root, rootIds);
  const children = await Promise.all(
    family.children.map(async (child, i) => {
      const childIds = items.flatMap((item) => item.children[i]!.map((c) => c.odooId));
      const stored = rowsOf<{ odoo_id: number; root_id: number; data: OdooRecordData }>(
        await db.execute(storedChildrenQuery(child, rootIds, childIds)),
      );
      const records = items.flatMap((item) => item.children[i]!);
      return {
        stored,
        links: await storedLinks(db, child, childIds),
        columns: await columnDrift(db, child, records),
      };
    }),
  );
  const rootColumns = await columnDrift(db, family.root, items);
  /** The fields that differ: in data, or in the typed columns only (then written again too). */
  const differing = (
    model: string,
    stored: OdooRecordData,
    record: MappedRecord,
    columns: ReadonlyMap<number, string[]>,
  ) => {
    countDrift(kept, model, keptFields(stored, record));
    const inData = changedFields(stored, record.data, record.unread);
    const inColumns = (columns.get(record.odooId) ?? []).filter((name) => !inData.includes(name));
    if (inColumns.length > 0) markRelink(model, record.odooId);
    return [...inData, ...inColumns];
  };

  // Each child model's stored rows by id and by root, once a page: a root looks its own up.
  const storedChildren = children.map(({ stored }) => ({
    byId: new Map(stored.map((row) => [row.odoo_id, row])),
    byRoot: Map.groupBy(stored, (row) => row.root_id),
  }));
  const drifts: RootDrift[] = [];
  for (const item of items) {
    const fields: DriftCounts = {};
    const note = (model: string, names: readonly string[]) => countDrift(fields, model, names);
    const stored = rootById.get(item.odooId);
    if (!stored) note(family.root.model, ['(missing)']);
    else note(family.root.model, differing(family.root.model, stored, item, rootColumns));
    const rootLinkDrift = linkDrift(family.root, item, rootLinks);
    if (rootLinkDrift.length > 0) markRelink(family.root.model, item.odooId);
    note(family.root.model, rootLinkDrift);

    family.children.forEach((child, i) => {
      const { links, columns } = children[i]!;
      const { byId, byRoot } = storedChildren[i]!;
      const incoming = new Set<number>();
      for (const record of item.children[i]!) {
        incoming.add(record.odooId);
        const copy = byId.get(record.odooId);
        if (!copy) {
          note(child.model, ['(missing)']);
          continue;
        }
        if (copy.root_id !== item.odooId) note(child.model, ['(moved)']);
        note(child.model, differing(child.model, copy.data, record, columns));
        const childLinkDrift = linkDrift(child, record, links);
        if (childLinkDrift.length > 0) markRelink(child.model, record.odooId);
        note(child.model, childLinkDrift);
      }
      for (const row of byRoot.get(item.odooId) ?? [])
        if (!incoming.has(row.odoo_id)) note(child.model, ['(gone)']);
    });
    if (Object.keys(fields).length > 0) drifts.push({ odooId: item.odooId, fields });
  }
  return { drifts, relink, kept };
}
