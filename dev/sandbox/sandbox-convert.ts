/**
 * Values as RPC calls send them → values as the sandbox stores them, converted and validated
 * like Odoo's `convert_to_cache`: empties as NULL (0 for numbers), char cut to its `size`,
 * translated texts merged per language, binary as canonical base64, json round-tripped,
 * many2one targets that must exist, x2many values as Odoo's commands.
 */
import { repr } from './python-repr.js';
import type { Row } from './sandbox-domain.js';
import { missingError, moduleError, pythonError } from './sandbox-exceptions.js';
import type { FieldSpec } from './models/field-spec.js';
import type { SandboxTable, SandboxTables } from './sandbox-tables.js';
import { convertDefinition, convertProperties } from './sandbox-properties.js';
import { parseDateString, parseDatetimeMicros } from './sandbox-time.js';
import { SOURCE_LANG } from './sandbox-translations.js';

const MAGIC_FIELDS = new Set([
  'id',
  'create_uid',
  'create_date',
  'write_uid',
  'write_date',
  'display_name',
]);

/** `(code, id, vals)`: Odoo's x2many commands (`Command.CREATE` … `Command.SET`). */
export type X2manyCommand = readonly [number, unknown?, unknown?];

/** Converted values, and the x2many fields' commands (applied per record). */
export interface Converted {
  values: Record<string, unknown>;
  x2many: Array<[FieldSpec, X2manyCommand[]]>;
}

/** MissingError unless every id exists in `comodel`. */
export function requireTargets(comodel: SandboxTable, ids: readonly number[]): void {
  const missing = ids.filter((id) => !comodel.rows.has(id));
  if (missing.length > 0) {
    throw missingError(
      `Record does not exist or has been deleted.\n(Record: ${comodel.spec.name}(${missing.join(', ')},), User: 2)`,
    );
  }
}

/** RPC values → stored values, validated like Odoo's convert_to_cache. */
export function convertVals(
  tables: SandboxTables,
  table: SandboxTable,
  vals: Record<string, unknown>,
  mode: 'create' | 'write',
  options: { lang?: string; allowMagic?: boolean },
  current?: Row,
): Converted {
  const values: Record<string, unknown> = {};
  const x2many: Array<[FieldSpec, X2manyCommand[]]> = [];
  for (const [name, value] of Object.entries(vals)) {
    const spec = table.fields.get(name);
    if (spec === undefined) {
      throw pythonError(
        'ValueError',
        mode === 'create'
          ? `Invalid field ${repr(name)} in ${repr(table.spec.name)}`
          : `Invalid field ${repr(name)} on model ${repr(table.spec.name)}`,
      );
    }
    // Odoo sets the magic fields itself; values sent for them are ignored.
    if (MAGIC_FIELDS.has(name) && options.allowMagic !== true) continue;
    // Computed fields are not written, but a company-dependent one stores the company's value.
    if (spec.computed && !spec.store && spec.companyDependent !== true) continue;
    if (spec.type === 'one2many' || spec.type === 'many2many') {
      x2many.push([spec, x2manyCommands(table, spec, value)]);
      continue;
    }
    values[name] = convertValue(tables, table, spec, value, options.lang ?? SOURCE_LANG, current);
  }
  return { values, x2many };
}

/** An x2many value as commands: a list of ids means SET, False means CLEAR. */
function x2manyCommands(table: SandboxTable, spec: FieldSpec, value: unknown): X2manyCommand[] {
  if (value === false || value === null || value === undefined) return [[5]];
  if (!Array.isArray(value))
    throw pythonError(
      'ValueError',
      `Wrong value for ${table.spec.name}.${spec.name}: ${repr(value)}`,
    );
  if (value.every((item) => typeof item === 'number')) return [[6, 0, value]];
  return value.map((command: unknown) => {
    if (!Array.isArray(command) || typeof command[0] !== 'number')
      throw pythonError(
        'ValueError',
        `Invalid ${spec.type} command ${repr(command)} on ${table.spec.name}.${spec.name}`,
      );
    return command as unknown as X2manyCommand;
  });
}

/** One RPC value → its stored form (`current`: the record written, for translated fields). */
export function convertValue(
  tables: SandboxTables,
  table: SandboxTable,
  spec: FieldSpec,
  value: unknown,
  lang: string,
  current: Row | undefined,
): unknown {
  const wrong = (): never => {
    throw pythonError(
      'ValueError',
      `Wrong value for ${table.spec.name}.${spec.name}: ${repr(value)}`,
    );
  };
  const empty = value === false || value === null || value === undefined;
  switch (spec.type) {
    case 'char':
    case 'text':
    case 'html': {
      if (empty) return null;
      if (typeof value !== 'string') return wrong();
      // Char fields keep `size` characters (Python slices code points).
      const text = spec.size === undefined ? value : Array.from(value).slice(0, spec.size).join('');
      return spec.translate === true ? translated(current?.[spec.name], text, lang) : text;
    }
    case 'binary':
      if (empty || value === '') return null;
      if (Buffer.isBuffer(value)) return value.toString('base64');
      return typeof value === 'string' ? base64Value(value) : wrong();
    case 'selection':
      if (empty) return null;
      return typeof value === 'string' && spec.selection?.some(([key]) => key === value)
        ? value
        : wrong();
    case 'integer':
    case 'many2one_reference':
      if (empty) return 0;
      return typeof value === 'number' && Number.isInteger(value) ? value : wrong();
    case 'float':
    case 'monetary':
      if (empty) return 0;
      return typeof value === 'number' && Number.isFinite(value) ? value : wrong();
    case 'boolean':
      return Boolean(value);
    case 'date':
      if (empty) return null;
      return parseDateString(value) ?? wrong();
    case 'datetime':
      if (empty) return null;
      if (typeof value === 'number') return value;
      return parseDatetimeMicros(value) ?? wrong();
    case 'json':
      // Odoo stores `json.loads(json.dumps(value))`, and nothing for an empty value.
      if (empty || isEmptyJson(value)) return null;
      return JSON.parse(JSON.stringify(value)) as unknown;
    case 'many2one': {
      if (empty) return null;
      if (typeof value !== 'number') return wrong();
      requireTargets(tables.requireTable(spec.relation as string), [value]);
      return value;
    }
    case 'properties':
      return convertProperties(table, spec, value);
    case 'properties_definition':
      return convertDefinition(table, spec, value);
    default:
      return value;
  }
}

/**
 * A translated field's new stored value: the text for the call's language merged into the
 * texts it had (Odoo updates one key of its jsonb column), or both `en_US` and that language
 * for a field that had none.
 */
export function translated(stored: unknown, text: string, lang: string): unknown {
  if (stored === null || stored === undefined) return { [SOURCE_LANG]: text, [lang]: text };
  const texts: Record<string, string> =
    typeof stored === 'string'
      ? { [SOURCE_LANG]: stored }
      : { ...(stored as Record<string, string>) };
  texts[lang] = text;
  return texts;
}

/**
 * Odoo decodes a binary value (`base64.b64decode`, which skips characters outside the alphabet
 * and wants whole quadruples) into its attachment and reads it back as canonical base64.
 */
function base64Value(value: string): string {
  const compact = value.replace(/[^A-Za-z0-9+/=]/g, '');
  if (compact.length % 4 !== 0) throw moduleError('binascii.Error', 'Incorrect padding');
  return Buffer.from(compact, 'base64').toString('base64');
}

function isEmptyJson(value: unknown): boolean {
  if (value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && value !== null && Object.keys(value).length === 0;
}
