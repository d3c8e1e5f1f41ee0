/**
 * A copy table's or a link table's name as a statement writes it: quoted, and qualified by its
 * schema when its source has one (docs/sources.md). The one place such a name is rendered, so a
 * family copied into a source's schema is read and written there by every statement.
 */
import { sql, type SQL } from 'drizzle-orm';
import { quoteIdentifier } from '../db/sql-rows.js';
import type { CopyTable, LinkTable } from './family.js';

/** `"schema"."table"`, or `"table"` when the table has no schema of its own. */
export function quotedTable(table: Pick<CopyTable, 'name' | 'schema'>): string {
  return table.schema === undefined
    ? quoteIdentifier(table.name)
    : `${quoteIdentifier(table.schema)}.${quoteIdentifier(table.name)}`;
}

/**
 * A copy table as a bookkeeping row names it (`sync_value_piece.copy_table`): `schema.table`, or
 * `table` when it has no schema of its own.
 */
export function copyTableKey(table: Pick<CopyTable, 'name' | 'schema'>): string {
  return table.schema === undefined ? table.name : `${table.schema}.${table.name}`;
}

/** The copy table as SQL. */
export function tableSql(table: Pick<CopyTable, 'name' | 'schema'>): SQL {
  return sql.raw(quotedTable(table));
}

/** The link table as SQL. */
export function linkTableSql(link: Pick<LinkTable, 'table' | 'schema'>): SQL {
  return tableSql({ name: link.table, schema: link.schema });
}
