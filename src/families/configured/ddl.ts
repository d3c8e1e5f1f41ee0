/**
 * The DDL a layout needs, every statement idempotent (`if not exists`): the tables, the columns
 * the layout added, the link tables, and the indexes the sync and the API's filters and sorts
 * use, as the table plan has them (table-plan.ts, the plan a family in code follows too). No
 * table is ever dropped; a column is altered only to widen a decimal an earlier version
 * rounded, or to accept the nulls of a table taken over (adoptTable). An index an earlier version
 * created and this one replaces (see {@link REPLACED_INDEXES}) is dropped: `migrate` upgrades an
 * existing table in place.
 */
import { COLUMN_KINDS, indexKey, SQL_TYPES } from '../columns.js';
import { ownColumns } from '../copy-columns.js';
import { planIndexes, type PlannedIndex } from '../table-plan.js';
import {
  identifier,
  ROUNDED_NUMERIC,
  type Catalog,
  type FamilyLayout,
  type ModelLayout,
} from './layout.js';
import type { ConfiguredFamilySpec, ConfiguredModelSpec } from './spec.js';
import { quoteIdentifier as quote } from '../../db/sql-rows.js';

/** The columns every copy table has (copy-columns.ts), by the model's place in its family. */
function ownColumnsOf(model: ModelLayout, root: ModelLayout): [string, string][] {
  return ownColumns(model === root ? 'root' : 'child', true).map((own) => [
    own.name,
    own.definition,
  ]);
}

/** A child's link to its root: its root's Odoo id, removed with it. */
function parentReference(model: ModelLayout, root: ModelLayout): string {
  return `constraint ${quote(identifier(`${model.table}_${model.parentColumn!}_fkey`))} references ${quote(root.table)} (${quote('odoo_id')}) on delete cascade`;
}

function createTable(model: ModelLayout, root: ModelLayout): string {
  const t = model.table;
  const own = [
    ...ownColumnsOf(model, root).map(([name, definition]) => `${quote(name)} ${definition}`),
    ...(model.parentColumn === undefined
      ? []
      : [`${quote(model.parentColumn)} integer not null ${parentReference(model, root)}`]),
    // A unique constraint (not only an index): link tables and children reference it.
    `constraint ${quote(identifier(`${t}_odoo_id_key`))} unique (${quote('odoo_id')})`,
  ];
  return `create table if not exists ${quote(t)} (\n  ${own.join(',\n  ')}\n)`;
}

/**
 * A copy table made otherwise — a family in code that is not copied here (its table is the
 * model's default one), a version before layouts — taken over: the columns every configured
 * copy table has are added, and a column the layout never writes no longer refuses a row.
 */
function adoptTable(
  model: ModelLayout,
  root: ModelLayout,
  existing: ReadonlyMap<string, string>,
  required: ReadonlySet<string>,
): string[] {
  const t = quote(model.table);
  const statements = ownColumnsOf(model, root)
    .filter(([name]) => !existing.has(name))
    .map(
      ([name, definition]) =>
        `alter table ${t} add column if not exists ${quote(name)} ${definition}`,
    );
  if (model.parentColumn !== undefined && !existing.has(model.parentColumn))
    statements.push(
      `alter table ${t} add column if not exists ${quote(model.parentColumn)} integer ${parentReference(model, root)}`,
    );
  const written = new Set([
    ...ownColumnsOf(model, root).map(([name]) => name),
    ...(model.parentColumn === undefined ? [] : [model.parentColumn]),
    ...model.columns.flatMap((column) =>
      column.nameColumn ? [column.column, column.nameColumn] : [column.column],
    ),
  ]);
  for (const name of [...required].sort())
    if (!written.has(name))
      statements.push(`alter table ${t} alter column ${quote(name)} drop not null`);
  return statements;
}

const indexName = (table: string, suffix: string) => identifier(`${table}_${suffix}`);

/** A planned index (table-plan.ts) as SQL. */
function createIndex(table: string, planned: PlannedIndex): string {
  const head = `create index if not exists ${quote(planned.name)} on ${quote(table)}`;
  if ('trigram' in planned) return `${head} using gin (${quote(planned.trigram)} gin_trgm_ops)`;
  const parts = planned.parts.map((part) =>
    'column' in part ? quote(part.column) : indexKey(part.kind, quote(part.key)),
  );
  return `${head} (${parts.join(', ')})${planned.live ? ' where archived_at is null' : ''}`;
}

/**
 * Indexes earlier versions created and this one replaces, by the suffix of their name: a sorted
 * field's `<column>_sort_idx` held live rows only (so includeArchived=true sorted the whole
 * table) and a whole text; a filtered text's `<column>_idx` held the whole text, so a value past
 * about 2,700 bytes could not be written (columns.ts). A column planned as a text by an earlier
 * version and now of another kind (a selection, compared whole; a column renamed away by hand
 * and made anew for a field that changed type, its indexes left on the old one) has each of its
 * indexes made anew; so has an index found with another number of columns than planned (a
 * filter's `<column>_idx` held the column alone before it held the id too).
 */
