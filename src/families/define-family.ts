/**
 * A family declared in code, from one declaration: the `RecordFamily` the engine copies and
 * serves, and its drizzle tables, from which drizzle-kit writes its migrations. Each table is the
 * copy table's own columns (copy-columns.ts), a column per declared field of its kind's type
 * (columns.ts), a child's link to its root, and the indexes its declaration implies, planned by
 * the rules a family in a file follows too (table-plan.ts) and rendered here for drizzle.
 *
 * A query entry may name its index instead, when the index was made before those rules. What no
 * declaration says (a composite index for one common list) is the declaration's `indexes`.
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
import { planIndexes, type IndexPart } from './table-plan.js';
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

/** The indexes a model's declaration implies (table-plan.ts), as drizzle declares them. */
function derivedIndexes(
  declared: CodeModel,
  place: { readonly parent?: string; readonly order?: string },
  column: (name: string) => ExtraConfigColumn,
): IndexBuilder[] {
  const query = declared.query ?? {};
  const namedIndexes = new Map<string, string>();
  for (const [what, entries] of [
    ['sort', query.sort],
    ['filter', query.filter],
  ] as const)
    for (const entry of entries ?? [])
      if (typeof entry !== 'string') namedIndexes.set(`${what}:${entry.field}`, entry.index);
  const plan = planIndexes({
    table: declared.table,
    ...(place.parent === undefined ? {} : { parent: { column: place.parent, order: place.order } }),
    columns: declared.columns,
    query: {
      filter: (query.filter ?? []).map(fieldOf),
      sort: (query.sort ?? []).map(fieldOf),
      search: query.search,
    },
    namedIndexes,
  });
  const part = (planned: IndexPart) =>
    'column' in planned
      ? column(planned.column)
      : sql.raw(indexKey(planned.kind, quoteIdentifier(planned.key)));
  return plan.map((planned) => {
    if ('trigram' in planned)
      return index(planned.name).using('gin', column(planned.trigram).op('gin_trgm_ops'));
    const [first, ...rest] = planned.parts.map(part);
    const built = index(planned.name).on(first!, ...rest);
    return planned.live ? built.where(sql`${column('archived_at')} is null`) : built;
  });
}

/** The drizzle table of a model: its own columns, its root link, its fields, its indexes. */
function tableOf(
  declared: CodeModel,
  own: Record<string, PgColumnBuilderBase>,
  place: { readonly parent?: string; readonly order?: string },
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
      { parent: child.parentColumn, ...(child.order ? { order: child.order } : {}) },
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
