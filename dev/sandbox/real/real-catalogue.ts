/**
 * A sandbox catalogue where the models a test names are served from a real Odoo 17.0's dumps
 * (schemas/odoo-17.0/) instead of the sandbox's own declarations, with what they need around
 * them:
 *
 * - the dumped models they point at that the sandbox does not declare (`mail.followers`,
 *   `mail.message`, `mail.activity` for every model with `mail.thread`), loaded too;
 * - the sandbox's own declarations for targets it has (`res.currency`, `res.users`…), given the
 *   inverse of a loaded one2many they lack (`res.users.partner_id` for `res.partner.user_ids`),
 *   as the module that adds the one2many adds it;
 * - a stub for every other target (`account.journal`, `rating.rating`…): a model the sandbox
 *   knows only by name, with the fields the loaded models reach through it (a one2many's inverse,
 *   a related field's next hop). Stubs have no records but those a required many2one needs;
 * - two many2many fields on one relation table (`res.partner.category_id` and
 *   `res.partner.category.partner_ids`) hold their links once: the second reads the first's.
 */
import { magicFields, type FieldSpec, type ModelSpec } from '../models/field-spec.js';
import { rulesFor } from '../rules/rules-by-model.js';
import { SANDBOX_MODELS, type SandboxCatalogue } from '../sandbox-models.js';
import { computeValue } from './computed-values.js';
import { dumpedModelSpec } from './dumped-model-spec.js';
import { realRules } from './real-rules.js';
import { DUMPED_MODELS, isDumpedModel, schemaDump, type DumpedModel } from './schema-dump.js';

/** The catalogue serving `named` (and the dumped models they bring) from their dumps. */
export function realCatalogue(named: readonly string[]): SandboxCatalogue {
  for (const model of named)
    if (!isDumpedModel(model))
      throw new Error(`no dump of ${model}: the sandbox has ${DUMPED_MODELS.join(', ')}`);
  const loaded: ReadonlySet<string> = withDumpedTargets(named as DumpedModel[]);
  const specs = new Map<string, ModelSpec>();
  for (const spec of SANDBOX_MODELS) if (!loaded.has(spec.name)) specs.set(spec.name, spec);
  for (const model of loaded) specs.set(model, dumpedModelSpec(schemaDump(model as DumpedModel)));
  completeRelations(specs);
  pairRelationTables(specs, loaded);
  return {
    models: [...specs.values()],
    rules: (spec) => (spec.release === '17.0' ? realRules(spec) : rulesFor(spec.name)),
    computeValue,
  };
}

/** `named`, and the dumped models they point at that the sandbox does not declare, transitively. */
function withDumpedTargets(named: readonly DumpedModel[]): Set<DumpedModel> {
  const declared = new Set(SANDBOX_MODELS.map((spec) => spec.name));
  const loaded = new Set(named);
  const queue = [...named];
  for (let model = queue.shift(); model !== undefined; model = queue.shift()) {
    for (const description of Object.values(schemaDump(model).fields)) {
      const relation = description.relation;
      if (typeof relation !== 'string' || !isDumpedModel(relation)) continue;
      if (declared.has(relation) || loaded.has(relation)) continue;
      loaded.add(relation);
      queue.push(relation);
    }
  }
  return loaded;
}

/** Stubs for missing targets, inverses and next hops for the loaded models' fields. */
function completeRelations(specs: Map<string, ModelSpec>): void {
  const stubs = new Set<string>();
  const ensureModel = (name: string): void => {
    if (specs.has(name)) return;
    specs.set(name, stubModel(name));
    stubs.add(name);
  };
  for (const spec of [...specs.values()]) {
    if (spec.release !== '17.0') continue;
    for (const field of spec.fields) {
      if (field.relation === undefined) continue;
      ensureModel(field.relation);
      if (field.type === 'one2many' && field.relationField !== undefined)
        ensureInverse(specs, field.relation, field.relationField, spec.name);
      // A one2many's domain filters what it reads: a model the dumps lack gets what it names.
      if (field.type === 'one2many' && !isDumpedModel(field.relation))
        for (const name of domainFields(field.domain))
          ensureField(specs, field.relation, charField(name));
    }
    // A related field whose first hop lands on a stub reads the stub's next field.
    for (const field of spec.fields) {
      const [hop, next] = (field.related ?? '').split('.');
      const through = spec.fields.find((candidate) => candidate.name === hop);
      if (next === undefined || through?.relation === undefined || !stubs.has(through.relation))
        continue;
      if (field.relation !== undefined) ensureModel(field.relation);
      ensureField(specs, through.relation, nextHop(next, field));
    }
  }
}

