/**
 * Where Odoo 17's domains differ from later releases', for the models that follow it
 * (`ModelSpec.release`): `distribute_not` pushes a `!` into its leaf by taking the opposite
 * operator (so `!(f > 5)` is `f <= 5`, which an empty `f` does not match), and a leaf on a
 * non-stored field that cannot be searched is dropped (Odoo logs "cannot be searched") — true
 * whatever negates it.
 */
import type { DomainModel } from './sandbox-domain.js';

/** Odoo 17's `TERM_OPERATORS_NEGATION`. */
const OPPOSITES: Readonly<Record<string, string>> = {
  '<': '>=',
  '>': '<=',
  '<=': '>',
  '>=': '<',
  '=': '!=',
  '!=': '=',
  in: 'not in',
  'not in': 'in',
  like: 'not like',
  'not like': 'like',
  ilike: 'not ilike',
  'not ilike': 'ilike',
};

/** A leaf Odoo 17 drops: on a non-stored field that cannot be searched. */
export function ignoredLeaf(model: DomainModel, field: string): boolean {
  const spec = model.field(field);
  return model.release === '17.0' && spec !== undefined && !spec.store && spec.searchable === false;
}

/** The operator a negated leaf takes on an Odoo 17 model; undefined when `!` stays a NOT. */
export function oppositeOperator(model: DomainModel, operator: string): string | undefined {
  return model.release === '17.0' ? OPPOSITES[operator] : undefined;
}
