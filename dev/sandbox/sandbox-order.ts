/**
 * `order` specifications for the sandbox (`'write_date desc, id'`, `'priority desc, id desc'`):
 * parsing with Odoo's validation, and a comparator over stored rows with PostgreSQL's NULL
 * placement (last when ascending, first when descending, unless `nulls first|last` says).
 * Translated fields sort by their text in the reading language, as Odoo orders its jsonb column.
 * Odoo 17 skips a term on a field without a column (it logs "cannot be sorted"); later releases
 * refuse it.
 *
 * Simplification: a many2one sorts by the target's id, not by the comodel's own `_order`.
 */
import type { Row } from './sandbox-domain.js';
import { repr } from './python-repr.js';
import type { FieldSpec } from './models/field-spec.js';
import { pythonError } from './sandbox-exceptions.js';
import { SOURCE_LANG, translatedText } from './sandbox-translations.js';

export interface CompiledOrder {
  compare: (a: Row, b: Row) => number;
  /** Exactly `id asc`: the store can walk its sorted id list and stop at the limit. */
  idAscending: boolean;
  /** Exactly `id desc`. */
  idDescending: boolean;
}

const TERM = /^\s*"?([a-z0-9_]+)"?(?:\.id)?(?:\s+(asc|desc))?(?:\s+nulls\s+(first|last))?\s*$/i;

type Comparable = number | string | boolean | null | undefined;

export function compileOrder(
  order: string,
  modelName: string,
  field: (name: string) => FieldSpec | undefined,
  options: { lang?: string; skipWithoutColumn?: boolean } = {},
): CompiledOrder {
  const lang = options.lang ?? SOURCE_LANG;
  const keys: Array<{
    name: string;
    direction: 1 | -1;
    nullsFirst: boolean;
    /** Translated fields only: the text in `lang` (other fields compare their stored value). */
    text?: (row: Row) => Comparable;
  }> = [];
  for (const term of order.split(',')) {
    const match = TERM.exec(term);
    if (!match)
      throw pythonError(
        'ValueError',
        `Invalid "order" specified (${order}). A valid "order" specification is a comma-separated list of valid field names (optionally followed by asc/desc for the direction)`,
      );
    const name = match[1] as string;
    const spec = field(name);
    if (spec === undefined)
      throw pythonError('ValueError', `Invalid field ${repr(name)} on model ${repr(modelName)}`);
    const column =
      spec.column ?? (spec.store && spec.type !== 'one2many' && spec.type !== 'many2many');
    if (!column && options.skipWithoutColumn === true) continue;
    if (!spec.store || spec.type === 'one2many' || spec.type === 'many2many') {
      throw pythonError(
        'ValueError',
        `Cannot convert ${modelName}.${name} to SQL because it is not stored`,
      );
    }
    const direction = match[2]?.toLowerCase() === 'desc' ? -1 : 1;
    const nullsFirst =
      match[3] === undefined ? direction === -1 : match[3].toLowerCase() === 'first';
    if (spec.translate === true)
      keys.push({
        name,
        direction,
        nullsFirst,
        text: (row) => translatedText(row[name], lang),
      });
    else keys.push({ name, direction, nullsFirst });
  }
  // Odoo appends `id` to make the order total; so do we.
  if (!keys.some((key) => key.name === 'id'))
    keys.push({ name: 'id', direction: 1, nullsFirst: false });
  const first = keys[0] as { name: string; direction: 1 | -1 };
  const onlyId = keys.length === 1 && first.name === 'id';
  return {
    idAscending: onlyId && first.direction === 1,
    idDescending: onlyId && first.direction === -1,
    compare(a, b) {
      for (const key of keys) {
        const x = key.text === undefined ? (a[key.name] as Comparable) : key.text(a);
        const y = key.text === undefined ? (b[key.name] as Comparable) : key.text(b);
        if (x === y) continue;
        if (x === null || x === undefined) return key.nullsFirst ? -1 : 1;
        if (y === null || y === undefined) return key.nullsFirst ? 1 : -1;
        if (x < y) return -key.direction;
        if (x > y) return key.direction;
      }
      return 0;
    },
  };
}
