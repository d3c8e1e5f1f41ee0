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
import type { FieldColumn } from '../../families/columns.js';
import { API_COLUMNS, isoInstant } from './api-columns.js';
import { apiNames, camel, type ApiNames } from './api-names.js';
import { recordsPath } from '../../families/records-path.js';
import { isChild, type ModelDeclaration } from '../../families/family.js';
import { quoteIdentifier, quoteLiteral } from '../../db/sql-rows.js';
import { copyTableKey, quotedTable } from '../../families/table-names.js';
import { referenceSha } from '../../families/large-values.js';

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
  return `${quotedTable(model.table)}.${quoteIdentifier(name)}`;
}

/** A column of the model's table, qualified, so a correlated subquery cannot mistake it. */
export function tableColumn(model: ModelDeclaration, name: string): SQL {
  return sql.raw(qualifiedColumn(model, name));
}

/**
 * SQL: the pieces (`sync_value_piece`) of the record's large values, in a subquery from the
 * model's table: a record holds none unless a value of it passed a megabyte (large-values.ts).
 */
function recordPieces(model: ModelDeclaration): string {
  return `from sync_value_piece p where p.copy_table = ${quoteLiteral(copyTableKey(model.table))}
    and p.odoo_id = ${qualifiedColumn(model, 'odoo_id')}`;
}

/**
 * SQL: a field's value in a body from its stored value (`value`, jsonb, a field of `data`): the
 * large text a reference stands for, put back from its pieces; any other value as it is.
 */
function restoredValue(model: ModelDeclaration, key: string, value: string): string {
  return `coalesce((select to_jsonb(string_agg(p.piece, '' order by p.part)) ${recordPieces(model)}
      and p.field = ${key} and p.sha256 = ${referenceSha(value)}), ${value})`;
}

function columnValue(model: ModelDeclaration, column: FieldColumn): SQL {
  return API_COLUMNS[column.kind].body(
    tableColumn(model, column.column),
    column.nameColumn === undefined ? undefined : tableColumn(model, column.nameColumn),
  );
}

/** What of a record a body holds: everything, or its typed columns without `data`. */
export type BodyFields = 'all' | 'columns';

/** How a body writes the values that can be cut (cutBody): as stored, or each maybe cut. */
interface CutValues {
  /** A column of an unbounded kind (a text, a json). */
  readonly column: (column: FieldColumn, stored: SQL) => SQL;
  readonly data: SQL;
}

/**
 * The body's entries, in order: the id, the link to the root, the columns, the bookkeeping, and
 * the record as Odoo sent it unless only the columns are asked for.
 */
function entries(model: ModelDeclaration, fields: BodyFields, cut?: CutValues): [string, SQL][] {
  const column = (name: string) => tableColumn(model, name);
  return [
    ['odooId', column('odoo_id')],
    ...(isChild(model)
      ? [[camel(model.parentColumn), column(model.parentColumn)] as [string, SQL]]
      : []),
    ...model.columns
      .filter((c) => c.api)
      .map((c): [string, SQL] => [
        bodyNames(model).of.get(c)!,
        cut && API_COLUMNS[c.kind].unbounded
          ? cut.column(c, columnValue(model, c))
          : columnValue(model, c),
      ]),
    ...(isChild(model)
      ? []
      : [
          ['active', column('active')] as [string, SQL],
          ['archivedAt', isoInstant(column('archived_at'))] as [string, SQL],
          ['archiveReason', column('archive_reason')] as [string, SQL],
        ]),
    ['odooWriteDate', isoInstant(column('odoo_write_date'))],
    ['syncedAt', isoInstant(column('synced_at'))],
    ...(fields === 'all' ? [['data', cut ? cut.data : column('data')] as [string, SQL]] : []),
  ];
}

/** Entries as one JSON object's text: json_build_object takes at most 100 arguments. */
function jsonText(pairs: readonly [string, SQL][]): SQL {
  // Keys as literals (a prerendered fragment carries no parameters), escaped as literals are.
  const args = pairs.map(([name, value]) => sql`${sql.raw(quoteLiteral(name))}, ${value}`);
  if (args.length <= 50) return sql`json_build_object(${sql.join(args, sql`, `)})::text`;
  // Wide models are built in parts and merged.
  const parts: SQL[] = [];
  for (let i = 0; i < args.length; i += 50)
    parts.push(sql`jsonb_build_object(${sql.join(args.slice(i, i + 50), sql`, `)})`);
  return sql`(${sql.join(parts, sql` || `)})::text`;
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
    body = prerendered(jsonText(entries(model, fields)));
    bodies[fields].set(model, body);
  }
  return body;
}

