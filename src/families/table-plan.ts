/**
 * The indexes of a copy table, planned once for both ways of declaring a family: drizzle renders
 * the plan for a family in code (define-family.ts, and drizzle-kit writes its migrations), the
 * configured DDL for a family in a file (configured/ddl.ts). Every rule and every name is here:
 *
 * - every table: `<table>_write_date_idx` (stamp, id), the API's sort by stamp;
 * - a root: `<table>_live_idx` (id) over the rows not archived;
 * - a child: `<table>_parent_idx` (root id, its `order` field if any, id): a root's children in
 *   Odoo's order;
 * - a sort: `<table>_<column>_order_idx` (the column's key, id), over every row — live rows and,
 *   with includeArchived=true, the archived ones;
 * - a filter: on a text, its key (`<table>_<column>_key_idx`; columns.ts), unless its sort index
 *   leads with it; on any other kind the column, then the id (`<table>_<column>_idx`): one value's
 *   rows in the API's default order, page after page one index range;
 * - a text a filter or a search looks inside: `<table>_<column>_trgm_idx` (pg_trgm).
 *
 * A query entry of a family in code may name its index instead, when the index was made before
 * these rules (`{ field, index }`). What no declaration says (a composite index for one common
 * list) is the declaration's own `indexes`.
 *
 * Index names are identifiers: cut at 63 bytes and told apart by a hash, as every name the
 * configured families make (`identifier`).
 */
import { createHash } from 'node:crypto';
import { COLUMN_KINDS, type ColumnKind } from './columns.js';

/** What a plan needs of a model: its table, its place, its typed columns, its query. */
export interface PlannedModel {
  readonly table: string;
  /** A child's link to its root, and Odoo's order of a root's children (an integer field). */
  readonly parent?: { readonly column: string; readonly order?: string | undefined };
  readonly columns: readonly {
    readonly field: string;
    readonly column: string;
    readonly kind: ColumnKind;
  }[];
  readonly query: {
    readonly filter: readonly string[];
    readonly sort: readonly string[];
    readonly search?: Readonly<Record<string, readonly string[]>> | undefined;
  };
  /** Indexes made before these rules, kept under their own name: by `sort:<field>`, `filter:<field>`. */
  readonly namedIndexes?: ReadonlyMap<string, string>;
}

/** One part of an index: a column as it is, or a column's key (columns.ts, `indexKey`). */
export type IndexPart =
  { readonly column: string } | { readonly key: string; readonly kind: ColumnKind };

/** A btree index on its parts, or a pg_trgm index (gin) on one text column. */
export type PlannedIndex =
  | {
      readonly name: string;
      readonly parts: readonly IndexPart[];
      /** Over the rows not archived only. */
      readonly live?: boolean;
    }
  | { readonly name: string; readonly trigram: string };

export const MAX_IDENTIFIER = 63;

/** PostgreSQL cuts identifiers at 63 bytes; longer names are cut and told apart by a hash. */
export function identifier(name: string): string {
  if (Buffer.byteLength(name) <= MAX_IDENTIFIER) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_IDENTIFIER - 9)}_${hash}`;
}

/** The indexes of `model`'s table, in the order they are made. */
export function planIndexes(model: PlannedModel): PlannedIndex[] {
  const t = model.table;
  const byField = new Map(model.columns.map((column) => [column.field, column]));
  const columnOf = (field: string) => {
    const found = byField.get(field);
    if (!found) throw new Error(`${t}: the query names ${field}, not a column`);
    return found;
  };
  const planned = new Map<string, PlannedIndex>();
  const add = (
    suffix: string,
    index: { parts: IndexPart[]; live?: boolean } | { trigram: string },
    entry?: string,
  ) => {
    const name = identifier(
      (entry === undefined ? undefined : model.namedIndexes?.get(entry)) ?? `${t}_${suffix}`,
    );
    if (!planned.has(name)) planned.set(name, { name, ...index });
  };
  const key = (column: { column: string; kind: ColumnKind }): IndexPart => ({
    key: column.column,
    kind: column.kind,
  });

  add('write_date_idx', { parts: [{ column: 'odoo_write_date' }, { column: 'odoo_id' }] });
  if (model.parent === undefined) add('live_idx', { parts: [{ column: 'odoo_id' }], live: true });
  else
    add('parent_idx', {
      parts: [
        { column: model.parent.column },
        ...(model.parent.order === undefined ? [] : [{ column: model.parent.order }]),
        { column: 'odoo_id' },
      ],
    });

  const { filter, sort, search } = model.query;
  for (const field of sort) {
    const column = columnOf(field);
    add(
      `${column.column}_order_idx`,
      { parts: [key(column), { column: 'odoo_id' }] },
      `sort:${field}`,
    );
  }
  const searched = new Set(Object.values(search ?? {}).flat());
  for (const field of filter) {
    const column = columnOf(field);
    const { keyChars, trigram } = COLUMN_KINDS[column.kind];
    if (keyChars === null)
      add(
        `${column.column}_idx`,
        { parts: [{ column: column.column }, { column: 'odoo_id' }] },
        `filter:${field}`,
      );
    // Equality finds a text by its key; a sorted text's order index leads with it.
    else if (!sort.includes(field))
      add(`${column.column}_key_idx`, { parts: [key(column)] }, `filter:${field}`);
    if (trigram) searched.add(field);
  }
  for (const field of searched) {
    const column = columnOf(field);
    add(`${column.column}_trgm_idx`, { trigram: column.column });
  }
  return [...planned.values()];
}
