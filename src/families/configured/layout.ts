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
import type { OdooFieldDescription } from '../../clients/odoo/odoo-types.js';
import type { ColumnKind } from '../columns.js';
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
  'digits',
  'string',
];

export type DescribedFields = Readonly<
  Record<string, Readonly<Record<string, OdooFieldDescription>>>
>;

/** Each table's columns and their types, as the catalog has them now. */
export type Catalog = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** Columns of every root table and every child table, whatever the model. */
export const ROOT_BOOKKEEPING = [
  'id',
  'odoo_id',
  'odoo_write_date',
  'data',
  'active',
  'archived_at',
  'archive_reason',
  'first_synced_at',
  'synced_at',
  'layout_version',
];
export const CHILD_BOOKKEEPING = [
  'id',
  'odoo_id',
  'odoo_write_date',
  'data',
  'synced_at',
  'layout_version',
];

/** PostgreSQL cuts identifiers at 63 bytes; longer names are cut and told apart by a hash. */
export const MAX_IDENTIFIER = 63;

export function identifier(name: string): string {
  if (Buffer.byteLength(name) <= MAX_IDENTIFIER) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_IDENTIFIER - 9)}_${hash}`;
}

/** The hash of what a layout depends on in the declaration. */
export function specHash(spec: ConfiguredFamilySpec): string {
  const { schedule: _schedule, ...planned } = spec;
  return createHash('sha256').update(JSON.stringify(planned)).digest('hex').slice(0, 16);
}

const KINDS: Readonly<Record<string, ColumnKind>> = {
  integer: 'integer',
  many2one_reference: 'integer',
  float: 'decimal',
  monetary: 'decimal',
  boolean: 'boolean',
  char: 'text',
  text: 'text',
  html: 'text',
  selection: 'text',
  reference: 'text',
  // Listed binaries only: Odoo sends them base64-encoded.
  binary: 'text',
  date: 'date',
  datetime: 'datetime',
  many2one: 'many2one',
  json: 'json',
  properties: 'json',
  properties_definition: 'json',
};

const SQL_TYPES: Readonly<Record<ColumnKind, string>> = {
  integer: 'integer',
  decimal: 'numeric',
  boolean: 'boolean',
  text: 'text',
  date: 'date',
  datetime: 'timestamp with time zone',
  json: 'jsonb',
  many2one: 'integer',
};

/** numeric with the field's digits when Odoo gives them: `numeric(16,2)`. */
function sqlTypeOf(kind: ColumnKind, description: OdooFieldDescription): string {
  const digits = description.digits;
  if (
    kind === 'decimal' &&
    Array.isArray(digits) &&
    digits.length === 2 &&
    digits.every((n) => Number.isInteger(n)) &&
    (digits[0] as number) >= 1 &&
    (digits[0] as number) <= 1000 &&
    (digits[1] as number) >= 0 &&
    (digits[1] as number) <= (digits[0] as number)
  )
    return `numeric(${String(digits[0])},${String(digits[1])})`;
  return SQL_TYPES[kind];
}

export interface PlannedLayout {
  readonly layout: FamilyLayout;
  /** What the family's declaration asks that Odoo or the tables refuse; nothing is created then. */
  readonly problems: string[];
}

/**
 * Plans a family's layout from Odoo's fields and the layout kept so far.
 * @param described `fields_get` of every model of the family, by model
 * @param catalog the family's tables as they are (to refuse a type change)
 */
export function planLayout(
  spec: ConfiguredFamilySpec,
  described: DescribedFields,
  previous: FamilyLayout | undefined,
  catalog: Catalog,
): PlannedLayout {
  const problems: string[] = [];
  const childModels = new Map(spec.children.map((child) => [child.model, child]));
  const models = [spec.root, ...spec.children].map((model, index): ModelLayout => {
    const fields = described[model.model] ?? {};
    const where = `${spec.name}: ${model.model}`;
    const before = previous?.models.find((known) => known.model === model.model);
    const modelProblems: string[] = [];
    const planned = planModel(model, fields, before, {
      where,
      problems: modelProblems,
      catalog,
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
    // A model Odoo does not have is the one problem to name, not each field it lacks.
    problems.push(
      ...(Object.keys(fields).length === 0
        ? [`${where}: Odoo has no such model, or the sync user cannot read it`]
        : modelProblems),
    );
    return planned;
  });
  // Compared by content: jsonb keeps keys in an order of its own.
  const sameModels = previous !== undefined && canonical(previous.models) === canonical(models);
  const hash = specHash(spec);
  const version =
    previous === undefined
      ? 1
      : sameModels && previous.specHash === hash
        ? previous.version
        : previous.version + 1;
  return { layout: { family: spec.name, specHash: hash, version, models }, problems };
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
  readonly catalog: Catalog;
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

  for (const name of spec.fields ?? [])
    if (!stored(name))
      problems.push(`${where}: fields: ${name} is not a stored field of the model`);
  for (const name of spec.binary)
    if (typeOf(name) !== 'binary')
      problems.push(`${where}: binary: ${name} is not a binary field of the model`);

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

  const selected = (name: string) =>
    name === parentField ||
    spec.fields === undefined ||
    spec.fields.includes(name) ||
    spec.binary.includes(name);
  const wanted = Object.entries(fields)
    .filter(([name, description]) => {
      if (!description.store || !selected(name)) return false;
      if (name === 'id' || name === 'write_date' || name === activeField) return false;
      if (description.type === 'binary') return spec.binary.includes(name);
      return !context.childOf(description);
    })
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  const reserved = new Set(isRoot ? ROOT_BOOKKEEPING : CHILD_BOOKKEEPING);
  const taken = new Set<string>(reserved);
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
  for (const [name, description] of wanted) {
    seen.add(name);
    const type = description.type ?? 'unknown';
    if (type === 'many2many' || type === 'one2many') {
      const known = before?.links.find((link) => link.field === name);
      const inverse = type === 'one2many' ? description.relation_field : undefined;
      // A one2many is kept current by scanning its targets' inverse: one without is left out.
      if (type === 'one2many' && typeof inverse !== 'string') continue;
      links.push({
        field: name,
        relation: description.relation ?? '',
        ...(typeof inverse === 'string' ? { inverse } : {}),
        table: known?.table ?? identifier(linkTableOf(spec.table, name)),
      });
      continue;
    }
    const kind = KINDS[type] ?? 'json';
    const sqlType = sqlTypeOf(kind, description);
    const known = before?.columns.find((column) => column.field === name);
    const column = known?.column ?? claim(name, `odoo_${name}`);
    const existing = table?.get(column);
    if (existing !== undefined && existing !== sqlType) {
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
      if (!column || column.kind === 'json')
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