/**
 * What stands for a value a body does not hold: this prefix, the value's size in bytes (what
 * `…/fields/{field}` answers: a text's UTF-8, any other value's JSON), a colon, and the path of
 * that route, under the record's own source's (src/families/records-path.ts):
 * `erp-bridge:cut:104857600:/api/models/res.partner/records/7/fields/comment`,
 * `erp-bridge:cut:104857600:/api/sources/acme/models/res.partner/records/7/fields/comment`.
 */
export const CUT_VALUE_PREFIX = 'erp-bridge:cut:';

/** The bytes a record's body may take: half a page's, the rest for its child pages in a detail. */
export function recordAllowance(pageMaxBytes: number): number {
  return Math.floor(pageMaxBytes / 2);
}

/** The columns of unbounded kinds the API serves, by the field they hold. */
function cutColumns(model: ModelDeclaration): FieldColumn[] {
  return model.columns.filter((c) => c.api && API_COLUMNS[c.kind].unbounded);
}

/**
 * SQL: a body's largest values replaced by markers, largest first, until it fits `allowance` (a
 * SQL expression, in bytes): the fields of `data`, and a typed text or json column with its
 * field's value (its bytes count twice, and both are cut). Sizes are those PostgreSQL holds in
 * memory (`pg_column_size` of each value, no copy of a large one); a value is measured for its
 * marker only when cut. Built only for a record larger than its allowance (fittedRecordJson).
 */
function cutBody(model: ModelDeclaration, fields: BodyFields, allowance: string): SQL {
  const typed = cutColumns(model);
  const raw = (text: string) => sql.raw(text);
  const sourceText =
    fields === 'all'
      ? qualifiedColumn(model, 'data')
      : `jsonb_build_object(${typed
          .map((c) => `${quoteLiteral(c.field)}, to_jsonb(${qualifiedColumn(model, c.column)})`)
          .join(', ')})`;
  const source = raw(sourceText);
  const path = raw(
    `(${quoteLiteral(`${recordsPath(model)}/`)} || ${qualifiedColumn(model, 'odoo_id')} || '/fields/')`,
  );
  // A field with a typed column is in the body twice: in data and in its column.
  const times = raw(
    fields === 'all' && typed.length > 0
      ? `case when f.key = any(array[${typed.map((c) => quoteLiteral(c.field)).join(', ')}]) then 2 else 1 end`
      : '1',
  );
  // The body without any value that can be cut: what remains whatever is cut.
  const fixed = jsonText(entries(model, fields, { column: () => raw('null'), data: raw('null') }));
  const cut: CutValues = {
    column: (column, stored) =>
      sql`coalesce(cut.markers${raw(column.kind === 'json' ? '->' : '->>')}${raw(quoteLiteral(column.field))}, ${stored})`,
    data: raw('cut.data'),
  };
  // Each field is measured as it comes (jsonb_each in the select list: no set of them is kept),
  // and only the small ones are carried through the window and its sort: a large one kept whole
  // is read again at the end (a rare case: its record fitted without it... not, or it is cut).
  return sql`(select ${jsonText(entries(model, fields, cut))} from (
    select coalesce(jsonb_object_agg(v.key,
          case when v.cut then to_jsonb(v.marker)
            else coalesce(v.small, ${raw(restoredValue(model, 'v.key', `(${sourceText} -> v.key)`))}) end),
        '{}'::jsonb) as data,
      coalesce(jsonb_object_agg(v.key, v.marker) filter (where v.cut), '{}'::jsonb) as markers
    from (
      select w.key, w.small, w.cut,
        case when w.cut then ${raw(quoteLiteral(CUT_VALUE_PREFIX))} || w.size || ':' || ${path} || w.key end as marker
      from (
        select m.key, m.small, m.size, m.weight > m.cost and m.total
            - coalesce(sum(greatest(m.weight - m.cost, 0)) over (order by m.weight desc, m.key
              rows between unbounded preceding and 1 preceding), 0) > ${raw(allowance)} as cut
        from (
          select f.key, f.small, f.size, f.weight, f.cost,
            octet_length(${fixed}) + sum(f.weight) over () as total
          from (
            select f.key, case when f.bytes is null then f.small end as small,
              coalesce(f.bytes, f.size) as size, coalesce(f.bytes, f.weight) * ${times} as weight,
              (octet_length(${path}) + octet_length(f.key) + 32) * ${times} as cost
            from (
              select (f.e).key,
                case when pg_column_size((f.e).value) <= ${raw(String(CARRIED_VALUE_BYTES))} then (f.e).value end as small,
                case when jsonb_typeof((f.e).value) = 'string' then octet_length((f.e).value #>> '{}')
                  else octet_length((f.e).value::text) end as size,
                pg_column_size((f.e).value)::bigint as weight,
                -- A large value's reference: the value's size, which its pieces hold.
                (case when ${raw(referenceSha('(f.e).value'))} is not null
                  then (f.e).value ->> 'bytes' end)::bigint as bytes
              from (select jsonb_each(${source}) as e offset 0) as f) as f) as f) as m) as w) as v) as cut)`;
}

