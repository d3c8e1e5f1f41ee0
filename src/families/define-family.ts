/**
 * A family declared in code, from one declaration: the `RecordFamily` the engine copies and
 * serves, and its drizzle tables, from which drizzle-kit writes its migrations. Each table is the
 * copy table's own columns (copy-columns.ts), a column per declared field of its kind's type
 * (columns.ts), a child's link to its root, and the indexes its declaration implies:
 *
 * - every table: `<table>_write_date_idx` (stamp, id), the API's sort by stamp;
 * - a root: `<table>_live_idx` (id) over the rows not archived;
 * - a child: `<table>_<link without _id>_idx` (root id, its `order` field if any, id): a root's
 *   children in Odoo's order;
 * - a filter: `<table>_<column>_idx` (a many2one's named after its field without `_id`): on a
 *   many2one or a selection, looked up by its key, the column alone; on a text its key
 *   (columns.ts), unless its sort index leads with it; on any other column the column, then the
 *   id;
 * - a sort: `<table>_<column>_sort_idx` (the column's key, id), over every row;
 * - a text a filter or a search looks inside: `<table>_<column>_trgm_idx` (pg_trgm).
 *
 * A query entry may name its index instead, when the index was made before this convention. What
 * no declaration says (a composite index for one common list) is the declaration's `indexes`.
 */
import { getTableColumns, getTableName, sql } from 'drizzle-orm';
import {
  index,
  integer,
  pgTable,
  type IndexBuilder,
  type ExtraConfigColumn,
  type PgColumnBuilderBase,
  type PgTable,
  type PgTableWithColumns,
} from 'drizzle-orm/pg-core';
import type { BuildColumns } from 'drizzle-orm/column-builder';
import { quoteIdentifier } from '../db/sql-rows.js';
import { COLUMN_KINDS, indexKey, type ColumnKind, type FieldColumn } from './columns.js';
import { childCopyColumns, rootCopyColumns } from './copy-columns.js';
import type {
  ChildModel,
  CopyTable,
  FamilySchedule,
  FieldSelection,
  ModelQuery,
  RecordFamily,
  RootModel,
} from './family.js';

/** A field of a query, or a field whose index was made before the convention above, by its name. */
export type QueryEntry = string | { readonly field: string; readonly index: string };

interface CodeModel {
  readonly model: string;
  readonly table: string;
  readonly columns: readonly FieldColumn[];
  /** What the read API filters, sorts and searches on (family.ts, ModelQuery). */
  readonly query?: {
    readonly filter?: readonly QueryEntry[];
    readonly sort?: readonly QueryEntry[];
    readonly search?: ModelQuery['search'];
  };
  /** Which stored fields the reads ask for, when not every one of them. */
  readonly fields?: FieldSelection;
  /** Indexes no declaration says, by hand; `column` finds a column of the table by its name. */
  readonly indexes?: (column: (name: string) => ExtraConfigColumn) => IndexBuilder[];
}

export interface CodeRoot extends CodeModel {
  /** Odoo's archive flag (`active`), null for a model without one. */
  readonly activeField: string | null;
}

export interface CodeChild extends CodeModel {
  /** The child's many2one to its root (`bc_id`), and the column holding the root's id. */
  readonly parentField: string;
  readonly parentColumn: string;
  /** Odoo's order of a root's children, when not the id's: an integer field (`sequence`). */
  readonly order?: string;
}

export interface FamilyDeclaration {
  /** The family's name in jobs, state, the CLI and the API (`bcs`). */
  readonly name: string;
  /** What one root record is called in logs and messages (`BC`). */
  readonly noun: string;
  readonly root: CodeRoot;
  readonly children: readonly CodeChild[];
  readonly schedule?: FamilySchedule;
}

