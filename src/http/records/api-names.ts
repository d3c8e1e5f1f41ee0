/**
 * The names a model's columns take in the API: a key of the record's body, a query parameter.
 * Each is the column's natural name in camelCase (`partner_id` → `partnerId`) — unless two columns
 * would share it (`x_a_b` and `x_aB` are both `xAB`; a many2one `x_partner_id` and a char
 * `x_partner` are both `xPartner` in a body), or it is one the API keeps for itself (`limit`,
 * `sort`, `cursor` as parameters; `data`, `odooId` in a body). Then each column that wanted it is
 * named by its column in PostgreSQL instead (unique in its table: `x_a_b`, `x_aB`, `limit`), or,
 * that too being taken, by the column's name and a number. Deterministic: the same columns get the
 * same names, whatever the order Odoo listed them in; found at boot, where the API logs each
 * renamed column.
 */
import type { FieldColumn } from '../../families/columns.js';

/** A column's natural name: `partner_id` → `partnerId`. */
export const camel = (name: string) =>
  name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

export interface Renamed {
  readonly column: FieldColumn;
  /** The name it would have had, and the one it has. */
  readonly natural: string;
  readonly name: string;
}

export interface ApiNames {
  readonly of: ReadonlyMap<FieldColumn, string>;
  readonly renamed: readonly Renamed[];
}

/**
 * Unique names for `columns`: each its `natural` name unless another column, or `reserved`,
 * has it too.
 */
export function apiNames(
  columns: readonly FieldColumn[],
  natural: (column: FieldColumn) => string,
  reserved: ReadonlySet<string>,
): ApiNames {
  const wanted = new Map<string, number>();
  for (const column of columns) wanted.set(natural(column), (wanted.get(natural(column)) ?? 0) + 1);
  const taken = new Set(reserved);
  const of = new Map<FieldColumn, string>();
  const contested: FieldColumn[] = [];
  for (const column of columns) {
    const name = natural(column);
    if (wanted.get(name) === 1 && !reserved.has(name)) {
      of.set(column, name);
      taken.add(name);
    } else contested.push(column);
  }
  const renamed: Renamed[] = [];
  for (const column of contested.sort((a, b) => (a.column < b.column ? -1 : 1))) {
    let name = column.column;
    for (let n = 2; taken.has(name); n += 1) name = `${column.column}_${n}`;
    of.set(column, name);
    taken.add(name);
    renamed.push({ column, natural: natural(column), name });
  }
  return { of, renamed };
}
