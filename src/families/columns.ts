/**
 * How an Odoo field becomes a typed column of a copy table. The whole record is kept besides, in
 * `data`, exactly as Odoo sent it: typed columns are what the API filters and sorts on.
 *
 * A column's kind says it all, each storage fact of a kind in one record ({@link COLUMN_KINDS}):
 * the Odoo types it holds, its PostgreSQL column (its SQL type is read off it), how Odoo's value
 * is parsed (Odoo never sends null: `False` is empty, except for booleans, where it is false),
 * what an empty value sorts as, how much of a value its index key holds, whether a filter may
 * search inside it, whether the API may filter and sort on it. How the API serves each kind is
 * the API's own record (src/http/records/api-columns.ts). A kind added to {@link ColumnKind} does not
 * compile until both records give every fact of it.
 */
import { getTableColumns } from 'drizzle-orm';
import {
  boolean,
  date,
  integer,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
  type PgColumnBuilderBase,
} from 'drizzle-orm/pg-core';
import {
  fromOdooString,
  parseMany2one,
  parseOdooBoolean,
  parseOdooDate,
  parseOdooDatetime,
  parseOdooFloat,
  parseOdooInteger,
} from '../clients/odoo/odoo-values.js';

export type ColumnKind =
  | 'text'
  | 'selection'
  | 'integer'
  | 'decimal'
  | 'datetime'
  | 'date'
  | 'boolean'
  | 'json'
  | 'many2one';

/** An instant, in UTC. */
export const utc = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * What a text's index key holds: its first 512 characters, at most 2,048 bytes of UTF-8, room
 * beside the odoo_id in one btree entry. An entry holds at most a third of a page (about 2,700
 * bytes); a whole text there would let any Odoo user who can type a long value keep the record
 * out of the copy (PostgreSQL refuses the row: "index row size exceeds maximum", 54000). The
 * column and `data` keep the whole value; an equality compares the key, then the whole value
 * (`left(…) = left($1, 512) and col = $1`), and a sort orders by the key, then by `odoo_id`.
 */
export const TEXT_KEY_CHARS = 512;

/** The storage facts of a column kind. */
interface StorageKind {
  /** The Odoo field types it holds: a configured family's columns are planned by them. */
  readonly odooTypes: readonly string[];
  /** Its PostgreSQL column, as drizzle declares it; its SQL type is read off it. */
  readonly column: (name: string) => PgColumnBuilderBase;
  /** Odoo's value (never undefined) as the column holds it; throws on a value of another shape. */
  readonly parse: (value: unknown) => unknown;
  /**
   * What a sort orders an empty value as: never null (nulls first ascending, as the lowest
   * value), so a cursor holds one value and compares as a tuple.
   */
  readonly sortFloor: string;
  /** Characters of a value its index key holds (null: the whole value). */
  readonly keyChars: number | null;
  /** Whether a filter may search inside a value (`contains`, through a trigram index). */
  readonly trigram: boolean;
  /** Whether the API may filter and sort on it: a jsonb column has no order an index can give. */
  readonly comparable: boolean;
}

/** A decimal string for a numeric column: Odoo's double exactly as JavaScript prints it. */
function decimal(value: unknown): string | null {
  const number = parseOdooFloat(value);
  return number === null ? null : String(number);
}

/** A json field as Odoo sent it; `False` (nothing set) is empty. */
function json(value: unknown): unknown {
  return value === false || value === undefined ? null : value;
}

export const COLUMN_KINDS = {
  text: {
    // A binary is copied only when declared, as Odoo sends it: base64 text.
    odooTypes: ['char', 'text', 'html', 'reference', 'binary'],
    column: (name) => text(name),
    parse: fromOdooString,
    sortFloor: "''",
    keyChars: TEXT_KEY_CHARS,
    trigram: true,
    comparable: true,
  },
  /**
   * A selection's value: one of the keys the field's definition lists in Odoo's code, short and
   * never a person's text. Held as text, compared whole, its index holding the whole value; never
   * searched inside (a `contains` on a key answers nothing a list of keys would not).
   */
  selection: {
    odooTypes: ['selection'],
    column: (name) => text(name),
    parse: fromOdooString,
    sortFloor: "''",
    keyChars: null,
    trigram: false,
    comparable: true,
  },
  integer: {
    odooTypes: ['integer', 'many2one_reference'],
    column: (name) => integer(name),
    parse: parseOdooInteger,
    sortFloor: '-2147483648',
    keyChars: null,
    trigram: false,
    comparable: true,
  },
  /**
   * Amounts and quantities: a plain `numeric` holding Odoo's double as a decimal string, never
   * re-rounded. Odoo's digits are an admin setting (decimal accuracy) that can change, and a
   * column rounded to yesterday's digits would silently round the API's values.
   */
  decimal: {
    odooTypes: ['float', 'monetary'],
    column: (name) => numeric(name),
    parse: decimal,
    sortFloor: "'-Infinity'::numeric",
    keyChars: null,
    trigram: false,
    comparable: true,
  },
  /** An instant: Odoo sends naive UTC, to the second. */
  datetime: {
    odooTypes: ['datetime'],
    column: utc,
    parse: parseOdooDatetime,
    sortFloor: "'-infinity'::timestamptz",
    keyChars: null,
    trigram: false,
    comparable: true,
  },
  /** A calendar day, `YYYY-MM-DD`. */
  date: {
    odooTypes: ['date'],
    column: (name) => date(name, { mode: 'string' }),
    parse: parseOdooDate,
    sortFloor: "'-infinity'::date",
    keyChars: null,
    trigram: false,
    comparable: true,
  },
  boolean: {
    odooTypes: ['boolean'],
    column: (name) => boolean(name),
    parse: parseOdooBoolean,
    sortFloor: 'false',
    keyChars: null,
    trigram: false,
    comparable: true,
  },
  json: {
    odooTypes: ['json', 'properties', 'properties_definition'],
    column: (name) => jsonb(name),
    parse: json,
    sortFloor: "'null'::jsonb",
    keyChars: null,
    trigram: false,
    comparable: false,
  },
  /** The target's id; its display name, when kept, is a text column of its own (`nameColumn`). */
  many2one: {
    odooTypes: ['many2one'],
    column: (name) => integer(name),
    parse: (value) => parseMany2one(value)?.id ?? null,
    sortFloor: '0',
    keyChars: null,
    trigram: false,
    comparable: true,
  },
} as const satisfies Record<ColumnKind, StorageKind>;

