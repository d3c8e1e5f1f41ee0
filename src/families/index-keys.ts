/**
 * What the read API's indexes hold of a column, and so what its filters and sorts compare: the
 * sort expression of the column's kind (columns.ts), and of a text only its first
 * {@link TEXT_KEY_CHARS} characters. A btree entry holds at most a third of a page (about 2,700
 * bytes); a whole text there would let any Odoo user who can type a long value keep the record
 * out of the copy (PostgreSQL refuses the row: "index row size exceeds maximum", 54000). The
 * column and `data` keep the whole value; an equality compares the key, then the whole value
 * (`left(…) = left($1, 512) and col = $1`), and a sort orders by the key, then by `odoo_id`.
 *
 * Used by the BC family's drizzle indexes, the configured families' DDL and the API's queries:
 * an index serves a query only when both are written with the very same expression.
 */
import { sortExpression, type ColumnKind } from './columns.js';

/** 512 characters are at most 2,048 bytes of UTF-8: room beside the odoo_id in one entry. */
export const TEXT_KEY_CHARS = 512;

/**
 * The expression an index and the API's sort and equality use for a column, as SQL text;
 * `column` is SQL text too (a quoted, possibly qualified, name). Never null.
 */
export function indexKey(kind: ColumnKind, column: string): string {
  const sorted = sortExpression(kind, column);
  return kind === 'text' ? `left(${sorted}, ${TEXT_KEY_CHARS})` : sorted;
}
