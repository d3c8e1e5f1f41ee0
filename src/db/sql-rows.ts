import { sql } from 'drizzle-orm';

/**
 * Rows of a raw `db.execute(sql…)`, whichever driver ran it: postgres.js answers an array,
 * PGlite an object with `rows`.
 */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  const rows = (result as { rows?: unknown } | null)?.rows;
  if (Array.isArray(rows)) return rows as T[];
  throw new TypeError('unexpected result shape from db.execute');
}

/** A PostgreSQL array literal of integers (`{1,2,3}`), for `= any(…::int[])` on every driver. */
export function intArray(values: readonly number[]): string {
  for (const value of values) {
    if (!Number.isInteger(value)) throw new TypeError(`not an integer: ${value}`);
  }
  return `{${values.join(',')}}`;
}

/** A PostgreSQL array literal of texts (`{"a","b"}`), for `= any(…::text[])` on every driver. */
export function textArray(values: readonly string[]): string {
  return `{${values.map((value) => `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

/**
 * For a transaction whose statements look rows up by key (`odoo_id`, `bc_odoo_id`): always
 * through their indexes. While a first sync fills the copy, autovacuum has not analyzed it yet and
 * the planner, guessing 200 distinct BCs, scans the whole line table for each batch — a copy of
 * 200,000 lines read 200 times (measured in docs/performance.md).
 */
export const KEY_LOOKUPS_ONLY = sql`set local enable_seqscan = off`;

/**
 * An identifier quoted for SQL text, `"` doubled: the one quoting of every table and column name
 * written into a statement's text (names planned from Odoo's `fields_get` included).
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A text quoted as a SQL string literal, `'` doubled (standard_conforming_strings is on). */
export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
