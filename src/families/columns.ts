/**
 * How an Odoo field becomes a typed column of a copy table. A column's kind says how Odoo's value
 * is parsed (Odoo never sends null: `False` is empty, except for booleans, where it is false),
 * what PostgreSQL holds, and how the API serves it. The whole record is kept besides, in `data`,
 * exactly as Odoo sent it: typed columns are what the API filters and sorts on.
 */
import {
  fromOdooString,
  parseOdooBoolean,
  parseOdooDate,
  parseOdooDatetime,
  parseOdooFloat,
  parseOdooInteger,
} from '../clients/odoo/odoo-values.js';

export type ColumnKind =
  'text' | 'integer' | 'decimal' | 'datetime' | 'date' | 'boolean' | 'json' | 'many2one';

/** One typed column, filled from one Odoo field. */
export interface FieldColumn {
  /** The Odoo field the column is filled from. */
  readonly field: string;
  readonly kind: ColumnKind;
  /** The column's name in PostgreSQL; for a many2one, the target's id. */
  readonly column: string;
  /** many2one: the column of the target's display name (in the sync user's language), if kept. */
  readonly nameColumn?: string;
  /** Whether the API serves it (default true). */
  readonly api: boolean;
  /** Odoo no longer has the field: the column keeps what it held and is no longer written. */
  readonly frozen?: boolean;
}

interface ColumnOptions {
  /** The column's name, when it is not the field's. */
  readonly column?: string;
  /** false: copied, not served by the API. */
  readonly api?: boolean;
}

const plain =
  (kind: Exclude<ColumnKind, 'many2one'>) =>
  (field: string, options: ColumnOptions = {}): FieldColumn => ({
    field,
    kind,
    column: options.column ?? field,
    api: options.api ?? true,
  });

/** Column constructors, by the form the column holds. */
export const columns = {
  text: plain('text'),
  integer: plain('integer'),
  /** Amounts and quantities: Odoo's double as a decimal string, never re-rounded. */
  decimal: plain('decimal'),
  /** An instant (Odoo sends naive UTC, to the second). */
  datetime: plain('datetime'),
  /** A calendar day, `YYYY-MM-DD`. */
  date: plain('date'),
  boolean: plain('boolean'),
  json: plain('json'),
  /** The target's id, and its display name when `name` names a column for it. */
  many2one: (field: string, options: ColumnOptions & { name?: string } = {}): FieldColumn => ({
    field,
    kind: 'many2one',
    column: options.column ?? field,
    ...(options.name === undefined ? {} : { nameColumn: options.name }),
    api: options.api ?? true,
  }),
};

/** A decimal string for a numeric column: Odoo's double exactly as JavaScript prints it. */
function decimal(value: unknown): string | null {
  const number = parseOdooFloat(value);
  return number === null ? null : String(number);
}

/** A json field as Odoo sent it; `False` (nothing set) is empty. */
function json(value: unknown): unknown {
  return value === false || value === undefined ? null : value;
}

/** How each kind parses Odoo's value (many2one apart: it fills two columns). */
export const PARSERS: Readonly<
  Record<Exclude<ColumnKind, 'many2one'>, (value: unknown) => unknown>
> = {
  text: fromOdooString,
  integer: parseOdooInteger,
  decimal,
  datetime: parseOdooDatetime,
  date: parseOdooDate,
  boolean: parseOdooBoolean,
  json,
};

/**
 * What a sort orders a column by: never null (nulls first ascending, as the lowest value), so a
 * cursor holds one value and compares as a tuple. The index of a sorted column is built on this
 * very expression.
 */
const SORT_FLOORS: Readonly<Record<ColumnKind, string>> = {
  text: "''",
  integer: '-2147483648',
  many2one: '0',
  decimal: "'-Infinity'::numeric",
  datetime: "'-infinity'::timestamptz",
  date: "'-infinity'::date",
  boolean: 'false',
  json: "'null'::jsonb",
};

export function sortExpression(kind: ColumnKind, column: string): string {
  return `coalesce(${column}, ${SORT_FLOORS[kind]})`;
}
