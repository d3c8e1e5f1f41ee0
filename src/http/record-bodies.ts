/**
 * The API body of a copied record, derived from its model's declaration: the JSON text PostgreSQL
 * builds for it (sent as it comes: mapping every column of every row into JS values, validating
 * and serialising them cost the API several times the query's own CPU), and the zod schema that
 * documents it in OpenAPI.
 *
 * Each value is written as its kind says (api-columns.ts), and `data` as stored. A
 * column's name in the body is its own in camelCase; a many2one with a name is named after its
 * field, without `_id` (`partner_id` → `partner`); two columns that would share a key are told
 * apart (api-names.ts).
 */
import { sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { FieldColumn } from '../families/columns.js';
import { API_COLUMNS, isoInstant } from './api-columns.js';
import { apiNames, camel, type ApiNames } from './api-names.js';
import { isChild, type ModelDeclaration } from '../families/family.js';
import { quoteIdentifier, quoteLiteral } from '../db/sql-rows.js';

/** A column's natural name in a body: a many2one with its display name is named after its field. */
function naturalBodyName(column: FieldColumn): string {
  return column.kind === 'many2one' && column.nameColumn
    ? camel(column.field.replace(/_id$/, ''))
    : camel(column.column);
}

/** The keys a body holds besides its columns, a detail's included. */
const BODY_KEYS = [
  'odooId',
  'active',
  'archivedAt',
  'archiveReason',
  'odooWriteDate',
  'syncedAt',
  'data',
  'children',
  'links',
  'lines',
  'linesNextCursor',
];

const names = new WeakMap<ModelDeclaration, ApiNames>();

/** The body's key of each column the API serves (api-names.ts). */
export function bodyNames(model: ModelDeclaration): ApiNames {
  let found = names.get(model);
  if (!found) {
    const reserved = new Set(
      isChild(model) ? [...BODY_KEYS, camel(model.parentColumn)] : BODY_KEYS,
    );
    found = apiNames(
      model.columns.filter((c) => c.api),
      naturalBodyName,
      reserved,
    );
    names.set(model, found);
  }
  return found;
}

/** A column of the model's table as SQL text, qualified. */
export function qualifiedColumn(model: ModelDeclaration, name: string): string {
  return `${quoteIdentifier(model.table.name)}.${quoteIdentifier(name)}`;
}

/** A column of the model's table, qualified, so a correlated subquery cannot mistake it. */
export function tableColumn(model: ModelDeclaration, name: string): SQL {
  return sql.raw(qualifiedColumn(model, name));
}

function columnValue(model: ModelDeclaration, column: FieldColumn): SQL {
  return API_COLUMNS[column.kind].body(
    tableColumn(model, column.column),
    column.nameColumn === undefined ? undefined : tableColumn(model, column.nameColumn),
  );
}

/** What of a record a body holds: everything, or its typed columns without `data`. */
export type BodyFields = 'all' | 'columns';

/**
 * The body's entries, in order: the id, the link to the root, the columns, the bookkeeping, and
 * the record as Odoo sent it unless only the columns are asked for.
 */
function entries(model: ModelDeclaration, fields: BodyFields): [string, SQL][] {
  const column = (name: string) => tableColumn(model, name);
  return [
    ['odooId', column('odoo_id')],
    ...(isChild(model)
      ? [[camel(model.parentColumn), column(model.parentColumn)] as [string, SQL]]
      : []),
    ...model.columns
      .filter((c) => c.api)
      .map((c): [string, SQL] => [bodyNames(model).of.get(c)!, columnValue(model, c)]),
    ...(isChild(model)
      ? []
      : [
          ['active', column('active')] as [string, SQL],
          ['archivedAt', isoInstant(column('archived_at'))] as [string, SQL],
          ['archiveReason', column('archive_reason')] as [string, SQL],
        ]),
    ['odooWriteDate', isoInstant(column('odoo_write_date'))],
    ['syncedAt', isoInstant(column('synced_at'))],
    ...(fields === 'all' ? [['data', column('data')] as [string, SQL]] : []),
  ];
}

/**
 * A fragment rendered to SQL text once: drizzle otherwise walks these thirty-odd chunks again on
 * every request. They hold no parameters, only column names and literals.
 */
export const prerendered = (fragment: SQL): SQL<string> =>
  sql.raw(new PgDialect().sqlToQuery(fragment).sql) as SQL<string>;

const bodies: Record<BodyFields, WeakMap<ModelDeclaration, SQL<string>>> = {
  all: new WeakMap(),
  columns: new WeakMap(),
};

/** One record's body as JSON text, for a select from the model's table. */
export function recordJson(model: ModelDeclaration, fields: BodyFields = 'all'): SQL<string> {
  let body = bodies[fields].get(model);
  if (!body) {
    // Keys as literals (a prerendered fragment carries no parameters), escaped as literals are.
    const pairs = entries(model, fields).map(
      ([name, value]) => sql`${sql.raw(quoteLiteral(name))}, ${value}`,
    );
    // json_build_object takes at most 100 arguments: wide models are built in parts and merged.
    const parts: SQL[] = [];
    for (let i = 0; i < pairs.length; i += 50)
      parts.push(sql`jsonb_build_object(${sql.join(pairs.slice(i, i + 50), sql`, `)})`);
    body =
      parts.length === 1
        ? prerendered(sql`json_build_object(${sql.join(pairs, sql`, `)})::text`)
        : prerendered(sql`(${sql.join(parts, sql` || `)})::text`);
    bodies[fields].set(model, body);
  }
  return body;
}

const hints: Record<BodyFields, WeakMap<ModelDeclaration, SQL>> = {
  all: new WeakMap(),
  columns: new WeakMap(),
};

/**
 * A cheap estimate of a body's bytes (bounded-page.ts): the stored sizes of what can be large in
 * it — `data`, texts, json, display names — read from the row without decompressing or fetching
 * them.
 */
export function bodySizeHint(model: ModelDeclaration, fields: BodyFields = 'all'): SQL {
  let hint = hints[fields].get(model);
  if (!hint) {
    const large = model.columns
      .filter((c) => c.api)
      .flatMap((c) =>
        API_COLUMNS[c.kind].unbounded
          ? [c.column]
          : c.nameColumn === undefined
            ? []
            : [c.nameColumn],
      );
    const names = [...large, ...(fields === 'all' ? ['data'] : [])];
    hint = prerendered(
      sql`(${sql.join(
        [
          sql.raw('0'),
          ...names.map((name) => sql`coalesce(pg_column_size(${tableColumn(model, name)}), 0)`),
        ],
        sql` + `,
      )})`,
    );
    hints[fields].set(model, hint);
  }
  return hint;
}

const odooData = z
  .record(z.string(), z.unknown())
  .describe('every stored field exactly as Odoo sent it; absent with fields=columns');

/** The zod schema of a record's body, named `title` in OpenAPI. */
export function recordSchema(model: ModelDeclaration, title: string) {
  const shape: Record<string, z.ZodType> = { odooId: z.number().int() };
  if (isChild(model)) shape[camel(model.parentColumn)] = z.number().int();
  for (const column of model.columns.filter((c) => c.api))
    shape[bodyNames(model).of.get(column)!] = API_COLUMNS[column.kind].schema(
      column.nameColumn !== undefined,
    );
  if (!isChild(model)) {
    shape.active = z.boolean();
    shape.archivedAt = z.string().nullable();
    shape.archiveReason = z.string().nullable();
  }
  shape.odooWriteDate = z.string();
  shape.syncedAt = z.string();
  shape.data = odooData.optional();
  return z.object(shape).describe(title);
}
