/**
 * The columns every copy table has besides its typed ones, declared once, here: the Odoo id
 * (unique, so children and link tables can reference it), the stamp, the record as Odoo sent it,
 * when it was copied, for a root its archive state, and for a table with a layout (a configured
 * family's) the layout version its row was written under. The code families' drizzle tables are
 * built with these builders (define-family.ts); `migrate`'s DDL of a configured family's tables,
 * their names the layout keeps free and their SQL types are read off them (`ownColumns`).
 */
import { getTableColumns, is, SQL } from 'drizzle-orm';
import {
  bigint,
  boolean,
  integer,
  jsonb,
  PgDialect,
  pgTable,
  text,
  type PgColumn,
  type PgColumnBuilderBase,
} from 'drizzle-orm/pg-core';
import { utc } from './columns.js';

/** A root table's own columns; `table` names its unique constraint. */
export function rootCopyColumns(table: string) {
  return {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    // A unique constraint (not only an index) so a child's foreign key can reference it.
    odooId: integer('odoo_id').notNull().unique(`${table}_odoo_id_key`),
    // Odoo's archive flag (true for a model without one).
    active: boolean('active').notNull().default(true),
    odooWriteDate: utc('odoo_write_date').notNull(),
    // The record as Odoo sent it (map-record.ts).
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    // Set once Odoo confirmed the record gone (never deleted), with why.
    archivedAt: utc('archived_at'),
    archiveReason: text('archive_reason'),
    firstSyncedAt: utc('first_synced_at').notNull().defaultNow(),
    syncedAt: utc('synced_at').notNull().defaultNow(),
  };
}

/** A child table's own columns (its link to the root is its family's). */
export function childCopyColumns(table: string) {
  return {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    odooId: integer('odoo_id').notNull().unique(`${table}_odoo_id_key`),
    odooWriteDate: utc('odoo_write_date').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    syncedAt: utc('synced_at').notNull().defaultNow(),
  };
}

/**
 * The layout version a row was written under, on the tables of a configured family: a row written
 * under an older layout is written again (docs/models.md). A code family's tables change by
 * migrations instead, and have none.
 */
const layoutColumns = () => ({ layoutVersion: integer('layout_version').notNull().default(0) });

/** Where a table stands in its family. */
export type TablePlace = 'root' | 'child';

/** One own column as the engine and `migrate` see it. */
export interface OwnColumn {
  readonly name: string;
  /** As PostgreSQL's `format_type` prints it. */
  readonly sqlType: string;
  /** Its definition in a `create table` or an `add column` (the odoo_id's unique constraint apart). */
  readonly definition: string;
}

/** A column's default as SQL: `now()`, or a literal. */
function defaultOf(column: PgColumn): string {
  const value: unknown = column.default;
  if (is(value, SQL)) return new PgDialect().sqlToQuery(value).sql;
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  throw new Error(`${column.name}: a default copy-columns.ts cannot write`);
}

/** A column's definition, as drizzle-kit would write it. */
function definitionOf(column: PgColumn): string {
  const parts = [column.getSQLType()];
  if (column.primary) parts.push('primary key');
  if (column.generatedIdentity)
    parts.push(`generated ${column.generatedIdentity.type} as identity`);
  if (column.notNull && !column.primary) parts.push('not null');
  if (column.hasDefault && !column.generatedIdentity) parts.push(`default ${defaultOf(column)}`);
  return parts.join(' ');
}

function described(columns: Record<string, PgColumnBuilderBase>): readonly OwnColumn[] {
  return Object.values(getTableColumns(pgTable('copy_columns', columns))).map((column) => ({
    name: column.name,
    sqlType: column.getSQLType(),
    definition: definitionOf(column),
  }));
}

const OWN_COLUMNS: Readonly<Record<TablePlace, Record<'code' | 'layout', readonly OwnColumn[]>>> = {
  root: {
    code: described(rootCopyColumns('copy_columns')),
    layout: described({ ...rootCopyColumns('copy_columns'), ...layoutColumns() }),
  },
  child: {
    code: described(childCopyColumns('copy_columns')),
    layout: described({ ...childCopyColumns('copy_columns'), ...layoutColumns() }),
  },
};

/** The own columns of a table at `place`: with `layout_version` on a configured family's. */
export function ownColumns(place: TablePlace, layout: boolean): readonly OwnColumn[] {
  return OWN_COLUMNS[place][layout ? 'layout' : 'code'];
}
