/**
 * How a model's rows are written, derived from its declaration: the columns the mapping fills,
 * as SQL pieces for one set-based upsert that reads the rows from one jsonb parameter, and what a
 * write resets. Each row travels as a JSON array of its values in the shape's column order, not
 * an object: a wide model's column names, repeated in every row, were a third of what was
 * serialized and parsed on both sides. The mapping fills that array directly (map-record.ts), in
 * the order of the model's {@link rowLayout}: a row object of every column, then laid out, was
 * most of what a wide model's page allocated.
 */
import { sql, type SQL } from 'drizzle-orm';
import { isChild, type ChildModel, type ModelDeclaration, type RootModel } from './family.js';
import { quoteIdentifier as quote, quoteLiteral } from '../db/sql-rows.js';
import { restoredJson, restoredText, valuePiecesKept } from './large-values.js';
import { copyTableKey, quotedTable, tableSql } from './table-names.js';

export interface WriteShape {
  /** The table. */
  readonly table: SQL;
  /** The columns written, in the order a row's array holds their values. */
  readonly columns: readonly string[];
  /** `("odoo_id", "name", …)` */
  readonly into: SQL;
  /** `(r->>0)::integer as "odoo_id", r->>1 as "name", …`: a row's values from its array `r` */
  readonly values: SQL;
  /** A mapped row's values (in the layout's order) as this shape's array holds them. */
  rowValues(values: readonly unknown[]): readonly unknown[];
  /** `"name" = excluded."name", …` and what a write resets */
  readonly update: SQL;
  /** The root a written row belongs to, for its audit row */
  readonly rootOf: SQL;
  /**
   * For rows holding references to large texts: statements (CTEs) run with the write that keep
   * the pieces of the values the rows `written` (a CTE of their `odoo_id` and `data`) reference.
   */
  readonly pieces?: (written: string) => SQL;
}

/** The columns a model's rows fill, in a stable order. */
function writtenColumns(model: ModelDeclaration, extra: readonly string[]): string[] {
  // A child's parent column may be one of its typed columns too (its many2one's id).
  return [
    ...new Set([
      'odoo_id',
      ...model.columns
        .filter((c) => !c.frozen)
        .flatMap((c) => (c.nameColumn ? [c.column, c.nameColumn] : [c.column])),
      ...extra,
      ...(model.layoutVersion === undefined ? [] : ['layout_version']),
      'odoo_write_date',
      'data',
    ]),
  ];
}

/**
 * `data` as a write leaves it: the stored record with the incoming one laid over it, so a field
 * the incoming record lacks (Odoo no longer lists it) keeps its last value, less the fields the
 * reads leave out on purpose (`unread`).
 */
function mergedData(table: string, unread: readonly string[]): string {
  const stored = `${table}.${quote('data')}`;
  const kept =
    unread.length === 0
      ? stored
      : `(${stored} - array[${unread.map(quoteLiteral).join(', ')}]::text[])`;
  return `${kept} || excluded.${quote('data')}`;
}

function shape(
  model: ModelDeclaration,
  written: readonly string[],
  kept: readonly number[] | undefined,
  onWrite: string,
  rootOf: string,
  unread: readonly string[],
  restoring: boolean,
): WriteShape {
  const typeOf = (name: string) => {
    const type = model.table.sqlTypes.get(name);
    if (!type) throw new Error(`${model.table.name} has no column ${name}`);
    return type;
  };
  const valueOf = (name: string, i: number) => {
    const type = typeOf(name);
    // Rows holding references to large texts get the texts the write staged in their typed
    // columns; `data` keeps the references, and the pieces (large-values.ts).
    if (restoring && name !== 'data' && (type === 'jsonb' || type === 'text'))
      return type === 'text' ? restoredText(`r->${i}`) : restoredJson(`r->${i}`);
    // An empty value travels as JSON null; its column holds SQL NULL, as every other kind's does.
    if (type === 'jsonb') return `nullif(r->${i}, 'null'::jsonb)`;
    return type === 'text' ? `r->>${i}` : `(r->>${i})::${type}`;
  };
  return {
    table: tableSql(model.table),
    columns: written,
    into: sql.raw(`(${written.map(quote).join(', ')})`),
    values: sql.raw(written.map((name, i) => `${valueOf(name, i)} as ${quote(name)}`).join(', ')),
    rowValues: kept ? (values) => kept.map((slot) => values[slot]) : (values) => values,
    update: sql.raw(
      [
        ...written
          .filter((name) => name !== 'odoo_id')
          .map((name) =>
            name === 'data'
              ? `${quote(name)} = ${mergedData(quotedTable(model.table), unread)}`
              : `${quote(name)} = excluded.${quote(name)}`,
          ),
        onWrite,
      ].join(', '),
    ),
    rootOf: sql.raw(rootOf),
    ...(restoring
      ? {
          pieces: (written: string) => sql.raw(valuePiecesKept(copyTableKey(model.table), written)),
        }
      : {}),
  };
}

