/**
 * `fields_get`: each field described with the attributes Odoo's `Field.get_description` gives
 * (odoo/orm/fields*.py: one `_description_<attribute>` per attribute, `None` values dropped),
 * filtered by `attributes` exactly. Every field has the base attributes (type, string, store,
 * readonly, required, searchable, sortable, groupable, manual, company_dependent, depends…);
 * each type adds its own: `size` (when set), `translate` and `trim` for char, `sanitize*` for
 * html, `selection`, `digits` for a float that sets them, `currency_field` for monetary,
 * `attachment` for binary, `relation`/`domain`/`context` for relational fields and
 * `relation_field` for one2many; from 19.0, `allow_hierachy_operators` (sic) on relational
 * fields: whether the comodel has a parent field (`_parent_name`, `parent_id`), so that
 * `child_of` and `parent_of` make sense on it. A field loaded from a real Odoo's dump answers what
 * that Odoo answered, filtered the same way.
 */
import type { PyValue } from './python-values.js';
import type { FieldSpec } from './models/field-spec.js';
import type { SandboxTable } from './sandbox-tables.js';

/**
 * Whether a model has a parent field, as 19.0's `allow_hierachy_operators` asks of a relational
 * field's comodel; undefined for a series that does not describe it.
 */
export type HierarchyOf = ((model: string) => boolean) | undefined;

/** `fields_get(allfields, attributes)` of a table. */
export function describeFields(
  table: SandboxTable,
  allfields: unknown,
  attributes: unknown,
  hierarchyOf?: HierarchyOf,
): Record<string, Record<string, PyValue>> {
  const only =
    Array.isArray(allfields) && allfields.length > 0 ? new Set(allfields as unknown[]) : undefined;
  const keep = Array.isArray(attributes) ? new Set(attributes as unknown[]) : undefined;
  const result: Record<string, Record<string, PyValue>> = {};
  for (const spec of table.spec.fields) {
    if (only !== undefined && !only.has(spec.name)) continue;
    const description =
      spec.description === undefined
        ? describeField(table, spec, hierarchyOf)
        : (structuredClone(spec.description) as Record<string, PyValue>);
    if (keep !== undefined && spec.unfiltered !== true) {
      for (const key of Object.keys(description)) if (!keep.has(key)) delete description[key];
    }
    result[spec.name] = description;
  }
  return result;
}

const RELATIONAL = new Set(['many2one', 'one2many', 'many2many']);

/** Types without a column of their own: Odoo cannot sort by them (and not group by a one2many). */
const NO_COLUMN = new Set(['one2many', 'many2many']);

function describeField(
  table: SandboxTable,
  spec: FieldSpec,
  hierarchyOf: HierarchyOf,
): Record<string, PyValue> {
  // Odoo's shortcut: a stored field with a column sorts and groups; others are tried in SQL.
  const column = spec.store && !NO_COLUMN.has(spec.type) && spec.type !== 'binary';
  const description: Record<string, PyValue> = {
    change_default: spec.changeDefault === true,
    company_dependent: spec.companyDependent === true,
    default_export_compatible: false,
    depends: [...(spec.depends ?? [])],
    exportable: true,
    groupable: column || (spec.store && spec.type === 'many2many'),
    manual: spec.manual === true,
    name: spec.name,
    readonly: spec.readonly === true || (spec.computed === true && !spec.store),
    required: spec.required === true,
    // display_name has a search method (`_search_display_name`); other non-stored fields do not.
    searchable: spec.store || spec.name === 'display_name',
    sortable: column,
    store: spec.store,
    string: spec.string,
    type: spec.type,
  };
  const aggregator = aggregatorOf(spec);
  if (aggregator !== undefined) description.aggregator = aggregator;
  if (spec.help !== undefined) description.help = spec.help;
  if (spec.groups !== undefined) description.groups = spec.groups;
  if (spec.related !== undefined) description.related = spec.related;
  Object.assign(description, typeAttributes(table, spec));
  if (hierarchyOf !== undefined && RELATIONAL.has(spec.type))
    description.allow_hierachy_operators = hierarchyOf(spec.relation as string);
  return description;
}

/** Integers, floats and monetaries sum (except `id` and a field named `sequence`). */
function aggregatorOf(spec: FieldSpec): string | undefined {
  if (!spec.store) return undefined;
  if (spec.type === 'integer')
    return spec.name === 'id' || spec.name === 'sequence' ? undefined : 'sum';
  return spec.type === 'float' || spec.type === 'monetary' ? 'sum' : undefined;
}

function typeAttributes(table: SandboxTable, spec: FieldSpec): Record<string, PyValue> {
  switch (spec.type) {
    case 'char':
      return {
        ...(spec.size === undefined ? {} : { size: spec.size }),
        translate: spec.translate === true,
        trim: true,
      };
    case 'text':
      return { translate: spec.translate === true };
    case 'html':
      return {
        sanitize: true,
        sanitize_attributes: true,
        sanitize_style: false,
        sanitize_tags: true,
        strip_classes: false,
        strip_style: false,
        translate: spec.translate === true,
      };
    case 'selection':
      return { selection: (spec.selection ?? []).map(([key, label]) => [key, label]) };
    case 'float':
      return spec.digits === undefined ? {} : { digits: [...spec.digits] };
    case 'monetary': {
      // Monetary.get_currency_field: the declared one, else currency_id, else x_currency_id.
      const currency =
        spec.currencyField ??
        (table.fields.has('currency_id')
          ? 'currency_id'
          : table.fields.has('x_currency_id')
            ? 'x_currency_id'
            : undefined);
      return currency === undefined ? {} : { currency_field: currency };
    }
    case 'binary':
      return { attachment: true };
    case 'many2one':
    case 'many2many':
      return relational(spec);
    case 'one2many':
      return { ...relational(spec), relation_field: spec.relationField };
    default:
      return {};
  }
}

function relational(spec: FieldSpec): Record<string, PyValue> {
  return {
    context: {},
    domain: JSON.parse(JSON.stringify(spec.domain ?? [])) as PyValue,
    relation: spec.relation,
  };
}
