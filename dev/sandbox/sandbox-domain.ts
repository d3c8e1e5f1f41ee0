/**
 * Odoo domains for the sandbox: prefix notation (`&`, `|`, `!`, implicit AND between top-level
 * terms), the operators `= != > >= < <= in not in like ilike not like not ilike =like =ilike =?`,
 * and SQL's NULL rules the way Odoo's ORM writes them (`!=`, `not in` and negative `like`s also
 * match empty values; a comparison with NULL is false).
 *
 * Compiling yields a predicate over stored rows plus the hints the store uses to avoid a full
 * scan in the shapes a sync uses: `id > n` (start of a keyset page), `id in [...]`, and
 * `bc_id in [...]` (an indexed many2one).
 */
import type { FieldSpec } from './models/field-spec.js';
import { pythonError } from './sandbox-exceptions.js';
import { compileLeaf } from './sandbox-domain-leaf.js';
import { ignoredLeaf, oppositeOperator } from './domain-odoo17.js';
import { SOURCE_LANG, translatedText } from './sandbox-translations.js';
import { pyRepr, repr } from './python-repr.js';

/** A stored record: field name → internal value (datetime as microseconds, many2one as id). */
export type Row = Record<string, unknown> & { id: number };

/** What compiling a domain needs to know about the model. */
export interface DomainModel {
  name: string;
  field(name: string): FieldSpec | undefined;
  /** The archive field (`active`, or `x_active` on custom models), if the model has one. */
  activeField(): string | undefined;
  /** The ids of a one2many (the comodel records pointing back). */
  one2manyIds(field: FieldSpec, id: number): number[];
  /** The ids of a stored many2many (its links, or its other side's). */
  many2manyIds(field: FieldSpec, row: Row): number[];
  /** A record's display name, for `many2one ilike 'text'`. */
  displayName(model: string, id: number): string | false;
  /** '17.0': Odoo 17's domain semantics (see `ModelSpec.release`). */
  readonly release?: '17.0';
  /**
   * Odoo 19 compares a datetime to the whole second (`_optimize_type_datetime`): `f > v` is
   * `f >= v + 1 s`, `f <= v` is `f < v + 1 s`, `f = v` and `f in [v]` are `v <= f < v + 1 s`,
   * the value's microseconds dropped; Odoo 17 compares the stored microseconds.
   */
  readonly wholeSecondDatetimes?: boolean;
  /** A non-stored field's value on a row (internal form), to search computed fields by. */
  computedValue?(field: FieldSpec, row: Row): unknown;
}

export interface CompiledDomain {
  predicate: (row: Row) => boolean;
  /** Rows must have id > this (top-level `id >`/`id >=` leaves). */
  idAbove: number;
  /** Rows must have one of these ids (top-level `id =`/`id in`). */
  idSet?: Set<number>;
  /** Rows must point at one of these ids through this indexed many2one. */
  indexed?: { field: string; targets: Set<number> };
  /** The domain names the archive field somewhere (which disables the implicit filter). */
  mentionsActive: boolean;
  /** The domain can match nothing (a top-level `id in []`). */
  empty: boolean;
}

type Node =
  | { kind: 'and' | 'or'; children: Node[] }
  | { kind: 'not'; child: Node }
  | { kind: 'leaf'; field: string; operator: string; value: unknown }
  | { kind: 'constant'; value: boolean };

const OPERATORS = new Set([
  '=',
  '!=',
  '<>',
  '>',
  '>=',
  '<',
  '<=',
  'in',
  'not in',
  'like',
  'ilike',
  'not like',
  'not ilike',
  '=like',
  '=ilike',
  '=?',
]);

/**
 * Compiles `domain` for `model`; translated fields compare their text in `lang`.
 * @throws OdooException (ValueError) like Odoo for bad domains.
 */
