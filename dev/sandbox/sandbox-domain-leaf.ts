/**
 * One leaf of an Odoo domain as a predicate over stored rows: the value coerced to the field's
 * comparable form, then compared with SQL's NULL rules the way Odoo's ORM writes them (see
 * sandbox-domain.ts, which compiles the whole domain).
 */
import type { FieldSpec } from './models/field-spec.js';
import type { DomainModel, Row } from './sandbox-domain.js';
import { repr } from './python-repr.js';
import { moduleError, pythonError } from './sandbox-exceptions.js';
import { compileLike, escapeLike } from './sandbox-like.js';
import { parseDateString, parseDatetimeMicros } from './sandbox-time.js';

/** The comparable form of a domain value for a field: micros, ids, strings, numbers, or null. */
function coerce(spec: FieldSpec, value: unknown): unknown {
  if (value === false || value === null || value === undefined)
    return spec.type === 'boolean' ? false : null;
  switch (spec.type) {
    case 'datetime': {
      const micros = parseDatetimeMicros(value);
      if (micros === undefined) {
        throw moduleError(
          'psycopg2.errors.InvalidDatetimeFormat',
          `invalid input syntax for type timestamp: ${repr(value)}`,
        );
      }
      return micros;
    }
    case 'date': {
      const date = parseDateString(value);
      if (date === undefined) {
        throw moduleError(
          'psycopg2.errors.InvalidDatetimeFormat',
          `invalid input syntax for type date: ${repr(value)}`,
        );
      }
      return date;
    }
    case 'boolean':
      return Boolean(value);
    default:
      return value;
  }
}

export function compileLeaf(
  model: DomainModel,
  field: string,
  operator: string,
  rawValue: unknown,
): (row: Row) => boolean {
  const spec = model.field(field) as FieldSpec;
  if (operator === '=?') {
    if (rawValue === false || rawValue === null || rawValue === undefined) return () => true;
    return compileLeaf(model, field, '=', rawValue);
  }
  if (spec.type === 'one2many' || spec.type === 'many2many')
    return compileX2many(model, spec, operator, rawValue);
  if (spec.type === 'many2one' && typeof rawValue === 'string') {
    // Odoo name-searches the comodel: compare with the target's display name.
    return compileMany2oneByName(model, spec, operator, rawValue);
  }
  if (spec.type === 'boolean') return compileBoolean(spec, operator, rawValue);
  if (spec.type === 'datetime' && model.wholeSecondDatetimes === true && spec.store) {
    const whole = wholeSecondLeaf(spec, operator, rawValue);
    if (whole !== undefined) return whole;
  }
  if (!spec.store) {
    throw pythonError(
      'ValueError',
      `Cannot search on non-stored field ${repr(field)} of model ${repr(model.name)}`,
    );
  }

  switch (operator) {
    case '=':
    case '!=': {
      const value = coerce(spec, rawValue);
      const negate = operator === '!=';
      if (value === null)
        return negate ? (row) => row[field] !== null : (row) => row[field] === null;
      // SQL: `f != v` is `f <> v OR f IS NULL` in Odoo's expression builder.
      return negate ? (row) => row[field] !== value : (row) => row[field] === value;
    }
    case '>':
    case '>=':
    case '<':
    case '<=': {
      const value = coerce(spec, rawValue);
      if (value === null) return () => false;
      const v = value as number | string;
      switch (operator) {
        case '>':
          return (row) => {
            const x = row[field] as number | string | null;
            return x !== null && x > v;
          };
        case '>=':
          return (row) => {
            const x = row[field] as number | string | null;
            return x !== null && x >= v;
          };
        case '<':
          return (row) => {
            const x = row[field] as number | string | null;
            return x !== null && x < v;
          };
        default:
          return (row) => {
            const x = row[field] as number | string | null;
            return x !== null && x <= v;
          };
      }
    }
    case 'in':
    case 'not in': {
      const list = Array.isArray(rawValue) ? rawValue : [rawValue];
      const values = new Set<unknown>();
      let withNull = false;
      for (const item of list) {
        const value = coerce(spec, item);
        if (value === null) withNull = true;
        else values.add(value);
      }
      if (operator === 'in') {
        return (row) => {
          const x = row[field];
          return x === null ? withNull : values.has(x);
        };
      }
      return (row) => {
        const x = row[field];
        return x === null ? !withNull : !values.has(x);
      };
    }
    default:
      return compileLike(operator, rawValue, (row) => {
        const x = row[field];
        return typeof x === 'string' ? x : typeof x === 'number' ? String(x) : null;
      });
  }
}

const SECOND_MICROS = 1_000_000;