const REPLACED_INDEXES = {
  sort: (column: string) => [`${column}_sort_idx`],
  textFilter: (column: string) => [`${column}_idx`],
  kindChanged: (column: string) =>
    ['order_idx', 'key_idx', 'idx', 'trgm_idx'].map((suffix) => `${column}_${suffix}`),
};

function modelStatements(
  model: ModelLayout,
  root: ModelLayout,
  spec: ConfiguredModelSpec,
  tables: ExistingTables,
): string[] {
  const t = model.table;
  const existing = tables.catalog.get(t);
  const statements = existing
    ? adoptTable(model, root, existing, tables.required.get(t) ?? new Set())
    : [createTable(model, root)];
  for (const column of model.columns) {
    if (column.frozen) continue;
    statements.push(
      `alter table ${quote(t)} add column if not exists ${quote(column.column)} ${column.sqlType}`,
    );
    // An earlier version rounded decimals to Odoo's digits: widened, every value kept.
    if (column.sqlType === 'numeric' && ROUNDED_NUMERIC.test(existing?.get(column.column) ?? ''))
      statements.push(`alter table ${quote(t)} alter column ${quote(column.column)} type numeric`);
    if (column.nameColumn)
      statements.push(
        `alter table ${quote(t)} add column if not exists ${quote(column.nameColumn)} ${SQL_TYPES.text}`,
      );
  }
  for (const link of model.links) {
    // No foreign key to the owner: checked row by row it was most of what a first copy's link
    // rows cost PostgreSQL. The writer removes an owner's links with the owner (write-records.ts).
    statements.push(
      `create table if not exists ${quote(link.table)} (
  ${quote('owner_id')} integer not null,
  ${quote('position')} integer not null,
  ${quote('target_id')} integer not null,
  constraint ${quote(identifier(`${link.table}_pkey`))} primary key (${quote('owner_id')}, ${quote('position')})
)`,
      `create index if not exists ${quote(indexName(link.table, 'target_idx'))} on ${quote(link.table)} (${quote('target_id')})`,
      `alter table ${quote(link.table)} drop constraint if exists ${quote(identifier(`${link.table}_owner_fkey`))}`,
    );
  }
  const plan = planIndexes({
    table: t,
    ...(model.parentColumn === undefined ? {} : { parent: { column: model.parentColumn } }),
    columns: model.columns.filter((column) => !column.frozen),
    query: spec.api,
  });
  const columnOf = (field: string) => model.columns.find((column) => column.field === field)!;
  const kindBefore = new Map(
    tables.previous?.models
      .find((known) => known.model === model.model)
      ?.columns.map((column) => [column.field, column.kind]),
  );
  const wanted = new Set(plan.map((planned) => planned.name));
  const replaced = [
    ...spec.api.sort.flatMap((field) => REPLACED_INDEXES.sort(columnOf(field).column)),
    ...spec.api.filter
      .map(columnOf)
      .filter((column) => COLUMN_KINDS[column.kind].keyChars !== null)
      .flatMap((column) => REPLACED_INDEXES.textFilter(column.column)),
  ]
    .map((suffix) => indexName(t, suffix))
    // Never under a name the plan wants: the names of two columns can meet (`x_sort`'s filter
    // index is `x_sort_idx`, the former sort index of `x`).
    .filter((name) => !wanted.has(name));
  const remade = model.columns
    .filter((column) => (kindBefore.get(column.field) ?? column.kind) !== column.kind)
    .flatMap((column) => REPLACED_INDEXES.kindChanged(column.column))
    .map((suffix) => indexName(t, suffix));
  const reshaped = plan
    .filter((planned) => {
      const width = tables.indexWidths.get(planned.name);
      return width !== undefined && width !== ('trigram' in planned ? 1 : planned.parts.length);
    })
    .map((planned) => planned.name);
  for (const name of new Set([...replaced, ...remade, ...reshaped]))
    statements.push(`drop index if exists ${quote(name)}`);
  statements.push(...plan.map((planned) => createIndex(t, planned)));
  return statements;
}

/** The family's tables as they are: each column's type, and the columns that refuse a null. */
export interface ExistingTables {
  readonly catalog: Catalog;
  /** Per table, its `not null` columns without a default. */
  readonly required: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * The tables' indexes, by name: how many key columns each has. An index the plan wants, found
   * under its name with another width (an earlier version's shape), is made anew.
   */
  readonly indexWidths: ReadonlyMap<string, number>;
  /** The layout the tables were made for, if any: a column whose kind changed is indexed anew. */
  readonly previous?: FamilyLayout | undefined;
}

/** Every statement the family's layout needs, tables before what references them. */
export function layoutStatements(
  layout: FamilyLayout,
  spec: ConfiguredFamilySpec,
  tables: ExistingTables,
): string[] {
  const [root, ...children] = layout.models;
  const specs = [spec.root, ...spec.children];
  return [root!, ...children].flatMap((model, i) =>
    modelStatements(model, root!, specs[i]!, tables),
  );
}
