/**
 * The list of a copied model (`GET /api/models/{model}/records`), derived from its declaration:
 * the filters and sorts its `query` names (each with an index on what it compares, see
 * families/configured/ddl.ts), typed operators by column kind, and keyset paging as the BC list
 * pages (cursors.ts). A query parameter is named after the column's body name: `xPartnerId`,
 * `dateOrder`; an operator follows a dot: `amountTotal.gte=100`, `state.in=draft,posted`.
 */
import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../../../db/create-db.js';
import { textArray } from '../../../../db/sql-rows.js';
import type { ColumnKind, FieldColumn } from '../../../../families/columns.js';
import { isChild, type ModelDeclaration } from '../../../../families/family.js';
import { indexKey, TEXT_KEY_CHARS } from '../../../../families/index-keys.js';
import { boundedPage, type PageQuery } from '../../../bounded-page.js';
import { decodeCursor, escapeLike, type CursorCast } from '../../../cursors.js';
import { day, decimal, instant, int4, trigramNeedle } from '../../../postgres-values.js';
import { apiNames, camel, type Renamed } from '../../../api-names.js';
import {
  bodySizeHint,
  isoInstant,
  qualifiedColumn,
  recordJson,
  tableColumn,
  type BodyFields,
} from '../../../record-bodies.js';
import { bodyFields } from '../../../schemas/common.js';

interface Sort {
  readonly expr: SQL;
  readonly cast: CursorCast;
  /** The sort value as a cursor keeps it. */
  readonly text: SQL;
}

const CASTS: Readonly<Record<ColumnKind, CursorCast>> = {
  text: 'text',
  integer: 'int',
  many2one: 'int',
  decimal: 'numeric',
  datetime: 'timestamptz',
  date: 'date',
  boolean: 'boolean',
  json: 'text',
};

/** What the column's indexes hold (index-keys.ts): a sort orders by it, an equality finds it. */
const keyOf = (model: ModelDeclaration, column: FieldColumn): SQL =>
  sql.raw(indexKey(column.kind, qualifiedColumn(model, column.column)));

function sortOf(model: ModelDeclaration, column: FieldColumn): Sort {
  const name = tableColumn(model, column.column);
  const expr = keyOf(model, column);
  const text =
    column.kind === 'datetime'
      ? sql`coalesce(${isoInstant(name)}, '-infinity')`
      : column.kind === 'text'
        ? expr
        : sql`${expr}::text`;
  return { expr, cast: CASTS[column.kind], text };
}

/** The comparisons each kind of column takes, besides equality. */
const OPERATORS: Readonly<Record<ColumnKind, readonly string[]>> = {
  text: ['in', 'contains'],
  integer: ['in', 'gt', 'gte', 'lt', 'lte'],
  many2one: ['in'],
  decimal: ['gt', 'gte', 'lt', 'lte'],
  datetime: ['gt', 'gte', 'lt', 'lte'],
  date: ['gt', 'gte', 'lt', 'lte'],
  boolean: [],
  json: [],
};

/** Longest text a filter takes: shorter than an index's key (index-keys.ts), so its own key. */
const TEXT_FILTER_CHARS = 200;
// PostgreSQL text holds no NUL: refused here, not by a SQL error.
const text = z
  .string()
  .max(TEXT_FILTER_CHARS)
  .refine(
    (value) => !value.includes('\u0000') && !/\p{Cs}/u.test(value),
    'holds a character PostgreSQL text cannot',
  );
const bool = z.enum(['true', 'false']).transform((value) => value === 'true');

const VALUES: Readonly<Record<ColumnKind, z.ZodType>> = {
  text,
  integer: int4(),
  many2one: int4(),
  decimal: decimal(),
  datetime: instant({ dayAlone: true }),
  date: day(),
  boolean: bool,
  json: text,
};

const list = (item: z.ZodType) =>
  z
    .string()
    .max(2_000)
    .transform((value, ctx) => {
      const items = value.split(',').map((entry) => entry.trim());
      if (items.length > 100) {
        ctx.addIssue({ code: 'custom', message: 'at most 100 values' });
        return z.NEVER;
      }
      const parsed = items.map((entry) => item.safeParse(entry));
      if (parsed.some((result) => !result.success)) {
        ctx.addIssue({ code: 'custom', message: 'a comma-separated list of values of the column' });
        return z.NEVER;
      }
      return parsed.map((result) => result.data);
    });

