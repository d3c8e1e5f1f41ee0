/**
 * The list of a copied model (`GET /api/models/{model}/records`, and `/api/bcs` through its own
 * parameters), derived from its declaration: the filters, sorts and searches its `query` names
 * (each with an index on what it compares: the families' declarations derive them), typed
 * operators by column kind (api-columns.ts), and keyset paging (cursors.ts). A query parameter is
 * named after the column's body name: `xPartnerId`, `dateOrder`; an operator follows a dot:
 * `amountTotal.gte=100`, `state.in=draft,posted`.
 *
 * The cursor holds the last row's sort value and Odoo id, so pages never skip or repeat rows
 * because others were inserted or deleted meanwhile; sorted by `odooId` (the default), a row that
 * a sync updates between two pages still appears exactly once.
 */
import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { OPERATORS_ONLY } from '../plugins/archived-access.js';
import { textArray } from '../../db/sql-rows.js';
import {
  COLUMN_KINDS,
  indexKey,
  SQL_TYPES,
  TEXT_KEY_CHARS,
  type FieldColumn,
} from '../../families/columns.js';
import { isChild, type ModelDeclaration } from '../../families/family.js';
import {
  API_COLUMNS,
  bool,
  isoInstant,
  TEXT_FILTER_CHARS,
  type FilterOperator,
} from './api-columns.js';
import { apiNames, camel, type Renamed } from './api-names.js';
import type { PageQuery } from './bounded-page.js';
import { decodeCursor, escapeLike, type CursorCast } from './cursors.js';
import { instant, trigramNeedle } from './postgres-values.js';
import {
  bodySizeHint,
  qualifiedColumn,
  fittedRecordJson,
  tableColumn,
  type BodyFields,
} from './record-bodies.js';
import { bodyFields } from '../schemas/common.js';
import { tableSql } from '../../families/table-names.js';

interface Sort {
  readonly expr: SQL;
  readonly cast: CursorCast;
  /** The sort value as a cursor keeps it. */
  readonly text: SQL;
}

/** What the column's indexes hold (columns.ts): a sort orders by it, an equality finds it. */
const keyOf = (model: ModelDeclaration, column: FieldColumn): SQL =>
  sql.raw(indexKey(column.kind, qualifiedColumn(model, column.column)));

function sortOf(model: ModelDeclaration, column: FieldColumn): Sort {
  const expr = keyOf(model, column);
  const { cast, text } = API_COLUMNS[column.kind].cursor;
  return { expr, cast, text: text(expr, tableColumn(model, column.column)) };
}

/** Whether the column's index holds a prefix of its values: an equality finds it by the key. */
const keyed = (column: FieldColumn) => COLUMN_KINDS[column.kind].keyChars !== null;

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

/** Longest needle a declared search takes. */
const SEARCH_CHARS = 100;

type Filter =
  | { readonly column: FieldColumn; readonly operator: FilterOperator | '' | 'null' }
  | { readonly search: readonly FieldColumn[] };

/** A list's query as its querystring parsed it: each parameter by its name. */
export type ListQuery = Readonly<Record<string, unknown>>;

export interface ModelList {
  /** The querystring's zod schema (validation and OpenAPI). */
  readonly querystring: z.ZodObject;
  readonly sortNames: readonly string[];
  /** The parameter of a filter of `field` (`''` equality, or an operator), or of a search. */
  parameter(field: string, operator?: FilterOperator | ''): string;
  /** The page's query, unrun: the reader runs it (record-reader.ts), the tests check its plan. */
  pageQuery(query: ListQuery): PageQuery;
  /** A child's filter on its root, which its list always has; undefined for a root. */
  readonly parentKey: string | undefined;
  /** Filters and sorts whose parameter is not their column's natural name (api-names.ts). */
  readonly renamed: readonly Renamed[];
}

