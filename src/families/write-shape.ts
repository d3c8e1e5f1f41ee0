/**
 * How a model's rows are written, derived from its declaration: the columns the mapping fills,
 * as SQL pieces for one set-based upsert that reads the rows from one jsonb parameter, and what a
 * write resets. Each row travels as a JSON array of its values in the shape's column order, not
 * an object: a wide model's column names, repeated in every row, were a third of what was
 * serialized and parsed on both sides.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { ChildModel, ModelDeclaration, RootModel } from './family.js';
import { quoteIdentifier as quote } from '../db/sql-rows.js';

export interface WriteShape {
  /** The table. */
  readonly table: SQL;
  /** The columns written, in the order a row's array holds their values. */
  readonly columns: readonly string[];
  /** `("odoo_id", "name", …)` */
  readonly into: SQL;
  /** `(r->>0)::integer as "odoo_id", r->>1 as "name", …`: a row's values from its array `r` */
  readonly values: SQL;
  /** `"name" = excluded."name", …` and what a write resets */
  readonly update: SQL;
  /** The root a written row belongs to, for its audit row */
  readonly rootOf: SQL;
}

/** The columns a model's rows fill, in a stable order. */
export function writtenColumns(model: ModelDeclaration, extra: readonly string[]): string[] {
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

function shape(
  model: ModelDeclaration,
  written: readonly string[],
  onWrite: string,
  rootOf: string,
): WriteShape {
  const typeOf = (name: string) => {
    const type = model.table.sqlTypes.get(name);
    if (!type) throw new Error(`${model.table.name} has no column ${name}`);
    return type;
  };
  const valueOf = (name: string, i: number) => {
    const type = typeOf(name);
    if (type === 'jsonb') return `r->${i}`;
    return type === 'text' ? `r->>${i}` : `(r->>${i})::${type}`;
  };
  return {
    table: sql.raw(quote(model.table.name)),
    columns: written,
    into: sql.raw(`(${written.map(quote).join(', ')})`),
    values: sql.raw(written.map((name, i) => `${valueOf(name, i)} as ${quote(name)}`).join(', ')),
    update: sql.raw(
      [
        ...written
          .filter((name) => name !== 'odoo_id')
          .map((name) => `${quote(name)} = excluded.${quote(name)}`),
        onWrite,
      ].join(', '),
    ),
    rootOf: sql.raw(rootOf),
  };
}

/** Shapes are derived once per declaration: a page writes thousands of rows with them. */
const shapes = new WeakMap<ModelDeclaration, WriteShape>();

function cached(model: ModelDeclaration, make: () => WriteShape): WriteShape {
  let known = shapes.get(model);
  if (!known) shapes.set(model, (known = make()));
  return known;
}

/** A root written again is live again (not archived). */
export function rootWriteShape(root: RootModel): WriteShape {
  return cached(root, () =>
    shape(
      root,
      writtenColumns(root, ['active']),
      'archived_at = null, archive_reason = null, synced_at = now()',
      'odoo_id',
    ),
  );
}

export function childWriteShape(child: ChildModel): WriteShape {
  return cached(child, () =>
    shape(
      child,
      writtenColumns(child, [child.parentColumn]),
      'synced_at = now()',
      quote(child.parentColumn),
    ),
  );
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
