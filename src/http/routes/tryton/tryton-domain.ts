/**
 * Reads a Tryton search domain the way trytond 6.0 reads it (docs/tryton.md §3, "Domains"), so
 * that the gateway checks every clause trytond will evaluate, at every nesting level.
 *
 * trytond takes a list for a clause when it has more than two elements and its second one is
 * one of its operators; every other list is a group. A group's first element, when it is text,
 * is the group's operator, and trytond takes *any* text there: `AND`, `OR`, but also `""`, which
 * it evaluates as an AND. Other elements that are neither a clause nor a group (null, false, 0,
 * `{}`) it evaluates as true. So `["", [clause]]` looks like a clause with an empty field name
 * to a reader that goes by shape, while trytond evaluates the clause inside.
 *
 * This reader accepts only what trytond reads one way: a domain is a group; a group is a list of
 * clauses and groups, optionally headed by `AND` or `OR`; a clause is
 * `[field, operator, value]` or `[field, operator, value, target]` with a field name that is text
 * and one of trytond's operators. Anything else is a problem for the caller to fix (a 400).
 *
 * Not here: which fields and operators a caller may use (gateway-policy), and clause values,
 * which are never read as domains (a `where` clause's value is one, but the policy refuses those).
 */

/** trytond's operators (`trytond/const.py`), compared as trytond does: exactly. */
const OPERATORS: ReadonlySet<string> = new Set([
  'where',
  'not where',
  'child_of',
  'not child_of',
  'parent_of',
  'not parent_of',
  '=',
  '!=',
  'like',
  'not like',
  'ilike',
  'not ilike',
  'in',
  'not in',
  '<=',
  '>=',
  '<',
  '>',
]);

/** Nesting levels read before a domain is refused: deeper ones serve no search. */
export const MAX_DOMAIN_DEPTH = 32;

export interface DomainClause {
  readonly field: string;
  readonly operator: string;
  readonly value: unknown;
  /**
   * Whether the clause has a fourth element: the model a reference field points to, or the
   * field of the related model `child_of` and `parent_of` follow. Either reaches another model.
   */
  readonly hasTarget: boolean;
}

export type DomainReading =
  | { readonly ok: true; readonly clauses: readonly DomainClause[] }
  | { readonly ok: false; readonly problem: string };

/** A caller's value in a message: its type, and short text as it is. */
function describe(value: unknown): string {
  if (typeof value === 'string')
    return value.length <= 20 ? JSON.stringify(value) : `${JSON.stringify(value.slice(0, 20))}…`;
  if (value === null || typeof value !== 'object') return String(value);
  return 'an object';
}

/** Whether trytond reads this value as a clause (`is_leaf` in `trytond/model/modelstorage.py`). */
function looksLikeClause(value: readonly unknown[]): boolean {
  return value.length > 2 && typeof value[1] === 'string' && OPERATORS.has(value[1]);
}

function readClause(value: readonly unknown[]): DomainClause | string {
  const [field, operator, clauseValue] = value;
  if (value.length > 4)
    return `a clause is [field, operator, value] with at most a fourth element, not ${value.length} elements`;
  if (typeof field !== 'string') return 'a clause names its field as text';
  return {
    field,
    operator: operator as string,
    value: clauseValue,
    hasTarget: value.length === 4,
  };
}

/**
 * Every clause of a domain (null or undefined: none), or the first problem met. Iterative, so a
 * deeply nested domain costs no stack; refused past {@link MAX_DOMAIN_DEPTH} levels.
 */
export function readDomain(domain: unknown): DomainReading {
  if (domain === null || domain === undefined) return { ok: true, clauses: [] };
  if (!Array.isArray(domain)) return { ok: false, problem: 'a domain is a list' };
  if (looksLikeClause(domain))
    return { ok: false, problem: 'a domain is a list of clauses: put the clause in a list' };
  const clauses: DomainClause[] = [];
  const groups: { group: readonly unknown[]; depth: number }[] = [{ group: domain, depth: 1 }];
  for (let next = groups.pop(); next !== undefined; next = groups.pop()) {
    const { group, depth } = next;
    if (depth > MAX_DOMAIN_DEPTH)
      return { ok: false, problem: `a domain nests at most ${MAX_DOMAIN_DEPTH} groups` };
    const [head] = group;
    const start = typeof head === 'string' ? 1 : 0;
    if (start === 1 && head !== 'AND' && head !== 'OR')
      return {
        ok: false,
        problem: `a group starts with "AND", "OR" or a clause, not ${describe(head)}`,
      };
    for (let index = start; index < group.length; index += 1) {
      const element = group[index];
      if (!Array.isArray(element))
        return {
          ok: false,
          problem: `a group holds clauses and groups only, not ${describe(element)}`,
        };
      if (looksLikeClause(element)) {
        const clause = readClause(element);
        if (typeof clause === 'string') return { ok: false, problem: clause };
        clauses.push(clause);
      } else {
        groups.push({ group: element, depth: depth + 1 });
      }
    }
  }
  return { ok: true, clauses };
}
