/**
 * Which stored fields of a configured model get a column or a link table, and why each other is
 * left out (docs/models.md, "Fields left out"). The copy keeps only what it can keep exact:
 *
 * - a one2many is a link table only when the copy can see every change of it: its targets carry
 *   a `write_date` and point back through a stored many2one to the owner, so a scan of the
 *   targets' stamps names every owner whose list changed. `mail.thread`'s followers, messages and
 *   activities point back through `res_id`, a bare integer scoped by a model name
 *   (`many2one_reference`), and `mail.followers` has no `write_date` at all: a copy of those
 *   would be stale from the first follower added. A target the sync user may not read is left
 *   out too: its scans would fail. A static domain is kept, and the scans apply it;
 * - binaries and secrets (field-policy.ts) only when the declaration names them;
 * - a name that could not be a column is never one.
 */
import type { OdooDomain, OdooFieldDescription } from '../../clients/odoo/odoo-types.js';
import {
  FIELD_NAME,
  isAdminOnlyField,
  isSecretField,
  MODEL_NAME,
  type LeftOutField,
} from '../field-policy.js';
import type { ConfiguredModelSpec } from './spec.js';

/**
 * A model as `migrate` found it in Odoo: a model of the family or a one2many's target. Absent from
 * the map: Odoo has no such model (or will not describe it to the sync user).
 */
export interface DescribedModel {
  readonly fields: Readonly<Record<string, OdooFieldDescription>>;
  /** `has_access('read')` (`check_access_rights` on Odoo 17) for the sync user. */
  readonly readable: boolean;
}

export type DescribedModels = ReadonlyMap<string, DescribedModel>;

export interface ChosenField {
  readonly name: string;
  readonly description: OdooFieldDescription;
  /** A one2many's static domain, when it has one: what reading the field filters. */
  readonly domain?: OdooDomain;
}

export interface ModelFieldsContext {
  /** `<family>: <model>`, for the problems. */
  readonly where: string;
  readonly model: string;
  readonly parentField: string | undefined;
  readonly activeField: string | null | undefined;
  /** Whether a to-many field of the root is one of the family's children (a table of its own). */
  readonly childOf: (description: OdooFieldDescription) => boolean;
  readonly targets: DescribedModels;
}

export interface ChosenFields {
  /** By name. */
  readonly chosen: ChosenField[];
  readonly leftOut: LeftOutField[];
  /** What the declaration asks that cannot be done. */
  readonly problems: string[];
}

/** Why a one2many cannot be kept exact, or undefined when it can. */
function one2manyRefusal(
  model: string,
  description: OdooFieldDescription,
  targets: DescribedModels,
): string | undefined {
  const relation = description.relation;
  const inverse = description.relation_field;
  if (typeof relation !== 'string' || typeof inverse !== 'string')
    return 'Odoo names no inverse field for it';
  const target = targets.get(relation);
  if (!target) return `Odoo has no model ${relation} the sync user can describe`;
  if (!target.readable) return `the sync user may not read ${relation}`;
  const back = target.fields[inverse];
  if (back?.type !== 'many2one' || back.store !== true || back.relation !== model)
    return `its inverse ${relation}.${inverse} is ${
      back === undefined
        ? 'not a field the sync user sees'
        : `a ${back.store === true ? 'stored' : 'non-stored'} ${String(back.type)}${
            back.relation === undefined ? '' : ` to ${String(back.relation)}`
          }`
    }, not a stored many2one to ${model}: a change to it moves no stamp the copy can see`;
  if (!('write_date' in target.fields))
    return `${relation} has no write_date (Odoo keeps no stamps of it): a change to it cannot be seen`;
  if (description.domain !== undefined && !Array.isArray(description.domain))
    return `its domain depends on the record (${JSON.stringify(description.domain).slice(1, -1).slice(0, 80)})`;
  return undefined;
}

/**
 * The fields of a model that get a column or a link table, sorted by name.
 * @param fields the model's `fields_get`
 */
export function chooseFields(
  spec: ConfiguredModelSpec,
  fields: Readonly<Record<string, OdooFieldDescription>>,
  context: ModelFieldsContext,
): ChosenFields {
  const { where, model, parentField, activeField } = context;
  const chosen: ChosenField[] = [];
  const leftOut: LeftOutField[] = [];
  const problems: string[] = [];
  const named = (name: string) => spec.fields?.includes(name) === true;
  const leave = (field: string, reason: string) => {
    // Asked for by name and impossible: the declaration is wrong. Otherwise Odoo's schema decides.
    if (named(field)) problems.push(`${where}: fields: ${field} cannot be copied: ${reason}`);
    else leftOut.push({ model, field, reason });
  };
  const names = Object.keys(fields).sort();
  for (const name of names) {
    const description = fields[name]!;
    if (description.store !== true) continue;
    if (name === 'id' || name === 'write_date' || name === activeField) continue;
    const selected =
      name === parentField ||
      spec.fields === undefined ||
      named(name) ||
      spec.binary.includes(name);
    if (!selected) continue;
    if (!FIELD_NAME.test(name)) {
      leftOut.push({ model, field: name, reason: 'its name is not a plain identifier' });
      continue;
    }
    const type = description.type;
    if (type === 'binary') {
      if (!spec.binary.includes(name))
        leftOut.push({ model, field: name, reason: 'a binary: list it under binary to copy it' });
      else chosen.push({ name, description });
      continue;
    }
    if (isSecretField(name) && !named(name)) {
      leftOut.push({
        model,
        field: name,
        reason: 'its name says it holds a secret: name it under fields to copy it',
      });
      continue;
    }
    if (isAdminOnlyField(description.groups) && !named(name)) {
      leftOut.push({
        model,
        field: name,
        reason: `only Odoo's administrators may read it (groups ${String(description.groups)}): a setting, not business data; name it under fields to copy it`,
      });
      continue;
    }
    if (
      (type === 'many2one' || type === 'many2many' || type === 'one2many') &&
      !(typeof description.relation === 'string' && MODEL_NAME.test(description.relation))
    ) {
      leave(name, `its relation ${String(description.relation)} is not a model name`);
      continue;
    }
    if (context.childOf(description)) continue;
    if (type === 'one2many') {
      const refusal = one2manyRefusal(model, description, context.targets);
      if (refusal !== undefined) {
        leave(name, refusal);
        continue;
      }
      const domain = description.domain as OdooDomain | undefined;
      chosen.push({ name, description, ...(domain && domain.length > 0 ? { domain } : {}) });
      continue;
    }
    chosen.push({ name, description });
  }
  for (const name of spec.fields ?? [])
    if (fields[name]?.store !== true)
      problems.push(`${where}: fields: ${name} is not a stored field of the model`);
  for (const name of spec.binary)
    if (fields[name]?.type !== 'binary')
      problems.push(`${where}: binary: ${name} is not a binary field of the model`);
  return { chosen, leftOut, problems };
}

/** The one2many targets a model's fields name: `migrate` describes them before planning. */
export function one2manyTargets(fields: Readonly<Record<string, OdooFieldDescription>>): string[] {
  return [
    ...new Set(
      Object.values(fields).flatMap((description) =>
        description.type === 'one2many' &&
        description.store === true &&
        typeof description.relation === 'string' &&
        MODEL_NAME.test(description.relation)
          ? [description.relation]
          : [],
      ),
    ),
  ].sort();
}
