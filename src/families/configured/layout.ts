/**
 * The layout of a configured family's tables, planned from Odoo's `fields_get`: which column
 * each field gets, of which type, under which name, and which to-many fields get a link table
 * (docs/models.md has the table of types). `migrate` plans it, creates what it adds and keeps it
 * in `sync_family_layout`; the workers and the API build the family from it.
 *
 * A layout only grows. Names once given are kept, so a column never moves; a field Odoo no
 * longer has (or the file no longer lists) keeps its column, frozen: no longer written. A field
 * whose type changed is refused while its column holds the old type.
 */
import { createHash } from 'node:crypto';
import type { OdooDomain, OdooFieldDescription } from '../../clients/odoo/odoo-types.js';
import { COLUMN_KINDS, kindOfOdooType, SQL_TYPES, type ColumnKind } from '../columns.js';
import { identifier } from '../table-plan.js';
import { ownColumns } from '../copy-columns.js';
import { FIELD_NAME, MODEL_NAME, type LeftOutField } from '../field-policy.js';
import { chooseFields, type DescribedModels } from './choose-fields.js';
import type { ConfiguredFamilySpec, ConfiguredModelSpec } from './spec.js';
import { linkTableOf } from './spec.js';

export interface LayoutColumn {
  readonly field: string;
  /** Odoo's type when the column was planned, for the error a type change gets. */
  readonly odooType: string;
  readonly kind: ColumnKind;
  readonly column: string;
  /** A many2one's display name. */
  readonly nameColumn?: string;
  /** As PostgreSQL's `format_type` prints it, to compare with the catalog. */
  readonly sqlType: string;
  readonly frozen?: boolean;
}

export interface LayoutLink {
  readonly field: string;
  readonly relation: string;
  /** A one2many's inverse many2one on the target. */
  readonly inverse?: string;
  /** A one2many's static domain: what reading the field filters, and its scans apply. */
  readonly domain?: OdooDomain;
  readonly table: string;
  readonly frozen?: boolean;
}

export interface ModelLayout {
  readonly model: string;
  readonly table: string;
  /** A root's archive flag (`active`, `x_active`), null when it has none; undefined for a child. */
  readonly activeField?: string | null;
  /** A child's many2one to its root, and the column that holds the root's id. */
  readonly parentField?: string;
  readonly parentColumn?: string;
  readonly columns: readonly LayoutColumn[];
  readonly links: readonly LayoutLink[];
}

export interface FamilyLayout {
  readonly family: string;
  /** What of the family's declaration the layout was planned for (its schedule apart). */
  readonly specHash: string;
  /** Grows by one with every change of the layout; rows carry the version they were written in. */
  readonly version: number;
  readonly models: readonly ModelLayout[];
}

/** `fields_get` of each model of a family, with these attributes. */
export const LAYOUT_ATTRIBUTES = [
  'type',
  'store',
  'relation',
  'relation_field',
  'domain',
  'string',
  // Who may read it: a field Odoo's administrators alone may read is left out (field-policy.ts).
  'groups',
];

/** `fields_get` of a one2many's target, with these attributes: enough to judge its inverse. */
export const TARGET_ATTRIBUTES = ['type', 'store', 'relation'];

/** Each table's columns and their types, as the catalog has them now. */
export type Catalog = ReadonlyMap<string, ReadonlyMap<string, string>>;

export { identifier };

/** The hash of what a layout depends on in the declaration. */
export function specHash(spec: ConfiguredFamilySpec): string {
  const { schedule: _schedule, ...planned } = spec;
  return createHash('sha256').update(JSON.stringify(planned)).digest('hex').slice(0, 16);
}

/** A column planned `numeric(p,s)` by an earlier version: widened to `numeric`, never refused. */
export const ROUNDED_NUMERIC = /^numeric\(\d+,\d+\)$/;

export interface PlannedLayout {
  readonly layout: FamilyLayout;
  /** What the family's declaration asks that Odoo or the tables refuse; nothing is created then. */
  readonly problems: string[];
  /** Stored fields Odoo lists that the copy does not hold, and why (`migrate` prints them). */
  readonly leftOut: LeftOutField[];
}

/**
 * Plans a family's layout from Odoo's fields and the layout kept so far.
 * @param described every model of the family and every one2many target they name
 * @param catalog the family's tables as they are (to refuse a type change)
 */