interface Filter {
  readonly column: FieldColumn;
  /** `''` for equality. */
  readonly operator: string;
}

export interface ModelList {
  /** The querystring's zod schema (validation and OpenAPI). */
  readonly querystring: z.ZodObject;
  readonly sortNames: readonly string[];
  /** The page's query, unrun (its plan is checked against the indexes in the tests). */
  pageQuery(query: Record<string, unknown>): PageQuery;
  /** A page of the list within `maxBytes` (bounded-page.ts), its items as JSON text. */
  page(
    db: Db,
    query: Record<string, unknown>,
    maxBytes: number,
  ): Promise<{ itemsJson: string; nextCursor: string | null }>;
  /** The cursor of the list sorted by odooId after `odooId`, filtered on `parentKey`. */
  readonly parentKey: string | undefined;
  /** Filters and sorts whose parameter is not their column's natural name (api-names.ts). */
  readonly renamed: readonly Renamed[];
}

const SQL_OPERATORS: Readonly<Record<string, string>> = {
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
};

/**
 * The list's own parameters, and the sorts every list has: no filter or sort of a column takes
 * these names (a field named `limit` never changes paging: api-names.ts).
 */
const CHILD_PARAMETERS: ReadonlySet<string> = new Set([
  'updatedSince',
  'sort',
  'limit',
  'cursor',
  'fields',
  'odooId',
  'odooWriteDate',
]);
const ROOT_PARAMETERS: ReadonlySet<string> = new Set([
  ...CHILD_PARAMETERS,
  'active',
  'includeArchived',
]);

/** What the list of `model` takes and how it runs. */
export function modelList(model: ModelDeclaration): ModelList {
  const byField = new Map(model.columns.map((column) => [column.field, column]));
  const filterColumns = (model.query?.filter ?? []).map((field) => byField.get(field)!);
  // A child is listed by its root: its parent column is always a filter (it has an index).
  const parent = isChild(model)
    ? (model.columns.find((column) => column.column === model.parentColumn) ?? {
        field: model.parentField,
        kind: 'integer' as const,
        column: model.parentColumn,
        api: true,
      })
    : undefined;
  if (parent && !filterColumns.includes(parent)) filterColumns.unshift(parent);

  const sortColumns = (model.query?.sort ?? []).map((field) => byField.get(field)!);
  const names = apiNames(
    [...new Set([...filterColumns, ...sortColumns])],
    (column) => camel(column.column),
    isChild(model) ? CHILD_PARAMETERS : ROOT_PARAMETERS,
  );
  const filters = new Map<string, Filter>();
  const shape: Record<string, z.ZodType> = {};
  for (const column of filterColumns) {
    const key = names.of.get(column)!;
    filters.set(key, { column, operator: '' });
    shape[key] = VALUES[column.kind].optional().describe(`${column.field} equals`);
    for (const operator of OPERATORS[column.kind]) {
      filters.set(`${key}.${operator}`, { column, operator });
      shape[`${key}.${operator}`] = (
        operator === 'in'
          ? list(VALUES[column.kind])
          : operator === 'contains'
            ? trigramNeedle(TEXT_FILTER_CHARS)
            : VALUES[column.kind]
      )
        .optional()
        .describe(
          `${column.field} ${operator === 'contains' ? 'contains this text (three letters or digits in a row at least)' : operator}`,
        );
    }
    filters.set(`${key}.null`, { column, operator: 'null' });
    shape[`${key}.null`] = bool
      .optional()
      .describe(`${column.field} is empty (true) or set (false)`);
  }

  const sorts = new Map<string, Sort>([
    [
      'odooId',
      {
        expr: tableColumn(model, 'odoo_id'),
        cast: 'int',
        text: sql`${tableColumn(model, 'odoo_id')}::text`,
      },
    ],
    [
      'odooWriteDate',
      {
        expr: tableColumn(model, 'odoo_write_date'),
        cast: 'timestamptz',
        text: isoInstant(tableColumn(model, 'odoo_write_date')),
      },
    ],
  ]);
  for (const column of sortColumns) sorts.set(names.of.get(column)!, sortOf(model, column));
  const sortNames = [...sorts.keys()];
  const sortValues = [...sortNames, ...sortNames.map((name) => `-${name}`)] as [
    string,
    ...string[],
  ];

  const isRoot = !isChild(model);
  const querystring = z
    .object({
      ...shape,
      updatedSince: instant({ dayAlone: false }).optional().describe('Odoo write_date ≥ this'),
      ...(isRoot
        ? {
            active: bool.optional().describe("Odoo's archive flag"),
            includeArchived: bool.default(false).describe('include records gone from Odoo'),
          }
        : {}),
      sort: z
        .enum(sortValues)
        .default('odooId')
        .describe(`one of ${sortNames.join(', ')}; prefix - for descending`),
      limit: z.coerce.number().int().min(1).max(200).default(50),
      cursor: z.string().max(8_192).optional().describe('nextCursor of the previous page'),
      fields: bodyFields,
    })
    .strict();

  const table = sql.identifier(model.table.name);
  const odooId = tableColumn(model, 'odoo_id');

  const pageQuery = (query: Record<string, unknown>): PageQuery => {
    const sortName = query.sort as string;
    const descending = sortName.startsWith('-');
    const sort = sorts.get(descending ? sortName.slice(1) : sortName)!;
    const where: SQL[] = [];
    if (isRoot && query.includeArchived !== true)
      where.push(sql`${tableColumn(model, 'archived_at')} is null`);
    if (isRoot && query.active !== undefined)
      where.push(sql`${tableColumn(model, 'active')} = ${query.active as boolean}`);
    if (query.updatedSince !== undefined)
      where.push(
        sql`${tableColumn(model, 'odoo_write_date')} >= ${query.updatedSince as string}::timestamptz`,
      );
    for (const [key, value] of Object.entries(query)) {
      const filter = filters.get(key);
      if (!filter || value === undefined) continue;
      where.push(condition(model, filter, value));
    }
    if (typeof query.cursor === 'string') {
      const cursor = decodeCursor(query.cursor, sortName, sort.cast);
      const value = sql`${cursor.value}::${sql.raw(sort.cast)}`;
      where.push(
        descending
          ? sql`(${sort.expr}, ${odooId}) < (${value}, ${cursor.id})`
          : sql`(${sort.expr}, ${odooId}) > (${value}, ${cursor.id})`,
      );
    }
    const fields = (query.fields as BodyFields | undefined) ?? 'all';
    return {
      from: sql`${table}`,
      where: where.length > 0 ? sql.join(where, sql` and `) : undefined,
      body: recordJson(model, fields),
      sizeHint: bodySizeHint(model, fields),
      sortKey: sort.expr,
      sortText: sort.text,
      odooId,
      descending,
      limit: query.limit as number,
      sort: sortName,
    };
  };

  return {
    querystring,
    sortNames,
    parentKey: parent ? names.of.get(parent) : undefined,
    renamed: names.renamed,
    pageQuery,
    page: (db, query, maxBytes) => boundedPage(db, pageQuery(query), maxBytes),
  };
}