/** Values a cut carries through its window: larger ones are read again if kept (cutBody). */
const CARRIED_VALUE_BYTES = 65_536;

/**
 * A bound of a body's bytes PostgreSQL reads without building it: each text's size, and each
 * jsonb's stored size (256 times it when compressed: no compression PostgreSQL makes shrinks a
 * value more), plus room for the other columns.
 */
function bodyBound(model: ModelDeclaration, fields: BodyFields): string {
  const jsonb = (column: string) => {
    const name = qualifiedColumn(model, column);
    return `coalesce(case when pg_column_compression(${name}) is null then pg_column_size(${name})::bigint
      else pg_column_size(${name})::bigint * 256 end, 0)`;
  };
  const parts = cutColumns(model).map((c) =>
    c.kind === 'json'
      ? jsonb(c.column)
      : `coalesce(octet_length(${qualifiedColumn(model, c.column)})::bigint, 0)`,
  );
  if (fields === 'all') parts.push(jsonb('data'));
  return `(${4_096 + 256 * model.columns.length} + ${parts.join(' + ') || '0'})`;
}

const fitted = new WeakMap<ModelDeclaration, Map<string, SQL<string>>>();

/**
 * One record's body as JSON text within `allowance` bytes (a SQL expression: a number, or a
 * detail's share of its page): the body whole when it fits, else its largest values cut
 * (cutBody). Bodies whose bound fits are built as before, never measured.
 */
export function fittedRecordJson(
  model: ModelDeclaration,
  fields: BodyFields,
  allowance: string,
): SQL<string> {
  let byKey = fitted.get(model);
  if (!byKey) fitted.set(model, (byKey = new Map<string, SQL<string>>()));
  const key = `${fields}|${allowance}`;
  let body = byKey.get(key);
  if (!body) {
    body = prerendered(
      sql`case when ${sql.raw(bodyBound(model, fields))} <= ${sql.raw(allowance)}${
        // A probe of the key, never an `exists`, which PostgreSQL may plan as one scan of every
        // piece of the table, hashed.
        fields === 'all'
          ? sql.raw(` and (select true ${recordPieces(model)} limit 1) is null`)
          : sql``
      } then ${recordJson(model, fields)}
        else ${cutBody(model, fields, allowance)} end`,
    );
    byKey.set(key, body);
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
          ...names.map(
            (name) => sql`coalesce(pg_column_size(${tableColumn(model, name)})::bigint, 0)`,
          ),
          // `data`'s large values, kept apart: their pieces' stored sizes.
          ...(fields === 'all'
            ? [
                sql.raw(
                  `coalesce((select sum(pg_column_size(p.piece))::bigint ${recordPieces(model)}), 0)`,
                ),
              ]
            : []),
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
  .describe(
    `every stored field exactly as Odoo sent it; absent with fields=columns. A record larger than half of API_PAGE_MAX_BYTES has its largest values, here and in their typed columns, replaced by a marker: the text ${CUT_VALUE_PREFIX}<bytes>:<path of GET …/records/{odooId}/fields/{field}, which answers the value whole>`,
  );

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
