/**
 * Which fields of a Tryton model are relations, and to which model: what the gateway policy needs
 * to tell a text comparison trytond turns into a name search of another model from one on a
 * plain field (docs/tryton.md, "Domains"). Read from the model's `fields_get` through the shared
 * client and kept per process: a model's fields change only when trytond's modules are updated,
 * which restarts it.
 *
 * Not here: what the policy decides with them (gateway-policy).
 */
import type { TrytonClient } from '../../../clients/tryton/tryton-client.js';
import type { RelationFields } from './gateway-policy.js';

/** Field types whose text comparisons trytond runs as the related model's `rec_name` search. */
const RELATION_TYPES: ReadonlySet<string> = new Set([
  'many2one',
  'one2many',
  'many2many',
  'one2one',
]);

/**
 * How long a model's relations are reused. Long enough that checking a domain costs no call to
 * Tryton; short enough that a module update shows without restarting the API.
 */
const RELATIONS_TTL_MS = 600_000;

interface Description {
  readonly type?: unknown;
  readonly relation?: unknown;
}

function relationsOf(fields: unknown): ReadonlyMap<string, string> {
  const relations = new Map<string, string>();
  if (typeof fields !== 'object' || fields === null) return relations;
  for (const [name, description] of Object.entries(fields as Record<string, Description>)) {
    const { type, relation } = description;
    if (typeof type === 'string' && RELATION_TYPES.has(type) && typeof relation === 'string')
      relations.set(name, relation);
  }
  return relations;
}

/**
 * A lookup that asks Tryton once per model (concurrent checks share the call) and keeps the
 * answer for {@link RELATIONS_TTL_MS}; a failed call is not kept, so only models Tryton has stay.
 */
export function createRelationFields(
  client: TrytonClient,
  now: () => number = () => performance.now(),
): RelationFields {
  const known = new Map<
    string,
    { atMs: number; relations: Promise<ReadonlyMap<string, string>> }
  >();
  return (model) => {
    const entry = known.get(model);
    if (entry && now() - entry.atMs < RELATIONS_TTL_MS) return entry.relations;
    // No caller's signal: the answer is shared, and one caller leaving must not fail the others.
    const relations = client
      .call(`model.${model}.fields_get`, [null, {}])
      .then(relationsOf)
      .catch((error: unknown) => {
        if (known.get(model)?.relations === relations) known.delete(model);
        throw error;
      });
    known.set(model, { atMs: now(), relations });
    return relations;
  };
}
