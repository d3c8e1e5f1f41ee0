/**
 * How the API serves each column kind, every API fact of a kind in one record ({@link
 * API_COLUMNS}): what a cursor keeps of a sort value and casts it back to, which comparisons a
 * filter takes besides equality, what a filter's value must be, how PostgreSQL writes the value
 * into a body and what schema documents it. The storage facts of each kind are the families' own
 * record (src/families/columns.ts); a kind missing a fact in either does not compile.
 *
 * Each body value keeps the form the API has always answered with: amounts as decimal strings (the
 * numeric's own text), instants as `Date#toISOString()` writes them (UTC, milliseconds), days as
 * `YYYY-MM-DD`, a many2one kept with its name as `{id, name}` or null.
 */
import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { ColumnKind } from '../../families/columns.js';
import type { CursorCast } from './cursors.js';
import { day, decimal, instant, int4 } from './postgres-values.js';

/** A comparison a filter takes besides equality and `null`. */
export type FilterOperator = 'in' | 'contains' | 'gt' | 'gte' | 'lt' | 'lte';

interface ApiColumn {
  /** What a cursor keeps of a sort value (as text, from the sort's key) and casts it back to. */
  readonly cursor: { readonly cast: CursorCast; readonly text: (key: SQL, column: SQL) => SQL };
  readonly operators: readonly FilterOperator[];
  /** What a filter's value must be: one PostgreSQL takes in the column's type. */
  readonly value: () => z.ZodType;
  /** The value in a body; `name` is a many2one's display name column, when kept. */
  readonly body: (column: SQL, name: SQL | undefined) => SQL;
  /** The schema documenting the body's value. */
  readonly schema: (named: boolean) => z.ZodType;
  /** Whether a value's size has no bound: its stored size counts in a page's estimate of bytes. */
  readonly unbounded: boolean;
}

/** An instant as `Date#toISOString()` writes it: `2026-01-31T08:00:00.000Z`. */
export const isoInstant = (column: SQL): SQL =>
  sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Longest text a filter takes: shorter than an index's key (TEXT_KEY_CHARS), so its own key. */
export const TEXT_FILTER_CHARS = 200;

// PostgreSQL text holds no NUL: refused here, not by a SQL error.
const filterText = () =>
  z
    .string()
    .max(TEXT_FILTER_CHARS)
    .refine(
      (value) => !value.includes('\u0000') && !/\p{Cs}/u.test(value),
      'holds a character PostgreSQL text cannot',
    );

export const bool = () => z.enum(['true', 'false']).transform((value) => value === 'true');

const asText = (key: SQL) => sql`${key}::text`;
const RANGES: readonly FilterOperator[] = ['gt', 'gte', 'lt', 'lte'];

export const API_COLUMNS = {
  text: {
    // A text's key is text already: its first characters (TEXT_KEY_CHARS).
    cursor: { cast: 'text', text: (key) => key },
    operators: ['in', 'contains'],
    value: filterText,
    body: (column) => column,
    schema: () => z.string().nullable(),
    unbounded: true,
  },
  // Compared whole: equality and lists of keys (COLUMN_KINDS.selection).
  selection: {
    cursor: { cast: 'text', text: (key) => key },
    operators: ['in'],
    value: filterText,
    body: (column) => column,
    schema: () => z.string().nullable(),
    // Odoo checks a key when it is written, not what its column holds.
    unbounded: true,
  },
  integer: {
    cursor: { cast: 'int', text: asText },
    operators: ['in', ...RANGES],
    value: int4,
    body: (column) => column,
    schema: () => z.number().int().nullable(),
    unbounded: false,
  },
  decimal: {
    cursor: { cast: 'numeric', text: asText },
    operators: RANGES,
    value: decimal,
    body: (column) => sql`${column}::text`,
    schema: () => z.string().nullable().describe('decimal string'),
    unbounded: false,
  },
  datetime: {
    // As the body writes it, the floor as PostgreSQL writes it.
    cursor: {
      cast: 'timestamptz',
      text: (_key, column) => sql`coalesce(${isoInstant(column)}, '-infinity')`,
    },
    operators: RANGES,
    value: () => instant({ dayAlone: true }),
    body: isoInstant,
    schema: () => z.string().nullable().describe('instant, ISO 8601 in UTC'),
    unbounded: false,
  },
  date: {
    cursor: { cast: 'date', text: asText },
    operators: RANGES,
    value: day,
    body: (column) => sql`${column}::text`,
    schema: () => z.string().nullable().describe('day, YYYY-MM-DD'),
    unbounded: false,
  },
  boolean: {
    cursor: { cast: 'boolean', text: asText },
    operators: [],
    value: bool,
    body: (column) => column,
    schema: () => z.boolean().nullable(),
    unbounded: false,
  },
  // Neither filtered nor sorted (COLUMN_KINDS.json.comparable); served as stored.
  json: {
    cursor: { cast: 'text', text: asText },
    operators: [],
    value: filterText,
    body: (column) => column,
    schema: () => z.unknown(),
    unbounded: true,
  },
  many2one: {
    cursor: { cast: 'int', text: asText },
    operators: ['in'],
    value: int4,
    body: (column, name) =>
      name === undefined
        ? column
        : sql`case when ${column} is null then null else json_build_object('id', ${column}, 'name', ${name}) end`,
    schema: (named) =>
      named
        ? z.object({ id: z.number().int(), name: z.string().nullable() }).nullable()
        : z.number().int().nullable(),
    unbounded: false,
  },
} as const satisfies Record<ColumnKind, ApiColumn>;