/**
 * Where each column a model's rows fill stands in a row's values, and what its write does by the
 * model's place in its family.
 */
export interface RowLayout {
  /** Every column, in the order a mapped row's values hold them. */
  readonly columns: readonly string[];
  readonly slotOf: ReadonlyMap<string, number>;
  readonly onWrite: string;
  readonly rootOf: string;
}

const layouts = new WeakMap<ModelDeclaration, RowLayout>();

/** The layout of a model's rows, derived once per declaration. */
export function rowLayout(model: RootModel | ChildModel): RowLayout {
  let layout = layouts.get(model);
  if (!layout) {
    const columns = isChild(model)
      ? writtenColumns(model, [model.parentColumn])
      : writtenColumns(model, ['active']);
    layout = {
      columns,
      slotOf: new Map(columns.map((name, slot) => [name, slot])),
      onWrite: isChild(model)
        ? 'synced_at = now()'
        : // A root written again is live again (not archived).
          'archived_at = null, archive_reason = null, synced_at = now()',
      rootOf: isChild(model) ? quote(model.parentColumn) : 'odoo_id',
    };
    layouts.set(model, layout);
  }
  return layout;
}

/**
 * The columns a mapped row lacks (a record read without a field Odoo no longer lists has no value
 * for its column): their slots, as a key; empty when it holds every column.
 */
export function absentKey(values: readonly unknown[]): string {
  let key = '';
  for (let slot = 0; slot < values.length; slot += 1)
    if (values[slot] === undefined) key += `${slot},`;
  return key;
}

/**
 * Shapes are derived once per declaration and set of columns: a page writes thousands of rows
 * with one of them.
 */
const shapes = new WeakMap<ModelDeclaration, Map<string, WriteShape>>();

/**
 * The shape that writes rows lacking the columns of `absent` (an {@link absentKey}), dropping
 * `unread` from the stored `data`; `restoring`, of rows holding references to large texts the
 * write staged. Every column of the model when `absent` is empty.
 */
export function writeShape(
  model: RootModel | ChildModel,
  absent = '',
  unread: readonly string[] = [],
  restoring = false,
): WriteShape {
  const key = `${absent}|${unread.join(',')}|${restoring ? 'restoring' : ''}`;
  let byKey = shapes.get(model);
  if (!byKey) shapes.set(model, (byKey = new Map<string, WriteShape>()));
  let known = byKey.get(key);
  if (!known) {
    const { columns, onWrite, rootOf } = rowLayout(model);
    const lacking = new Set(absent.split(',').filter(Boolean).map(Number));
    const kept =
      lacking.size === 0
        ? undefined
        : columns.flatMap((_, slot) => (lacking.has(slot) ? [] : [slot]));
    const written = kept ? kept.map((slot) => columns[slot]!) : columns;
    known = shape(model, written, kept, onWrite, rootOf, unread, restoring);
    byKey.set(key, known);
  }
  return known;
}

/** The root table's shape, every column. */
export function rootWriteShape(root: RootModel): WriteShape {
  return writeShape(root);
}

/** A child table's shape, every column. */
export function childWriteShape(child: ChildModel): WriteShape {
  return writeShape(child);
}

/**
 * Whether a stored row (of the table, or aliased `alias`) was written under an older layout than
 * the model's: such a row is written again even when Odoo did not change. Never, for a table
 * declared in code.
 */
export function staleLayout(model: ModelDeclaration, alias?: string): SQL {
  if (model.layoutVersion === undefined) return sql.raw('false');
  const column = alias ? `${alias}.${quote('layout_version')}` : quote('layout_version');
  return sql.raw(`(${column} is distinct from ${String(model.layoutVersion)})`);
}