/** `x_gadget_part` → `xGadgetPart`: a column's or a table's key in drizzle. */
type Camel<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<Camel<Tail>>}`
  : S;

const camel = (name: string) =>
  name.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());

type KindColumn<K extends ColumnKind> = ReturnType<(typeof COLUMN_KINDS)[K]['column']>;

type NameColumnKey<N> = N extends string ? Camel<N> : never;

/** The drizzle columns of declared fields: each of its kind, and a many2one's display name. */
type FieldColumns<Cs extends readonly FieldColumn[]> = {
  [C in Cs[number] as Camel<C['column']>]: KindColumn<C['kind']>;
} & {
  [C in Cs[number] as NameColumnKey<C['nameColumn']>]: KindColumn<'text'>;
};

/** A child's link to its root: the root's Odoo id, its rows removed with it. */
const parentColumn = (name: string) => integer(name).notNull();

type RootColumns<R extends CodeRoot> = ReturnType<typeof rootCopyColumns> &
  FieldColumns<R['columns']>;
type ChildColumns<C extends CodeChild> = ReturnType<typeof childCopyColumns> & {
  [P in Camel<C['parentColumn']>]: ReturnType<typeof parentColumn>;
} & FieldColumns<C['columns']>;

type Table<N extends string, M extends Record<string, PgColumnBuilderBase>> = PgTableWithColumns<{
  name: N;
  schema: undefined;
  columns: BuildColumns<N, M, 'pg'>;
  dialect: 'pg';
}>;

/** The family's drizzle tables, each by its name in camelCase (`x_gadget` → `xGadget`). */
export type FamilyTables<D extends FamilyDeclaration> = {
  [P in Camel<D['root']['table']>]: Table<D['root']['table'], RootColumns<D['root']>>;
} & {
  [C in D['children'][number] as Camel<C['table']>]: Table<C['table'], ChildColumns<C>>;
};

/** A drizzle table as the engine sees it: its name, and each column's PostgreSQL type. */
function copyTableOf(table: PgTable): CopyTable {
  return {
    name: getTableName(table),
    sqlTypes: new Map(
      Object.values(getTableColumns(table)).map((column) => [column.name, column.getSQLType()]),
    ),
  };
}

const fieldOf = (entry: QueryEntry) => (typeof entry === 'string' ? entry : entry.field);

/** The model's query as the engine reads it: field names. */
function queryOf(declared: CodeModel): ModelQuery | undefined {
  const { query } = declared;
  if (!query) return undefined;
  return {
    filter: (query.filter ?? []).map(fieldOf),
    sort: (query.sort ?? []).map(fieldOf),
    ...(query.search ? { search: query.search } : {}),
  };
}

/** The indexes a model's declaration implies (see the header), by their names. */
function derivedIndexes(
  declared: CodeModel,
  place: { readonly parent?: string; readonly link?: string; readonly order?: string },
  column: (name: string) => ExtraConfigColumn,
): IndexBuilder[] {
  const t = declared.table;
  const byField = new Map(declared.columns.map((c) => [c.field, c]));
  const declaredColumn = (field: string) => {
    const found = byField.get(field);
    if (!found) throw new Error(`${declared.model}: the query names ${field}, not a column`);
    return found;
  };
  const key = (c: FieldColumn) => sql.raw(indexKey(c.kind, quoteIdentifier(c.column)));
  const stem = (field: string) => field.replace(/_id$/, '');
  const named = (entry: QueryEntry, derived: string) =>
    typeof entry === 'string' ? derived : entry.index;
  const indexes = new Map<string, IndexBuilder>();
  const add = (name: string, build: (builder: ReturnType<typeof index>) => IndexBuilder) => {
    if (!indexes.has(name)) indexes.set(name, build(index(name)));
  };

  add(`${t}_write_date_idx`, (i) => i.on(column('odoo_write_date'), column('odoo_id')));
  if (place.parent === undefined)
    add(`${t}_live_idx`, (i) =>
      i.on(column('odoo_id')).where(sql`${column('archived_at')} is null`),
    );
  else
    add(`${t}_${stem(place.link!)}_idx`, (i) =>
      i.on(
        column(place.parent!),
        ...(place.order === undefined ? [] : [column(place.order)]),
        column('odoo_id'),
      ),
    );

  const query = declared.query ?? {};
  const sorted = new Set((query.sort ?? []).map(fieldOf));
  for (const entry of query.sort ?? []) {
    const c = declaredColumn(fieldOf(entry));
    add(named(entry, `${t}_${c.column}_sort_idx`), (i) => i.on(key(c), column('odoo_id')));
  }
  const searched = new Set(Object.values(query.search ?? {}).flat());
  for (const entry of query.filter ?? []) {
    const c = declaredColumn(fieldOf(entry));
    const { keyChars, trigram } = COLUMN_KINDS[c.kind];
    if (c.kind === 'many2one' || c.selection)
      add(named(entry, `${t}_${stem(c.field)}_idx`), (i) => i.on(column(c.column)));
    else if (keyChars === null)
      add(named(entry, `${t}_${c.column}_idx`), (i) => i.on(column(c.column), column('odoo_id')));
    else if (!sorted.has(c.field)) add(named(entry, `${t}_${c.column}_idx`), (i) => i.on(key(c)));
    if (trigram && !c.selection) searched.add(c.field);
  }
  for (const field of searched) {
    const c = declaredColumn(field);
    add(`${t}_${c.column}_trgm_idx`, (i) => i.using('gin', column(c.column).op('gin_trgm_ops')));
  }
  return [...indexes.values()];
}

/** The drizzle table of a model: its own columns, its root link, its fields, its indexes. */
function tableOf(
  declared: CodeModel,
  own: Record<string, PgColumnBuilderBase>,
  place: { readonly parent?: string; readonly link?: string; readonly order?: string },
): PgTable {
  const columns = { ...own };
  for (const c of declared.columns) {
    columns[camel(c.column)] = COLUMN_KINDS[c.kind].column(c.column);
    if (c.nameColumn !== undefined)
      columns[camel(c.nameColumn)] = COLUMN_KINDS.text.column(c.nameColumn);
  }
  return pgTable(declared.table, columns, (built) => {
    const byName = new Map(Object.values(built).map((c: ExtraConfigColumn) => [c.name, c]));
    const column = (name: string) => {
      const found = byName.get(name);
      if (!found) throw new Error(`${declared.table} has no column ${name}`);
      return found;
    };
    return [...derivedIndexes(declared, place, column), ...(declared.indexes?.(column) ?? [])];
  });
}

/** The family and its drizzle tables. */
export function defineFamily<const D extends FamilyDeclaration>(
  declaration: D,
): { readonly family: RecordFamily; readonly tables: FamilyTables<D> } {
  const { root, children } = declaration;
  const rootTable = tableOf(root, rootCopyColumns(root.table), {});
  const rootOdooId = getTableColumns(rootTable).odooId!;
  const childTables = children.map((child) =>
    tableOf(
      child,
      {
        ...childCopyColumns(child.table),
        [camel(child.parentColumn)]: parentColumn(child.parentColumn).references(() => rootOdooId, {
          onDelete: 'cascade',
        }),
      },
      {
        parent: child.parentColumn,
        link: child.parentField,
        ...(child.order ? { order: child.order } : {}),
      },
    ),
  );
  const model = (declared: CodeModel, table: PgTable, required: readonly string[]) => {
    const query = queryOf(declared);
    return {
      model: declared.model,
      table: copyTableOf(table),
      columns: declared.columns,
      links: [],
      requiredFields: ['write_date', ...required],
      ...(declared.fields ? { fields: declared.fields } : {}),
      ...(query ? { query } : {}),
    };
  };
  const family: RecordFamily = {
    name: declaration.name,
    noun: declaration.noun,
    root: { ...model(root, rootTable, []), activeField: root.activeField } satisfies RootModel,
    children: children.map((child, i): ChildModel => ({
      ...model(child, childTables[i]!, [child.parentField]),
      parentField: child.parentField,
      parentColumn: child.parentColumn,
      ...(child.order ? { order: child.order } : {}),
    })),
    schedule: declaration.schedule ?? {},
  };
  const tables = Object.fromEntries(
    [rootTable, ...childTables].map((table) => [camel(getTableName(table)), table]),
  ) as FamilyTables<D>;
  return { family, tables };
}
