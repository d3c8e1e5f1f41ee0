/**
 * SQL's LIKE as Odoo's domain operators use it (`like`, `ilike` and their negations match a
 * substring; `=like`, `=ilike` a whole pattern with `%` and `_`), over a row's text: an empty
 * value matches only the negative operators, as Odoo's SQL (`f NOT LIKE p OR f IS NULL`) does.
 */
import { pythonError } from './sandbox-exceptions.js';
import { pyRepr } from './python-repr.js';
import type { Row } from './sandbox-domain.js';

/** A text as a LIKE pattern that matches only itself. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export function compileLike(
  operator: string,
  rawValue: unknown,
  text: (row: Row) => string | null,
): (row: Row) => boolean {
  const pattern = String(rawValue);
  let test: (value: string) => boolean;
  switch (operator) {
    case 'like':
    case 'not like':
      test = (value) => value.includes(pattern);
      break;
    case 'ilike':
    case 'not ilike': {
      const lower = pattern.toLowerCase();
      test = (value) => value.toLowerCase().includes(lower);
      break;
    }
    case '=like':
    case '=ilike':
    case 'not =like': {
      const regex = likeToRegExp(pattern, operator === '=ilike');
      test = (value) => regex.test(value);
      break;
    }
    default:
      throw pythonError('ValueError', `Invalid operator ${pyRepr(operator)}`);
  }
  if (operator.startsWith('not ')) {
    return (row) => {
      const value = text(row);
      return value === null || !test(value);
    };
  }
  return (row) => {
    const value = text(row);
    return value !== null && test(value);
  };
}

/** SQL LIKE pattern (`%`, `_`, backslash escapes) → an anchored RegExp. */
function likeToRegExp(pattern: string, insensitive: boolean): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) source += escapeRegExp(pattern[++i] as string);
    else if (c === '%') source += '[\\s\\S]*';
    else if (c === '_') source += '[\\s\\S]';
    else source += escapeRegExp(c);
  }
  return new RegExp(`^${source}$`, insensitive ? 'i' : '');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