export function compileDomain(
  model: DomainModel,
  domain: unknown,
  lang: string = SOURCE_LANG,
): CompiledDomain {
  const terms = domain === false || domain === null || domain === undefined ? [] : domain;
  if (!Array.isArray(terms)) throw pythonError('ValueError', `Invalid domain: ${repr(domain)}`);
  const topLevel: Node[] = [];
  let index = 0;
  const parse = (): Node => {
    if (index >= terms.length)
      throw pythonError('ValueError', `Invalid domain: missing operand in ${repr(terms)}`);
    const term: unknown = terms[index++];
    if (term === '&' || term === '|') {
      const left = parse();
      const right = parse();
      return { kind: term === '&' ? 'and' : 'or', children: [left, right] };
    }
    if (term === '!') return { kind: 'not', child: parse() };
    return leaf(model, term);
  };
  while (index < terms.length) topLevel.push(parse());

  const conjuncts: Node[] = [];
  const flatten = (node: Node): void => {
    if (node.kind === 'and') node.children.forEach(flatten);
    else conjuncts.push(node);
  };
  topLevel.forEach(flatten);

  const compiled: CompiledDomain = {
    predicate: () => true,
    idAbove: 0,
    mentionsActive: topLevel.some(mentionsField(model.activeField() ?? 'active')),
    empty: false,
  };
  const rest: Node[] = [];
  for (const node of conjuncts) {
    if (!absorbHint(model, node, compiled)) rest.push(node);
  }
  const predicates = rest.map((node) => compileNode(model, node, lang));
  compiled.predicate = conjunction(predicates);
  return compiled;
}

/** The whole domain as one predicate, scan hints included: for filtering rows already at hand. */
export function compileFilter(model: DomainModel, domain: unknown): (row: Row) => boolean {
  const compiled = compileDomain(model, domain);
  const { idAbove, idSet, indexed, predicate } = compiled;
  if (compiled.empty) return () => false;
  return (row) =>
    row.id > idAbove &&
    (idSet === undefined || idSet.has(row.id)) &&
    (indexed === undefined || indexed.targets.has(row[indexed.field] as number)) &&
    predicate(row);
}

/** Turns a top-level leaf into a scan hint when it is one the store can serve from an index. */
function absorbHint(model: DomainModel, node: Node, compiled: CompiledDomain): boolean {
  if (node.kind !== 'leaf') return false;
  const { field, operator, value } = node;
  if (field === 'id') {
    if (
      (operator === '>' || operator === '>=') &&
      typeof value === 'number' &&
      Number.isFinite(value)
    ) {
      const above = operator === '>' ? Math.floor(value) : Math.ceil(value) - 1;
      compiled.idAbove = Math.max(compiled.idAbove, above);
      return true;
    }
    const ids = idList(operator, value);
    if (ids !== undefined) {
      compiled.idSet =
        compiled.idSet === undefined
          ? ids
          : new Set([...ids].filter((id) => compiled.idSet?.has(id)));
      if (compiled.idSet.size === 0) compiled.empty = true;
      return true;
    }
    return false;
  }
  const spec = model.field(field);
  if (spec?.indexed && spec.type === 'many2one' && compiled.indexed === undefined) {
    const ids = idList(operator, value);
    if (ids !== undefined) {
      compiled.indexed = { field, targets: ids };
      if (ids.size === 0) compiled.empty = true;
      return true;
    }
  }
  return false;
}

function idList(operator: string, value: unknown): Set<number> | undefined {
  if (operator === '=' && typeof value === 'number') return new Set([value]);
  if (operator === 'in' && Array.isArray(value) && value.every((v) => typeof v === 'number')) {
    return new Set(value);
  }
  return undefined;
}

function leaf(model: DomainModel, term: unknown): Node {
  if (!Array.isArray(term) || term.length !== 3) {
    throw pythonError('ValueError', `Invalid leaf ${repr(term)}`);
  }
  const [field, rawOperator, value] = term as [unknown, unknown, unknown];
  // TRUE_LEAF (1, '=', 1) and FALSE_LEAF (0, '=', 1).
  if (
    typeof field === 'number' &&
    rawOperator === '=' &&
    value === 1 &&
    (field === 1 || field === 0)
  ) {
    return { kind: 'constant', value: field === 1 };
  }
  if (typeof field !== 'string' || typeof rawOperator !== 'string') {
    throw pythonError('ValueError', `Invalid leaf ${repr(term)}`);
  }
  const operator = rawOperator.toLowerCase();
  if (!OPERATORS.has(operator))
    throw pythonError('ValueError', `Invalid operator ${repr(rawOperator)} in leaf ${repr(term)}`);
  if (field.includes('.')) {
    throw pythonError(
      'ValueError',
      `Invalid field ${repr(field)} on model ${repr(model.name)}: paths are not supported by the sandbox`,
    );
  }
  if (model.field(field) === undefined) {
    throw pythonError(
      'ValueError',
      model.release === '17.0'
        ? `Invalid field ${model.name}.${field} in leaf ${pyRepr(term, true)}`
        : `Invalid field ${repr(field)} on model ${repr(model.name)}`,
    );
  }
  return { kind: 'leaf', field, operator: operator === '<>' ? '!=' : operator, value };
}