/** The second many2many on a relation table reads and writes the first's links. */
function pairRelationTables(specs: Map<string, ModelSpec>, loaded: ReadonlySet<string>): void {
  const owners = new Map<string, { model: string; field: FieldSpec }>();
  for (const model of DUMPED_MODELS) {
    if (!loaded.has(model)) continue;
    const orm = schemaDump(model).orm;
    const spec = specs.get(model) as ModelSpec;
    const fields = spec.fields.map((field) => {
      const table = orm[field.name]?.relation_table;
      if (field.type !== 'many2many' || !field.store || table === undefined) return field;
      const owner = owners.get(table);
      if (owner === undefined) {
        owners.set(table, { model, field });
        return field;
      }
      if (owner.field.relation !== model || field.relation !== owner.model) return field;
      return { ...field, mirrorOf: { model: owner.model, field: owner.field.name } };
    });
    specs.set(model, { ...spec, fields });
  }
}

/** A model the sandbox knows only by name (Odoo has it; its schema was not dumped). */
function stubModel(name: string): ModelSpec {
  return {
    name,
    description: name,
    order: 'id',
    release: '17.0',
    fields: [{ name: 'name', type: 'char', string: 'Name', store: true }, ...magicFields()],
  };
}

/**
 * The field a one2many reads through: a `res_id` is Odoo's many2one_reference with its
 * `res_model` (attachments, ratings), any other a many2one to the one2many's model.
 */
function ensureInverse(
  specs: Map<string, ModelSpec>,
  target: string,
  name: string,
  owner: string,
): void {
  const spec = specs.get(target) as ModelSpec;
  const existing = spec.fields.find((field) => field.name === name);
  if (existing !== undefined) {
    // The one2many reads through it: the inverse is indexed.
    if (existing.indexed !== true)
      specs.set(target, {
        ...spec,
        fields: spec.fields.map((field) =>
          field === existing ? { ...field, indexed: true } : field,
        ),
      });
    return;
  }
  if (name === 'res_id') {
    ensureField(specs, target, charField('res_model'));
    ensureField(specs, target, {
      name,
      type: 'many2one_reference',
      string: 'Resource ID',
      store: true,
      indexed: true,
      modelField: 'res_model',
    });
    return;
  }
  ensureField(specs, target, {
    name,
    type: 'many2one',
    string: owner,
    store: true,
    relation: owner,
    indexed: true,
  });
}

/** Adds `field` to the model `target` unless it has one of that name. */
function ensureField(specs: Map<string, ModelSpec>, target: string, field: FieldSpec): void {
  const spec = specs.get(target) as ModelSpec;
  if (spec.fields.some((candidate) => candidate.name === field.name)) return;
  specs.set(target, { ...spec, fields: [...spec.fields, field] });
}

function charField(name: string): FieldSpec {
  return { name, type: 'char', string: name, store: true };
}

/** The stub's field a related field reads next, typed as the related field is. */
function nextHop(name: string, related: FieldSpec): FieldSpec {
  const field: FieldSpec = {
    name,
    type: related.type,
    string: related.string,
    store: true,
  };
  if (related.relation !== undefined) field.relation = related.relation;
  if (related.selection !== undefined) field.selection = related.selection;
  if (related.type === 'one2many') field.type = 'many2many';
  return field;
}

/** The field names a list domain's leaves name. */
function domainFields(domain: readonly unknown[] | undefined): string[] {
  const names: string[] = [];
  for (const term of domain ?? [])
    if (Array.isArray(term) && typeof term[0] === 'string') names.push(term[0]);
  return names;
}
