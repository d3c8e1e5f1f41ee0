/**
 * A dump (schema-dump.ts) as the sandbox declares a model: every field the dump lists, with the
 * description Odoo gave kept verbatim for `fields_get`, and what the sandbox's layers need read
 * from it (type, storage, relation, inverse, selection, related path, company dependence,
 * `ondelete`, whether it has a column and can be searched), and the model's `_order`,
 * `_rec_name`, `_log_access`, access rights and mixins.
 */
import type { OdooFieldType } from '../../../src/clients/odoo/odoo-types.js';
import type { FieldSpec, ModelSpec } from '../models/field-spec.js';
import type { PyValue } from '../python-values.js';
import type { OrmFacts, SchemaDump } from './schema-dump.js';

export function dumpedModelSpec(dump: SchemaDump): ModelSpec {
  const unfiltered = new Set(dump.fields_get_unfiltered ?? []);
  return {
    name: dump.model,
    description: dump.description,
    order: dump.order,
    recName: dump.rec_name,
    logAccess: dump.log_access,
    release: '17.0',
    access: dump.access,
    mixins: dump.mixins,
    fields: Object.entries(dump.fields).map(([name, description]) =>
      dumpedField(name, description, dump.orm[name], unfiltered.has(name)),
    ),
  };
}

function dumpedField(
  name: string,
  description: Readonly<Record<string, PyValue>>,
  orm: OrmFacts | undefined,
  unfiltered: boolean,
): FieldSpec {
  const type = description.type as OdooFieldType;
  const store = description.store === true;
  const related = (description.related as string | undefined) ?? orm?.related;
  const spec: FieldSpec = {
    name,
    type,
    string: description.string as string,
    store,
    required: description.required === true,
    readonly: description.readonly === true,
    column: orm?.column ?? false,
    searchable: description.searchable !== false,
    description,
    computed: orm?.compute === true || (related !== undefined && !store),
  };
  if (unfiltered) spec.unfiltered = true;
  if (typeof description.relation === 'string') spec.relation = description.relation;
  const inverse = (description.relation_field as string | undefined) ?? orm?.inverse_name;
  if (type === 'one2many' && inverse !== undefined) spec.relationField = inverse;
  if (Array.isArray(description.selection))
    spec.selection = (description.selection as Array<[string, string]>).map(
      ([key, label]) => [key, label] as const,
    );
  if (typeof description.help === 'string') spec.help = description.help;
  if (typeof description.currency_field === 'string')
    spec.currencyField = description.currency_field;
  if (typeof description.size === 'number') spec.size = description.size;
  if (Array.isArray(description.digits)) spec.digits = description.digits as [number, number];
  if (description.translate === true) spec.translate = true;
  if (related !== undefined) spec.related = related;
  if (Array.isArray(description.depends)) spec.depends = description.depends as string[];
  if (description.company_dependent === true || orm?.company_dependent === true)
    spec.companyDependent = true;
  // A string domain depends on the record being edited: only a list filters what a field reads.
  if (Array.isArray(description.domain) && description.domain.length > 0)
    spec.domain = description.domain as unknown[];
  if (orm?.ondelete !== undefined) spec.ondelete = orm.ondelete;
  if (orm?.model_field !== undefined) spec.modelField = orm.model_field;
  // Odoo's indexed references; the catalogue indexes the inverses of one2many fields too.
  if (store && (type === 'many2one' || type === 'many2one_reference') && orm?.index !== undefined)
    spec.indexed = true;
  if (description.change_default === true) spec.changeDefault = true;
  return spec;
}
