/**
 * `fields_get`: each field described with the attributes Odoo's `Field.get_description` gives,
 * filtered by `attributes` exactly (None values dropped, as Odoo does).
 */
import type { PyValue } from './python-values.js';
import type { FieldSpec } from './models/field-spec.js';
import type { SandboxTable, SandboxTables } from './sandbox-tables.js';

/** `fields_get(allfields, attributes)` of a table. */
export function describeFields(
  _tables: SandboxTables,
  table: SandboxTable,
  allfields: unknown,
  attributes: unknown,
): Record<string, Record<string, PyValue>> {
  const only =
    Array.isArray(allfields) && allfields.length > 0 ? new Set(allfields as unknown[]) : undefined;
  const keep = Array.isArray(attributes) ? new Set(attributes as unknown[]) : undefined;
  const result: Record<string, Record<string, PyValue>> = {};
  for (const spec of table.spec.fields) {
    if (only !== undefined && !only.has(spec.name)) continue;
    const description = describeField(spec);
    if (keep !== undefined) {
      for (const key of Object.keys(description)) if (!keep.has(key)) delete description[key];
    }
    result[spec.name] = description;
  }
  return result;
}

/** The attributes `fields_get` describes a field with (None values dropped, as Odoo does). */
function describeField(spec: FieldSpec): Record<string, PyValue> {
  const relational =
    spec.type === 'many2one' || spec.type === 'one2many' || spec.type === 'many2many';
  const numeric = spec.type === 'integer' || spec.type === 'float' || spec.type === 'monetary';
  const description: Record<string, PyValue> = {
    change_default: false,
    company_dependent: false,
    depends: [...(spec.depends ?? [])],
    exportable: true,
    groupable:
      spec.store && !['text', 'html', 'binary', 'one2many', 'many2many'].includes(spec.type),
    manual: false,
    name: spec.name,
    readonly: spec.readonly === true || (spec.computed === true && !spec.store),
    required: spec.required === true,
    searchable: spec.store || spec.type === 'one2many',
    sortable: spec.store && spec.type !== 'one2many' && spec.type !== 'many2many',
    store: spec.store,
    string: spec.string,
    type: spec.type,
  };
  if (numeric && spec.name !== 'id' && spec.name !== 'sequence') description.aggregator = 'sum';
  if (spec.help !== undefined) description.help = spec.help;
  if (relational) {
    description.relation = spec.relation;
    description.context = {};
    description.domain = [];
  }
  if (spec.relationField !== undefined) description.relation_field = spec.relationField;
  if (spec.selection !== undefined)
    description.selection = spec.selection.map(([key, label]) => [key, label]);
  if (spec.currencyField !== undefined) description.currency_field = spec.currencyField;
  if (spec.digits !== undefined) description.digits = [...spec.digits];
  if (spec.type === 'char' || spec.type === 'text' || spec.type === 'html')
    description.translate = spec.translate === true;
  return description;
}