function mentionsField(name: string): (node: Node) => boolean {
  const check = (node: Node): boolean => {
    switch (node.kind) {
      case 'leaf':
        return node.field === name;
      case 'not':
        return check(node.child);
      case 'and':
      case 'or':
        return node.children.some(check);
      default:
        return false;
    }
  };
  return check;
}

function conjunction(predicates: Array<(row: Row) => boolean>): (row: Row) => boolean {
  if (predicates.length === 0) return () => true;
  if (predicates.length === 1) return predicates[0] as (row: Row) => boolean;
  if (predicates.length === 2) {
    const [a, b] = predicates as [(row: Row) => boolean, (row: Row) => boolean];
    return (row) => a(row) && b(row);
  }
  return (row) => {
    for (const predicate of predicates) if (!predicate(row)) return false;
    return true;
  };
}

/**
 * A node as a predicate, with `!` pushed down to the leaves as Odoo's `distribute_not` does: on
 * an Odoo 17 model a negated leaf takes the opposite operator (`!(f > 5)` is `f <= 5`, which an
 * empty `f` does not match), and a leaf Odoo ignores stays true whatever negates it.
 */
function compileNode(
  model: DomainModel,
  node: Node,
  lang: string,
  negated = false,
): (row: Row) => boolean {
  switch (node.kind) {
    case 'constant':
      return node.value !== negated ? () => true : () => false;
    case 'not':
      return compileNode(model, node.child, lang, !negated);
    case 'and':
    case 'or': {
      const children = node.children.map((child) => compileNode(model, child, lang, negated));
      return (node.kind === 'and') !== negated
        ? conjunction(children)
        : (row) => children.some((child) => child(row));
    }
    case 'leaf': {
      if (ignoredLeaf(model, node.field)) return () => true;
      const opposite = negated ? oppositeOperator(model, node.operator) : undefined;
      if (opposite !== undefined)
        return compileTranslatable(model, node.field, opposite, node.value, lang);
      const predicate = compileTranslatable(model, node.field, node.operator, node.value, lang);
      return negated ? (row) => !predicate(row) : predicate;
    }
  }
}

/**
 * A leaf on a translated field compares the field's text in `lang`. On an Odoo 17 model, a leaf
 * on a searchable non-stored field compares its computed value.
 */
function compileTranslatable(
  model: DomainModel,
  field: string,
  operator: string,
  value: unknown,
  lang: string,
): (row: Row) => boolean {
  const spec = model.field(field) as FieldSpec;
  if (model.release === '17.0' && !spec.store && spec.name !== 'id')
    return compileComputed(model, spec, operator, value, lang);
  if (spec.translate !== true) return compileLeaf(model, field, operator, value);
  const onText = compileLeaf(model, field, operator, value);
  return (row) => onText({ id: row.id, [field]: translatedText(row[field], lang) });
}

/** A leaf on a searchable non-stored field: the leaf on its value, as if it were stored. */
function compileComputed(
  model: DomainModel,
  spec: FieldSpec,
  operator: string,
  value: unknown,
  lang: string,
): (row: Row) => boolean {
  if (model.computedValue === undefined) return () => true;
  const computed = (field: FieldSpec, row: Row): unknown => model.computedValue?.(field, row);
  const asStored: FieldSpec = {
    ...spec,
    store: true,
    // A computed x2many is a list of ids, as a many2many's stored links are.
    type: spec.type === 'one2many' ? 'many2many' : spec.type,
    // A related text may reach a translated one: compared in the context's language.
    translate:
      spec.translate === true ||
      spec.type === 'char' ||
      spec.type === 'text' ||
      spec.type === 'html',
  };
  const stored: DomainModel = {
    ...model,
    release: undefined,
    field: (name) => (name === spec.name ? asStored : model.field(name)),
  };
  const inner = compileTranslatable(stored, spec.name, operator, value, lang);
  return (row) => inner({ id: row.id, [spec.name]: computed(spec, row) });
}
