/**
 * The DDL a layout needs, every statement idempotent (`if not exists`): the tables, the columns
 * the layout added, the link tables, and the indexes the sync and the API's filters and sorts
 * use. Nothing is ever dropped; a column is altered only to widen a decimal an earlier version
 * rounded, or to accept the nulls of a table taken over (adoptTable).
 */
import { sortExpression } from '../columns.js';
import {
  identifier,
  ROUNDED_NUMERIC,
  type Catalog,
  type FamilyLayout,
  type ModelLayout,
} from './layout.js';
import type { ConfiguredFamilySpec, ConfiguredModelSpec } from './spec.js';
import { quoteIdentifier as quote } from '../../db/sql-rows.js';

const INSTANT = 'timestamp with time zone';

/** The columns every copy table has, by the model's place in its family, with their definitions. */
function ownColumns(model: ModelLayout, root: ModelLayout): [string, string][] {
  const isRoot = model === root;
  return [
    ['id', 'bigint primary key generated always as identity'],
    ['odoo_id', 'integer not null'],
    ...(isRoot ? [['active', 'boolean not null default true'] as [string, string]] : []),
    ['odoo_write_date', `${INSTANT} not null`],
    ['data', 'jsonb not null'],
    ...(isRoot
      ? ([
          ['archived_at', INSTANT],
          ['archive_reason', 'text'],
          ['first_synced_at', `${INSTANT} not null default now()`],
        ] as [string, string][])
      : []),
    ['synced_at', `${INSTANT} not null default now()`],
    ['layout_version', 'integer not null default 0'],
  ];
}

/** A child's link to its root: its root's Odoo id, removed with it. */
function parentReference(model: ModelLayout, root: ModelLayout): string {
  return `constraint ${quote(identifier(`${model.table}_${model.parentColumn!}_fkey`))} references ${quote(root.table)} (${quote('odoo_id')}) on delete cascade`;
}

function createTable(model: ModelLayout, root: ModelLayout): string {
  const t = model.table;
  const own = [
    ...ownColumns(model, root).map(([name, definition]) => `${quote(name)} ${definition}`),
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
  const statements = ownColumns(model, root)
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
    ...ownColumns(model, root).map(([name]) => name),
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

function index(table: string, suffix: string, on: string, where?: string): string {
  return `create index if not exists ${quote(identifier(`${table}_${suffix}`))} on ${quote(table)} (${on})${where ? ` where ${where}` : ''}`;
}

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
        `alter table ${quote(t)} add column if not exists ${quote(column.nameColumn)} text`,
      );
  }
  if (isRoot) {
    statements.push(index(t, 'live_idx', quote('odoo_id'), live));
    statements.push(index(t, 'write_date_idx', `${quote('odoo_write_date')}, ${quote('odoo_id')}`));
  } else {
    statements.push(index(t, 'parent_idx', `${quote(model.parentColumn!)}, ${quote('odoo_id')}`));
  }
  for (const link of model.links) {
    statements.push(
      `create table if not exists ${quote(link.table)} (
  ${quote('owner_id')} integer not null constraint ${quote(identifier(`${link.table}_owner_fkey`))} references ${quote(t)} (${quote('odoo_id')}) on delete cascade,
  ${quote('position')} integer not null,
  ${quote('target_id')} integer not null,
  constraint ${quote(identifier(`${link.table}_pkey`))} primary key (${quote('owner_id')}, ${quote('position')})
)`,
      index(link.table, 'target_idx', quote('target_id')),
    );
  }
  const columnOf = (field: string) => model.columns.find((column) => column.field === field)!;
  for (const field of spec.api.sort) {
    const column = columnOf(field);
    statements.push(
      index(
        t,
        `${column.column}_sort_idx`,
        `${sortExpression(column.kind, quote(column.column))}, ${quote('odoo_id')}`,
        live,
      ),
    );
  }
  for (const field of spec.api.filter) {
    const column = columnOf(field);
    statements.push(index(t, `${column.column}_idx`, quote(column.column)));
    // `contains` on text: a trigram index (pg_trgm, created by the migrations).
    if (column.kind === 'text')
      statements.push(
        `create index if not exists ${quote(identifier(`${t}_${column.column}_trgm_idx`))} on ${quote(t)} using gin (${quote(column.column)} gin_trgm_ops)`,
      );
  }
  return statements;
}

/** Every statement the family's layout needs, tables before what references them. */
/** The family's tables as they are: each column's type, and the columns that refuse a null. */
export interface ExistingTables {
  readonly catalog: Catalog;
  /** Per table, its `not null` columns without a default. */
  readonly required: ReadonlyMap<string, ReadonlySet<string>>;
}

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
