/**
 * Odoo 17's `properties` fields (`project.task.task_properties`): values a record stores as
 * `{name: value}`, described by a definition its container holds in a `properties_definition`
 * field (`project.project.task_properties_definition`), read as the container's definitions
 * each with the record's `value` (odoo/fields.py, `Properties.convert_to_read_multi`):
 *
 * - a record with no container, or a container with no definition, reads `[]`;
 * - a record with a definition and no stored value reads the definitions alone, no `value` key;
 * - a property the record has no value for reads `value: None`: JSON-RPC sends null, and XML-RPC
 *   cannot marshal it (Odoo 17 answers with fault 1, `TypeError: cannot marshal None unless
 *   allow_none is enabled`);
 * - a boolean reads as a boolean, a char that is not a string as False, a many2one as
 *   `[id, display name]` (False when its record is gone), a selection no longer offered as False.
 *
 * And Odoo 17's `_read_format`, which reads a properties field for the records that exist and
 * pairs the answers with every record asked for, in order: when a record asked for was deleted,
 * each record after it gets the next one's properties, the last ones get none, and the deleted
 * one comes back as a dict without `id` holding only the properties read after every other
 * field (`readWithMissing`). Checked on a real Odoo 17.0 (dev/sandbox/schemas/README.md).
 */
import type { PyValue } from './python-values.js';
import type { Row } from './sandbox-domain.js';
import { pythonError } from './sandbox-exceptions.js';
import type { FieldSpec } from './models/field-spec.js';
import type { SandboxTable, SandboxTables } from './sandbox-tables.js';

/** One property as a container defines it: `name`, `type`, `string`, and its type's keys. */
export type PropertyDefinition = Readonly<Record<string, PyValue>> & {
  readonly name: string;
  readonly type: string;
};

/** Where a properties field finds its definition: the container's many2one and its field. */
export function definitionOf(spec: FieldSpec): { record: string; field: string } | undefined {
  const record = spec.description?.definition_record;
  const field = spec.description?.definition_record_field;
  return typeof record === 'string' && typeof field === 'string' ? { record, field } : undefined;
}

/** A `properties_definition` value as Odoo stores it: a list of definitions, or NULL. */
export function convertDefinition(table: SandboxTable, spec: FieldSpec, value: unknown): unknown {
  if (value === false || value === null || value === undefined) return null;
  if (
    !Array.isArray(value) ||
    !value.every(
      (item: unknown) =>
        typeof item === 'object' &&
        item !== null &&
        typeof (item as Record<string, unknown>).name === 'string' &&
        typeof (item as Record<string, unknown>).type === 'string',
    )
  )
    throw pythonError(
      'ValueError',
      `Wrong properties definition value for ${table.spec.name}.${spec.name}`,
    );
  return value.length === 0 ? null : (JSON.parse(JSON.stringify(value)) as unknown);
}

/**
 * A `properties` value as Odoo stores it: `{name: value}`, from a dict or from the list a read
 * gave (its values taken, a many2one's `[id, name]` as its id), or NULL.
 */
export function convertProperties(table: SandboxTable, spec: FieldSpec, value: unknown): unknown {
  if (value === false || value === null || value === undefined) return null;
  if (Array.isArray(value)) {
    const values: Record<string, unknown> = {};
    for (const item of value as Array<Record<string, unknown>>) {
      if (typeof item?.name !== 'string') continue;
      const held = item.value;
      values[item.name] = Array.isArray(held) && item.type === 'many2one' ? held[0] : held;
    }
    return Object.keys(values).length === 0 ? null : values;
  }
  if (typeof value !== 'object')
    throw pythonError('ValueError', `Wrong properties value for ${table.spec.name}.${spec.name}`);
  return Object.keys(value).length === 0 ? null : (JSON.parse(JSON.stringify(value)) as unknown);
}

/** The container's definitions of a record's properties field, or none. */
function definitions(
  tables: SandboxTables,
  table: SandboxTable,
  spec: FieldSpec,
  row: Row,
): PropertyDefinition[] {
  const where = definitionOf(spec);
  if (!where) return [];
  const container = row[where.record] as number | null | undefined;
  const relation = table.fields.get(where.record)?.relation;
  if (!container || !relation) return [];
  const held = tables.requireTable(relation).rows.get(container)?.[where.field];
  return Array.isArray(held) ? (held as PropertyDefinition[]) : [];
}

/** A properties field of a row as `read` gives it (see the module's header). */
export function readProperties(
  tables: SandboxTables,
  table: SandboxTable,
  spec: FieldSpec,
  row: Row,
  lang: string,
): PyValue {
  const defined = definitions(tables, table, spec, row);
  const stored = row[spec.name] as Record<string, unknown> | null | undefined;
  if (!stored || defined.length === 0) return defined.map((definition) => ({ ...definition }));
  return defined.map((definition) => ({
    ...definition,
    value: readValue(tables, definition, stored[definition.name], lang),
  }));
}

/** One property's stored value as Odoo 17 reads it (`_parse_json_types`, `_add_display_name`). */
function readValue(
  tables: SandboxTables,
  definition: PropertyDefinition,
  value: unknown,
  lang: string,
): PyValue {
  const held = value === undefined ? null : (value as PyValue);
  switch (definition.type) {
    case 'boolean':
      return Boolean(held);
    case 'char':
      return typeof held === 'string' || held === null ? held : false;
    case 'selection': {
      const options = (definition.selection as Array<[string, string]> | undefined) ?? [];
      return held && !options.some(([key]) => key === held) ? false : held;
    }
    case 'many2one': {
      const model = definition.comodel;
      if (typeof held !== 'number' || typeof model !== 'string') return held;
      const target = tables.table(model);
      if (!target?.rows.has(held)) return false;
      return [held, tables.displayName(model, held, lang)];
    }
    default:
      return held;
  }
}

/**
 * Odoo 17's `read` of `ids` when some of them are gone and `names` holds a properties field:
 * its `_read_format`, field by field, record by record (see the module's header).
 * @param read one field of an existing row, as `read` gives it
 */
export function readWithMissing(
  table: SandboxTable,
  ids: readonly number[],
  names: readonly string[],
  read: (name: string, row: Row) => PyValue,
): Array<Record<string, PyValue>> {
  const data = ids.map((id): { row: Row | undefined; vals: Record<string, PyValue> } => ({
    row: table.rows.get(id),
    vals: { id },
  }));
  const clear = (vals: Record<string, PyValue>) => {
    for (const key of Object.keys(vals)) Reflect.deleteProperty(vals, key);
  };
  for (const name of names) {
    if (table.fields.get(name)?.type === 'properties') {
      const results: PyValue[] = [];
      for (const { row, vals } of data) {
        if (row === undefined) clear(vals);
        else results.push(read(name, row));
      }
      // zip(data, results): the answers of the records that exist, paired in order with all.
      results.forEach((value, i) => (data[i]!.vals[name] = value));
      continue;
    }
    for (const { row, vals } of data) {
      if (Object.keys(vals).length === 0) continue;
      if (row === undefined) clear(vals);
      else vals[name] = read(name, row);
    }
  }
  return data.map(({ vals }) => vals).filter((vals) => Object.keys(vals).length > 0);
}
