/**
 * The DDL a layout needs, every statement idempotent (`if not exists`): the tables, the columns
 * the layout added, the link tables, and the indexes the sync and the API's filters and sorts
 * use. No table is ever dropped; a column is altered only to widen a decimal an earlier version
 * rounded, or to accept the nulls of a table taken over (adoptTable). An index an earlier version
 * created and this one replaces (see {@link REPLACED_INDEXES}) is dropped: `migrate` upgrades an
 * existing table in place.
 */
import { COLUMN_KINDS, indexKey, SQL_TYPES } from '../columns.js';
import { ownColumns } from '../copy-columns.js';
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

function index(table: string, suffix: string, on: string, where?: string): string {
  return `create index if not exists ${quote(indexName(table, suffix))} on ${quote(table)} (${on})${where ? ` where ${where}` : ''}`;
}

/**
 * Indexes earlier versions created and this one replaces, by the suffix of their name: a sorted
 * field's `<column>_sort_idx` held live rows only (so includeArchived=true sorted the whole
 * table) and a whole text; a filtered text's `<column>_idx` held the whole text, so a value past
 * about 2,700 bytes could not be written (columns.ts).
 */
const REPLACED_INDEXES = {
  sort: (column: string) => `${column}_sort_idx`,
  textFilter: (column: string) => `${column}_idx`,
};

function modelStatements(
  model: ModelLayout,
  root: ModelLayout,
  spec: ConfiguredModelSpec,
  tables: ExistingTables,
): string[] {
  const t = model.table;
  const isRoot = model === root;
  const live = isRoot ? 'archived_at is null' : undefined;
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
  // (name suffix, what it indexes, where): every index the layout wants on the table.
  const indexes: [string, string, string?][] = [];
  // The API's sort by stamp, on a root and on a child alike.
  indexes.push(['write_date_idx', `${quote('odoo_write_date')}, ${quote('odoo_id')}`]);
  if (isRoot) indexes.push(['live_idx', quote('odoo_id'), live]);
  else indexes.push(['parent_idx', `${quote(model.parentColumn!)}, ${quote('odoo_id')}`]);
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
      index(link.table, 'target_idx', quote('target_id')),
      `alter table ${quote(link.table)} drop constraint if exists ${quote(identifier(`${link.table}_owner_fkey`))}`,
    );
  }
  const columnOf = (field: string) => model.columns.find((column) => column.field === field)!;
  const replaced: string[] = [];
  // The API orders by the column's key, then the id (columns.ts), over every row: live rows
  // and, with includeArchived=true, the archived ones.
  for (const field of spec.api.sort) {
    const column = columnOf(field);
    indexes.push([
      `${column.column}_order_idx`,
      `${indexKey(column.kind, quote(column.column))}, ${quote('odoo_id')}`,
    ]);
    replaced.push(REPLACED_INDEXES.sort(column.column));
  }
  const trigram: string[] = [];
  for (const field of spec.api.filter) {
    const column = columnOf(field);
    const { keyChars, trigram: searched } = COLUMN_KINDS[column.kind];
    if (keyChars === null) indexes.push([`${column.column}_idx`, quote(column.column)]);
    else {
      // Equality finds a text by its key (a sorted text's order index leads with it).
      if (!spec.api.sort.includes(field))
        indexes.push([`${column.column}_key_idx`, indexKey(column.kind, quote(column.column))]);
      replaced.push(REPLACED_INDEXES.textFilter(column.column));
    }
    // `contains` by trigrams (pg_trgm, created by the migrations): pieces of three characters.
    if (searched)
      trigram.push(
        `create index if not exists ${quote(indexName(t, `${column.column}_trgm_idx`))} on ${quote(t)} using gin (${quote(column.column)} gin_trgm_ops)`,
      );
  }
  // Dropped first, and never under a name the layout wants now (the names of two columns can
  // meet: `x_sort`'s filter index is `x_sort_idx`, the former sort index of `x`).
  const wanted = new Set(indexes.map(([suffix]) => indexName(t, suffix)));
  for (const name of new Set(replaced.map((suffix) => indexName(t, suffix))))
    if (!wanted.has(name)) statements.push(`drop index if exists ${quote(name)}`);
  statements.push(...indexes.map(([suffix, on, where]) => index(t, suffix, on, where)), ...trigram);
  return statements;
}

/** The family's tables as they are: each column's type, and the columns that refuse a null. */
export interface ExistingTables {
  readonly catalog: Catalog;
  /** Per table, its `not null` columns without a default. */
  readonly required: ReadonlyMap<string, ReadonlySet<string>>;
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