/** A datetime leaf as Odoo 19 rewrites it (`DomainModel.wholeSecondDatetimes`), else undefined. */
function wholeSecondLeaf(
  spec: FieldSpec,
  operator: string,
  rawValue: unknown,
): ((row: Row) => boolean) | undefined {
  const field = spec.name;
  const second = (value: unknown): number | null => {
    const micros = coerce(spec, value) as number | null;
    return micros === null ? null : Math.floor(micros / SECOND_MICROS) * SECOND_MICROS;
  };
  const compare = (test: (stored: number, value: number) => boolean) => {
    const value = second(rawValue);
    if (value === null) return () => false;
    return (row: Row) => {
      const stored = row[field];
      return typeof stored === 'number' && test(stored, value);
    };
  };
  switch (operator) {
    case '>':
      return compare((stored, value) => stored >= value + SECOND_MICROS);
    case '>=':
      return compare((stored, value) => stored >= value);
    case '<':
      return compare((stored, value) => stored < value);
    case '<=':
      return compare((stored, value) => stored < value + SECOND_MICROS);
    case '=':
    case '!=':
    case 'in':
    case 'not in': {
      const values = (Array.isArray(rawValue) ? rawValue : [rawValue]).map(second);
      const matches = (stored: unknown): boolean =>
        values.some((value) =>
          value === null
            ? stored === null
            : typeof stored === 'number' && stored >= value && stored < value + SECOND_MICROS,
        );
      return operator === 'in' || operator === '='
        ? (row) => matches(row[field])
        : (row) => !matches(row[field]);
    }
    default:
      return undefined;
  }
}

function compileBoolean(
  spec: FieldSpec,
  operator: string,
  rawValue: unknown,
): (row: Row) => boolean {
  const name = spec.name;
  const truthy = (row: Row): boolean => row[name] === true;
  switch (operator) {
    case '=':
      return rawValue ? truthy : (row) => !truthy(row);
    case '!=':
      return rawValue ? (row) => !truthy(row) : truthy;
    case 'in':
    case 'not in': {
      const list = (Array.isArray(rawValue) ? rawValue : [rawValue]).map(Boolean);
      const wantTrue = list.includes(true);
      const wantFalse = list.includes(false);
      const inList = (row: Row): boolean => (truthy(row) ? wantTrue : wantFalse);
      return operator === 'in' ? inList : (row) => !inList(row);
    }
    default:
      throw pythonError(
        'ValueError',
        `Invalid operator ${repr(operator)} for boolean field ${repr(name)}`,
      );
  }
}

function compileMany2oneByName(
  model: DomainModel,
  spec: FieldSpec,
  operator: string,
  text: string,
): (row: Row) => boolean {
  const relation = spec.relation as string;
  const name = spec.name;
  const nameOf = (row: Row): string | null => {
    const id = row[name];
    return typeof id === 'number' ? model.displayName(relation, id) || null : null;
  };
  if (operator === '=') return compileLike('=like', escapeLike(text), nameOf);
  if (operator === '!=') return compileLike('not =like', escapeLike(text), nameOf);
  if (
    operator === 'in' ||
    operator === 'not in' ||
    operator.startsWith('<') ||
    operator.startsWith('>')
  ) {
    throw pythonError(
      'ValueError',
      `Invalid operator ${repr(operator)} with a name on many2one ${repr(name)}`,
    );
  }
  return compileLike(operator, text, nameOf);
}

function compileX2many(
  model: DomainModel,
  spec: FieldSpec,
  operator: string,
  rawValue: unknown,
): (row: Row) => boolean {
  const idsOf =
    spec.type === 'one2many'
      ? (row: Row): number[] => model.one2manyIds(spec, row.id)
      : spec.mirrorOf === undefined
        ? (row: Row): number[] => (row[spec.name] as number[] | undefined) ?? []
        : (row: Row): number[] => model.many2manyIds(spec, row);
  const empty = rawValue === false || rawValue === null || rawValue === undefined;
  const wanted = new Set<number>(
    (Array.isArray(rawValue) ? rawValue : [rawValue]).filter(
      (v): v is number => typeof v === 'number',
    ),
  );
  const intersects = (row: Row): boolean => idsOf(row).some((id) => wanted.has(id));
  switch (operator) {
    case '=':
    case 'in':
      return empty ? (row) => idsOf(row).length === 0 : intersects;
    case '!=':
    case 'not in':
      return empty ? (row) => idsOf(row).length > 0 : (row) => !intersects(row);
    default:
      throw pythonError(
        'ValueError',
        `Invalid operator ${repr(operator)} for x2many field ${repr(spec.name)}`,
      );
  }
}