function condition(model: ModelDeclaration, filter: Filter, value: unknown): SQL {
  const { column, operator } = filter;
  const name = tableColumn(model, column.column);
  const typed = (item: unknown) => sql`${item}::${sql.raw(SQL_TYPES[column.kind])}`;
  switch (operator) {
    case '':
      // A text's index holds its key (index-keys.ts): found by the key, then compared whole.
      return column.kind === 'text'
        ? sql`${keyOf(model, column)} = left(${typed(value)}, ${TEXT_KEY_CHARS}) and ${name} = ${typed(value)}`
        : sql`${name} = ${typed(value)}`;
    case 'null':
      return value === true ? sql`${name} is null` : sql`${name} is not null`;
    case 'in': {
      // One array parameter, whatever the number of values: the statement's text stays the same.
      const values = sql`${textArray((value as unknown[]).map(String))}::${sql.raw(SQL_TYPES[column.kind])}[]`;
      // A filter's text is shorter than a key (TEXT_FILTER_CHARS): its own key.
      return column.kind === 'text'
        ? sql`${keyOf(model, column)} = any(${values}) and ${name} = any(${values})`
        : sql`${name} = any(${values})`;
    }
    case 'contains':
      return sql`${name} ilike ${`%${escapeLike(value as string)}%`}`;
    default:
      return sql`${name} ${sql.raw(SQL_OPERATORS[operator]!)} ${typed(value)}`;
  }
}

/** The type a filter's value is cast to, for an index on the column to apply. */
const SQL_TYPES: Readonly<Record<ColumnKind, string>> = {
  text: 'text',
  integer: 'integer',
  many2one: 'integer',
  decimal: 'numeric',
  datetime: 'timestamptz',
  date: 'date',
  boolean: 'boolean',
  json: 'text',
};