export const COLUMN_KIND_NAMES = Object.keys(COLUMN_KINDS) as ColumnKind[];

/** Each kind's SQL type as PostgreSQL's `format_type` prints it, read off its drizzle column. */
export const SQL_TYPES: Readonly<Record<ColumnKind, string>> = Object.fromEntries(
  Object.values(
    getTableColumns(
      pgTable(
        'column_kinds',
        Object.fromEntries(
          COLUMN_KIND_NAMES.map((kind) => [kind, COLUMN_KINDS[kind].column(kind)]),
        ),
      ),
    ),
  ).map((column) => [column.name, column.getSQLType()]),
) as Record<ColumnKind, string>;

const KIND_OF_ODOO_TYPE: ReadonlyMap<string, ColumnKind> = new Map(
  COLUMN_KIND_NAMES.flatMap((kind) =>
    COLUMN_KINDS[kind].odooTypes.map((type) => [type, kind] as const),
  ),
);

/**
 * The kind of a column holding an Odoo field of this type. A type no kind names (one a later
 * Odoo adds) is kept as Odoo sends it, in a jsonb column, which holds any value.
 */
export function kindOfOdooType(type: string): ColumnKind {
  return KIND_OF_ODOO_TYPE.get(type) ?? 'json';
}

/**
 * What the read API's indexes hold of a column, and so what its filters and sorts compare: the
 * value, its kind's floor when empty, and of a text only its first characters. Used by the code
 * families' drizzle indexes, the configured families' DDL and the API's queries: an index serves
 * a query only when both are written with the very same expression. `column` is SQL text (a
 * quoted, possibly qualified, name); the key is never null.
 */
export function indexKey(kind: ColumnKind, column: string): string {
  const { sortFloor, keyChars } = COLUMN_KINDS[kind];
  const sorted = `coalesce(${column}, ${sortFloor})`;
  return keyChars === null ? sorted : `left(${sorted}, ${String(keyChars)})`;
}

/** One typed column, filled from one Odoo field. */
export interface FieldColumn<
  K extends ColumnKind = ColumnKind,
  C extends string = string,
  N extends string | undefined = string | undefined,
> {
  /** The Odoo field the column is filled from. */
  readonly field: string;
  readonly kind: K;
  /** The column's name in PostgreSQL; for a many2one, the target's id. */
  readonly column: C;
  /** many2one: the column of the target's display name (in the sync user's language), if kept. */
  readonly nameColumn?: N;
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

/** The column a field gets: its own name unless the options name another. */
type ColumnName<F extends string, O> = O extends { readonly column: infer C extends string }
  ? C
  : F;

const plain =
  <K extends Exclude<ColumnKind, 'many2one'>>(kind: K) =>
  <const F extends string, const O extends ColumnOptions = object>(
    field: F,
    options?: O,
  ): FieldColumn<K, ColumnName<F, O>, never> => ({
    field,
    kind,
    column: (options?.column ?? field) as ColumnName<F, O>,
    api: options?.api ?? true,
  });

/** Column constructors for the families declared in code, by the form the column holds. */
export const columns = {
  text: plain('text'),
  selection: plain('selection'),
  integer: plain('integer'),
  decimal: plain('decimal'),
  datetime: plain('datetime'),
  date: plain('date'),
  boolean: plain('boolean'),
  json: plain('json'),
  /** The target's id, and its display name when `name` names a column for it. */
  many2one: <
    const F extends string,
    const O extends ColumnOptions & { readonly name?: string } = object,
  >(
    field: F,
    options?: O,
  ): FieldColumn<
    'many2one',
    ColumnName<F, O>,
    O extends { readonly name: infer N extends string } ? N : never
  > => ({
    field,
    kind: 'many2one',
    column: (options?.column ?? field) as ColumnName<F, O>,
    ...(options?.name === undefined
      ? {}
      : {
          nameColumn: options.name as O extends { readonly name: infer N extends string }
            ? N
            : never,
        }),
    api: options?.api ?? true,
  }),
};