export function planLayout(
  spec: ConfiguredFamilySpec,
  described: DescribedModels,
  previous: FamilyLayout | undefined,
  catalog: Catalog,
): PlannedLayout {
  const problems: string[] = [];
  const leftOut: LeftOutField[] = [];
  const childModels = new Map(spec.children.map((child) => [child.model, child]));
  const models = [spec.root, ...spec.children].map((model, index): ModelLayout => {
    const found = described.get(model.model);
    const fields = found?.fields ?? {};
    const where = `${spec.name}: ${model.model}`;
    const before = previous?.models.find((known) => known.model === model.model);
    const modelProblems: string[] = [];
    const planned = planModel(model, fields, before, {
      where,
      problems: modelProblems,
      leftOut,
      catalog,
      described,
      isRoot: index === 0,
      rootModel: spec.root.model,
      parentField: index === 0 ? undefined : spec.children[index - 1]!.link,
      childOf: (description) => {
        const child = childModels.get(description.relation ?? '');
        return (
          index === 0 &&
          description.type === 'one2many' &&
          child !== undefined &&
          description.relation_field === child.link
        );
      },
    });
    // A model refused whole is the one problem to name, not each field it lacks.
    const refused = modelRefusal(fields, found?.readable);
    problems.push(...(refused ? [`${where}: ${refused}`] : modelProblems));
    return planned;
  });
  const sameModels = previous !== undefined && sameRows(previous.models, models);
  const hash = specHash(spec);
  const version =
    previous === undefined
      ? 1
      : sameModels && previous.specHash === hash
        ? previous.version
        : previous.version + 1;
  return { layout: { family: spec.name, specHash: hash, version, models }, problems, leftOut };
}

/** Why a model cannot be copied at all, from what Odoo described of it; undefined when it can. */
function modelRefusal(
  fields: Readonly<Record<string, OdooFieldDescription>>,
  readable: boolean | undefined,
): string | undefined {
  if (Object.keys(fields).length === 0)
    return 'Odoo has no such model, or the sync user cannot read it';
  if (readable === false)
    return 'the sync user may not read the model (has_access, check_access_rights on Odoo 17)';
  if (!('write_date' in fields))
    return 'has no write_date (Odoo keeps no stamps of it: _log_access is off), so no run could see its changes';
  return undefined;
}

/**
 * Whether rows written under one layout are what the other would write: the same columns and
 * links. A decimal widened from `numeric(p,s)` to `numeric` keeps its rows, and so does a
 * selection an earlier version planned as a text: the same text, parsed the same way.
 */
function sameRows(a: readonly ModelLayout[], b: readonly ModelLayout[]): boolean {
  const rows = (models: readonly ModelLayout[]) =>
    models.map((model) => ({
      ...model,
      columns: model.columns.map((column) => ({
        ...column,
        kind: column.kind === 'selection' ? 'text' : column.kind,
        sqlType: ROUNDED_NUMERIC.test(column.sqlType) ? 'numeric' : column.sqlType,
      })),
    }));
  return canonical(rows(a)) === canonical(rows(b));
}

/** Whether two layouts differ in anything, so the newer must be kept. */
export function sameLayout(a: FamilyLayout, b: FamilyLayout): boolean {
  return canonical(a) === canonical(b);
}

/** JSON with every object's keys sorted. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(
          Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : item,
  );
}

interface ModelContext {
  readonly where: string;
  readonly problems: string[];
  readonly leftOut: LeftOutField[];
  readonly catalog: Catalog;
  readonly described: DescribedModels;
  readonly isRoot: boolean;
  readonly rootModel: string;
  readonly parentField: string | undefined;
  /** Whether a to-many field of the root is one of the family's children (a table of its own). */
  readonly childOf: (description: OdooFieldDescription) => boolean;
}