const SQL_OPERATORS: Readonly<Record<'gt' | 'gte' | 'lt' | 'lte', string>> = {
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

/**
 * The parameters every list ends with, `/api/bcs` too: the sort (one of `sortNames`, `-` for
 * descending), the page's size, the cursor, the fields of each body.
 */
export function pagingQuery(sortNames: readonly string[]) {
  const sortValues = [...sortNames, ...sortNames.map((name) => `-${name}`)] as [
    string,
    ...string[],
  ];
  return {
    sort: z
      .enum(sortValues)
      .default('odooId')
      .describe(`one of ${sortNames.join(', ')}; prefix - for descending`),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    // Long enough for the cursor of a text of a few thousand characters.
    cursor: z.string().max(8_192).optional().describe('nextCursor of the previous page'),
    fields: bodyFields,
  };
}

const lists = new WeakMap<ModelDeclaration, ModelList>();

/** What the list of `model` takes and how it runs; derived once per declaration. */
export function modelList(model: ModelDeclaration): ModelList {
  let found = lists.get(model);
  if (!found) lists.set(model, (found = deriveList(model)));
  return found;
}

function deriveList(model: ModelDeclaration): ModelList {
  const byField = new Map(model.columns.map((column) => [column.field, column]));
  const columnOf = (field: string) => {
    const column = byField.get(field);
    if (!column) throw new Error(`${model.model}: the API's query names ${field}, not a column`);
    return column;
  };
  const filterColumns = (model.query?.filter ?? []).map(columnOf);
  // A child is listed by its root: its parent column is always a filter (it has an index), a
  // many2one to the root whether or not a column of the declaration holds it.
  const parent = isChild(model)
    ? (model.columns.find((column) => column.column === model.parentColumn) ?? {
        field: model.parentField,
        kind: 'many2one' as const,
        column: model.parentColumn,
        api: true,
      })
    : undefined;
  if (parent && !filterColumns.includes(parent)) filterColumns.unshift(parent);

  const sortColumns = (model.query?.sort ?? []).map(columnOf);
  const searches = Object.entries(model.query?.search ?? {});
  const names = apiNames(
    [...new Set([...filterColumns, ...sortColumns])],
    (column) => camel(column.column),
    new Set([
      ...(isChild(model) ? CHILD_PARAMETERS : ROOT_PARAMETERS),
      ...searches.map(([name]) => name),
    ]),
  );
  const filters = new Map<string, Filter>();
  const shape: Record<string, z.ZodType> = {};
  for (const column of filterColumns) {
    const key = names.of.get(column)!;
    const value = API_COLUMNS[column.kind].value;
    filters.set(key, { column, operator: '' });
    shape[key] = value().optional().describe(`${column.field} equals`);
    for (const operator of API_COLUMNS[column.kind].operators) {
      filters.set(`${key}.${operator}`, { column, operator });
      shape[`${key}.${operator}`] = (
        operator === 'in'
          ? list(value())
          : operator === 'contains'
            ? trigramNeedle(TEXT_FILTER_CHARS)
            : value()
      )
        .optional()
        .describe(
          `${column.field} ${operator === 'contains' ? 'contains this text (three letters or digits in a row at least)' : operator}`,
        );
    }
    filters.set(`${key}.null`, { column, operator: 'null' });
    shape[`${key}.null`] = bool()
      .optional()
      .describe(`${column.field} is empty (true) or set (false)`);
  }
  for (const [name, fields] of searches) {
    filters.set(name, { search: fields.map(columnOf) });
    shape[name] = trigramNeedle(SEARCH_CHARS)
      .optional()
      .describe(
        `text contained in ${fields.join(' or ')}: three letters or digits in a row at least`,
      );
  }

  const odooId = tableColumn(model, 'odoo_id');
  const writeDate = tableColumn(model, 'odoo_write_date');
  const sorts = new Map<string, Sort>([
    ['odooId', { expr: odooId, cast: 'int', text: sql`${odooId}::text` }],
    ['odooWriteDate', { expr: writeDate, cast: 'timestamptz', text: isoInstant(writeDate) }],
  ]);
  for (const column of sortColumns) sorts.set(names.of.get(column)!, sortOf(model, column));
  const sortNames = [...sorts.keys()];

  const isRoot = !isChild(model);
  const querystring = z
    .object({
      ...shape,
      updatedSince: instant({ dayAlone: false }).optional().describe('Odoo write_date ≥ this'),
      ...(isRoot
        ? {
            active: bool().optional().describe("Odoo's archive flag"),
            includeArchived: bool()
              .default(false)
              .describe(`include records gone from Odoo${OPERATORS_ONLY}`),
          }
        : {}),
      ...pagingQuery(sortNames),
    })
    .strict();

  const table = tableSql(model.table);

  const pageQuery = (query: ListQuery): PageQuery => {
    const sortName = query.sort as string;
    const descending = sortName.startsWith('-');
    const sort = sorts.get(descending ? sortName.slice(1) : sortName)!;
    const where: SQL[] = [];
    if (isRoot && query.includeArchived !== true)
      where.push(sql`${tableColumn(model, 'archived_at')} is null`);
    if (isRoot && query.active !== undefined)
      where.push(sql`${tableColumn(model, 'active')} = ${query.active as boolean}`);
    if (query.updatedSince !== undefined)
      where.push(sql`${writeDate} >= ${query.updatedSince as string}::timestamptz`);
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
      body: (allowance) => fittedRecordJson(model, fields, String(allowance)),
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
    parameter(field, operator = '') {
      if (searches.some(([name]) => name === field)) return field;
      const key = names.of.get(columnOf(field));
      const parameter = operator === '' ? key : `${key}.${operator}`;
      if (!parameter || !filters.has(parameter))
        throw new Error(`${model.model}: ${field} has no filter ${operator || '='}`);
      return parameter;
    },
    parentKey: parent ? names.of.get(parent) : undefined,
    renamed: names.renamed,
    pageQuery,
  };
}

function condition(model: ModelDeclaration, filter: Filter, value: unknown): SQL {
  if ('search' in filter) {
    const pattern = `%${escapeLike(value as string)}%`;
    return sql`(${sql.join(
      filter.search.map((column) => sql`${tableColumn(model, column.column)} ilike ${pattern}`),
      sql` or `,
    )})`;
  }
  const { column, operator } = filter;
  const name = tableColumn(model, column.column);
  // The type a filter's value is cast to, for an index on the column to apply.
  const type = sql.raw(SQL_TYPES[column.kind]);
  const typed = (item: unknown) => sql`${item}::${type}`;
  switch (operator) {
    case '':
      // A text's index holds its key (columns.ts): found by the key, then compared whole.
      return keyed(column)
        ? sql`${keyOf(model, column)} = left(${typed(value)}, ${TEXT_KEY_CHARS}) and ${name} = ${typed(value)}`
        : sql`${name} = ${typed(value)}`;
    case 'null':
      return value === true ? sql`${name} is null` : sql`${name} is not null`;
    case 'in': {
      // One array parameter, whatever the number of values: the statement's text stays the same.
      const values = sql`${textArray((value as unknown[]).map(String))}::${type}[]`;
      // A filter's text is shorter than a key (TEXT_FILTER_CHARS): its own key.
      return keyed(column)
        ? sql`${keyOf(model, column)} = any(${values}) and ${name} = any(${values})`
        : sql`${name} = any(${values})`;
    }
    case 'contains':
      return sql`${name} ilike ${`%${escapeLike(value as string)}%`}`;
    default:
      return sql`${name} ${sql.raw(SQL_OPERATORS[operator])} ${typed(value)}`;
  }
}