function planModel(
  spec: ConfiguredModelSpec,
  fields: Readonly<Record<string, OdooFieldDescription>>,
  before: ModelLayout | undefined,
  context: ModelContext,
): ModelLayout {
  const { where, problems, isRoot, parentField } = context;
  const stored = (name: string) => fields[name]?.store === true;
  const typeOf = (name: string) => fields[name]?.type;

  const activeField = isRoot
    ? (['active', 'x_active'].find((name) => stored(name) && typeOf(name) === 'boolean') ?? null)
    : undefined;
  if (parentField !== undefined) {
    const link = fields[parentField];
    if (link?.type !== 'many2one' || link.relation !== context.rootModel || !link.store)
      problems.push(
        `${where}: link: ${parentField} is not a stored many2one to ${context.rootModel}`,
      );
  }

  const choice = chooseFields(spec, fields, {
    where,
    model: spec.model,
    parentField,
    activeField,
    childOf: context.childOf,
    targets: context.described,
  });
  problems.push(...choice.problems);
  context.leftOut.push(...choice.leftOut);

  // The table's own columns (copy-columns.ts) are no field's.
  const taken = new Set(ownColumns(isRoot ? 'root' : 'child', true).map((own) => own.name));
  for (const column of before?.columns ?? []) {
    taken.add(column.column);
    if (column.nameColumn) taken.add(column.nameColumn);
  }
  const fieldNames = new Set(Object.keys(fields));
  const claim = (...candidates: string[]): string => {
    for (const candidate of candidates.map(identifier))
      if (!taken.has(candidate)) {
        taken.add(candidate);
        return candidate;
      }
    for (let n = 2; ; n += 1) {
      const candidate = identifier(`${candidates[0]!}_${String(n)}`);
      if (!taken.has(candidate)) {
        taken.add(candidate);
        return candidate;
      }
    }
  };

  const table = context.catalog.get(spec.table);
  const columns: LayoutColumn[] = [];
  const links: LayoutLink[] = [];
  const seen = new Set<string>();
  for (const { name, description, domain } of choice.chosen) {
    seen.add(name);
    const type = description.type ?? 'unknown';
    if (type === 'many2many' || type === 'one2many') {
      const known = before?.links.find((link) => link.field === name);
      const inverse = type === 'one2many' ? description.relation_field : undefined;
      links.push({
        field: name,
        relation: description.relation ?? '',
        ...(typeof inverse === 'string' ? { inverse } : {}),
        ...(domain === undefined ? {} : { domain }),
        table: known?.table ?? identifier(linkTableOf(spec.table, name)),
      });
      continue;
    }
    const kind = kindOfOdooType(type);
    const sqlType = SQL_TYPES[kind];
    const known = before?.columns.find((column) => column.field === name);
    const column = known?.column ?? claim(name, `odoo_${name}`);
    const existing = table?.get(column);
    const widened =
      sqlType === 'numeric' && existing !== undefined && ROUNDED_NUMERIC.test(existing);
    if (existing !== undefined && existing !== sqlType && !widened) {
      problems.push(
        `${where}: ${name} is now ${type} (${sqlType}), but column ${spec.table}.${column} is ${existing}: ` +
          `a column's type is never changed. Rename the old column (alter table ${spec.table} rename column ${column} to ${column}_old), ` +
          'then run migrate again: the column is created anew and the next reconcile fills it (docs/models.md, "When a field changes type")',
      );
    }
    const nameColumn =
      kind !== 'many2one'
        ? undefined
        : (known?.nameColumn ??
          claim(
            ...[`${name.replace(/_id$/, '')}_name`, `${name}_name`].filter(
              (candidate) => !fieldNames.has(candidate),
            ),
            `${name}_display_name`,
          ));
    columns.push({
      field: name,
      odooType: type,
      kind,
      column,
      ...(nameColumn === undefined ? {} : { nameColumn }),
      sqlType,
    });
  }
  // What the layout had and Odoo (or the declaration) no longer gives: kept, no longer written.
  for (const column of before?.columns ?? [])
    if (!seen.has(column.field) && table?.has(column.column) !== false)
      columns.push({ ...column, frozen: true });
  for (const link of before?.links ?? [])
    if (!seen.has(link.field)) links.push({ ...link, frozen: true });

  for (const [what, names] of [
    ['filter', spec.api.filter],
    ['sort', spec.api.sort],
  ] as const)
    for (const name of names) {
      const column = columns.find((candidate) => candidate.field === name);
      if (!column || !COLUMN_KINDS[column.kind].comparable)
        problems.push(
          `${where}: api.${what}: ${name} is not a column the API can ${what} on (a stored field, not to-many, json or an unlisted binary)`,
        );
    }

  const parentColumn =
    parentField === undefined
      ? undefined
      : columns.find((column) => column.field === parentField)?.column;
  return {
    model: spec.model,
    table: spec.table,
    ...(isRoot ? { activeField } : {}),
    ...(parentField === undefined
      ? {}
      : { parentField, parentColumn: parentColumn ?? parentField }),
    columns,
    links,
  };
}

/** What a name the layout gives a table or a column may be: `identifier`'s output. */
const LAYOUT_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const LAYOUT_SQL_TYPES = new Set(Object.values(SQL_TYPES));

/**
 * What in a layout read back from `sync_family_layout` could not have been planned here: every
 * name written into SQL, every type, every field and model name is checked again before a family
 * is built from it (a row edited by hand, or by anything but `migrate`, must not become SQL).
 * @returns the problems, empty when the layout is sound
 */
export function layoutProblems(layout: FamilyLayout): string[] {
  const problems: string[] = [];
  const check = (what: string, value: unknown, valid: (text: string) => boolean) => {
    if (typeof value !== 'string' || !valid(value))
      problems.push(`${what} ${JSON.stringify(value)?.slice(0, 80)} is not one migrate makes`);
  };
  const name = (text: string) => LAYOUT_IDENTIFIER.test(text);
  for (const model of layout.models) {
    check('model', model.model, (text) => MODEL_NAME.test(text));
    check('table', model.table, name);
    if (model.parentColumn !== undefined) check('column', model.parentColumn, name);
    for (const column of model.columns) {
      check('field', column.field, (text) => FIELD_NAME.test(text));
      check('column', column.column, name);
      if (column.nameColumn !== undefined) check('column', column.nameColumn, name);
      check(
        'type',
        column.sqlType,
        (text) => LAYOUT_SQL_TYPES.has(text) || ROUNDED_NUMERIC.test(text),
      );
      check('kind', column.kind, (text) => Object.hasOwn(SQL_TYPES, text));
    }
    for (const link of model.links) {
      check('field', link.field, (text) => FIELD_NAME.test(text));
      check('table', link.table, name);
      check('model', link.relation, (text) => MODEL_NAME.test(text));
      if (link.inverse !== undefined) check('field', link.inverse, (text) => FIELD_NAME.test(text));
      if (link.domain !== undefined && !Array.isArray(link.domain))
        problems.push(`the domain of ${link.field} is not a list`);
    }
  }
  return problems;
}
