/**
 * Pure conversions between Odoo's wire conventions and typed values.
 *
 * Odoo never sends null: an empty char/date/many2one is `False`, an empty integer is `0` and an
 * empty float `0.0` (so those stay numbers: Odoo itself cannot tell 0 from NULL there).
 * Datetimes are naive UTC strings truncated to the second; many2one is `[id, display_name]`, or a
 * bare id with `load=''`; x2many is a list of ids; integers above 2^31−1 arrive as doubles.
 * These functions turn that into `null`, `Date`, `{ id, name }`, and back where the sync needs to
 * write Odoo values (domains). Nothing here does I/O.
 */
import type { OdooFieldType, OdooStoredField } from './odoo-types.js';

/** A many2one value: the target's id and, when Odoo sent it, its display name. */
export interface Many2oneValue {
  id: number;
  name: string | null;
}

/** A typed value, as {@link fromOdooValue} returns it. */
export type TypedOdooValue =
  | string
  | number
  | boolean
  | Date
  | Many2oneValue
  | number[]
  | null
  // json/properties fields pass through as Odoo sent them.
  | Record<string, unknown>
  | unknown[];

/** `YYYY-MM-DD HH:MM:SS`: the separator expected at each position, digits elsewhere. */
const DATETIME_SHAPE = '____-__-__ __:__:__';
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `False` (and, defensively, null/undefined/'') → null; a string stays as is. */
export function fromOdooString(value: unknown): string | null {
  if (value === false || value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  throw new TypeError(`expected an Odoo string or False, got ${describe(value)}`);
}

/**
 * An Odoo datetime (`'YYYY-MM-DD HH:MM:SS'`, naive UTC) → a `Date` in UTC; `False` → null.
 * @throws TypeError for any other shape (a timezone, a `T`, fractions are never sent by Odoo).
 */
export function parseOdooDatetime(value: unknown): Date | null {
  if (value === false || value === null || value === undefined) return null;
  if (typeof value !== 'string')
    throw new TypeError(`expected an Odoo datetime, got ${describe(value)}`);
  // Read in place: every record carries several datetimes, and a regular expression's match
  // and its six substrings were most of what parsing one allocated.
  if (!hasDatetimeShape(value))
    throw new TypeError(`expected 'YYYY-MM-DD HH:MM:SS', got '${value}'`);
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  const hour = digits(value, 11, 2);
  const minute = digits(value, 14, 2);
  const second = digits(value, 17, 2);
  // Date.UTC, the quicker, reads years 0–99 as 1900–1999.
  const date =
    year >= 100
      ? new Date(Date.UTC(year, month - 1, day, hour, minute, second))
      : utcDate(year, month, day, hour, minute, second);
  // Dates roll 2025-02-30 over to March; Odoo never sends such a value, so refuse it.
  if (
    year < 1 ||
    date.getUTCDate() !== day ||
    date.getUTCMonth() !== month - 1 ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    throw new TypeError(`not a calendar datetime: '${value}'`);
  }
  return date;
}

/**
 * `parseOdooDatetime(value).toISOString()` for a value it accepted, by rearranging the text: a
 * scan of millions of records spent a fifth of its time formatting their dates.
 */
export function odooDatetimeIso(value: string): string {
  return `${value.slice(0, 10)}T${value.slice(11)}.000Z`;
}

/** A `Date` → Odoo's `'YYYY-MM-DD HH:MM:SS'` in UTC, milliseconds dropped (never rounded up). */
export function toOdooDatetime(date: Date): string {
  const time = date.getTime();
  if (!Number.isFinite(time)) throw new TypeError('invalid Date');
  const year = date.getUTCFullYear();
  if (year < 1 || year > 9999) throw new TypeError(`year ${year} is outside Odoo's range`);
  return (
    `${pad(year, 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)} ` +
    `${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}`
  );
}

/** An Odoo date (`'YYYY-MM-DD'`) → the same string, validated; `False` → null. */
export function parseOdooDate(value: unknown): string | null {
  if (value === false || value === null || value === undefined) return null;
  if (typeof value !== 'string')
    throw new TypeError(`expected an Odoo date, got ${describe(value)}`);
  const match = DATE_PATTERN.exec(value);
  if (!match) throw new TypeError(`expected 'YYYY-MM-DD', got '${value}'`);
  const [year, month, day] = [part(match, 1), part(match, 2), part(match, 3)];
  const date = utcDate(year, month, day);
  if (year < 1 || date.getUTCDate() !== day || date.getUTCMonth() !== month - 1) {
    throw new TypeError(`not a calendar date: '${value}'`);
  }
  return value;
}

/** A `Date` → Odoo's `'YYYY-MM-DD'` (its UTC calendar day). */
export function toOdooDate(date: Date): string {
  return toOdooDatetime(date).slice(0, 10);
}

/**
 * A many2one: `[id, display_name]` (default load) or a bare id (`load=''`) → `{ id, name }`;
 * `False` → null.
 */
export function parseMany2one(value: unknown): Many2oneValue | null {
  if (value === false || value === null || value === undefined) return null;
  if (typeof value === 'number') return { id: toInteger(value), name: null };
  if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'number') {
    const name: unknown = value[1];
    return { id: toInteger(value[0]), name: typeof name === 'string' ? name : null };
  }
  throw new TypeError(`expected a many2one ([id, name], id or False), got ${describe(value)}`);
}

/** A one2many/many2many: a list of ids (`False`, which Odoo never sends for these, → []). */
export function parseX2many(value: unknown): number[] {
  if (value === false || value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw new TypeError(`expected a list of ids, got ${describe(value)}`);
  return value.map((id) => {
    if (typeof id !== 'number') throw new TypeError(`expected an id, got ${describe(id)}`);
    return toInteger(id);
  });
}

/**
 * An integer field. Odoo sends NULL as `0` (kept: the two cannot be told apart) and values
 * above 2^31−1 as doubles (turned back into integers). `False` only comes from non-stored
 * computed fields → null.
 */
export function parseOdooInteger(value: unknown): number | null {
  if (value === false || value === null || value === undefined) return null;
  if (typeof value !== 'number') throw new TypeError(`expected an integer, got ${describe(value)}`);
  return toInteger(value);
}

/** A float/monetary field: NULL arrives as `0.0` and stays 0; `False` → null. */
export function parseOdooFloat(value: unknown): number | null {
  if (value === false || value === null || value === undefined) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`expected a float, got ${describe(value)}`);
  }
  return value;
}

/** A boolean field (never empty: `False` is false). */
export function parseOdooBoolean(value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`expected a boolean, got ${describe(value)}`);
  return value;
}

/**
 * One field value by its Odoo type: char/text/html/selection/binary/reference → string|null,
 * date → 'YYYY-MM-DD'|null, datetime → Date|null, many2one → {id,name}|null, x2many → ids,
 * integer/float/monetary → number (null only for `False`), boolean → boolean. Other types
 * (json, properties…) pass through untouched.
 */
export function fromOdooValue(type: OdooFieldType, value: unknown): TypedOdooValue {
  switch (type) {
    case 'char':
    case 'text':
    case 'html':
    case 'selection':
    case 'binary':
    case 'reference':
      return fromOdooString(value);
    case 'date':
      return parseOdooDate(value);
    case 'datetime':
      return parseOdooDatetime(value);
    case 'many2one':
      return parseMany2one(value);
    case 'one2many':
    case 'many2many':
      return parseX2many(value);
    case 'integer':
    case 'many2one_reference':
      return parseOdooInteger(value);
    case 'float':
    case 'monetary':
      return parseOdooFloat(value);
    case 'boolean':
      return parseOdooBoolean(value);
    default:
      return value === false ? null : (value as TypedOdooValue);
  }
}

/**
 * A record with every listed field converted by its type; fields the record lacks are left
 * out, fields not listed are dropped. `id` is always kept.
 */
export function fromOdooRecord(
  record: Readonly<Record<string, unknown>>,
  fields: readonly OdooStoredField[],
): Record<string, TypedOdooValue> & { id: number } {
  const id = record.id;
  if (typeof id !== 'number') throw new TypeError(`record without an id: ${describe(id)}`);
  const typed: Record<string, TypedOdooValue> & { id: number } = { id: toInteger(id) };
  for (const field of fields) {
    if (field.name === 'id' || !(field.name in record)) continue;
    try {
      typed[field.name] = fromOdooValue(field.type, record[field.name]);
    } catch (error) {
      throw new TypeError(`field ${field.name} of record ${id}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  return typed;
}

function toInteger(value: number): number {
  if (!Number.isSafeInteger(value)) throw new TypeError(`expected an integer, got ${value}`);
  return value;
}

/** A UTC date; unlike `Date.UTC`, years 0–99 stay themselves instead of becoming 1900–1999. */
function utcDate(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): Date {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date;
}

function hasDatetimeShape(value: string): boolean {
  if (value.length !== DATETIME_SHAPE.length) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const separator = DATETIME_SHAPE.charCodeAt(i);
    if (separator === 95 ? c < 48 || c > 57 : c !== separator) return false;
  }
  return true;
}

/** The number the `width` ASCII digits at `start` write (checked by hasDatetimeShape). */
function digits(value: string, start: number, width: number): number {
  let number = 0;
  for (let i = start; i < start + width; i++) number = number * 10 + value.charCodeAt(i) - 48;
  return number;
}

function part(match: RegExpExecArray, index: number): number {
  return Number(match[index]);
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `array(${value.length})`;
  if (typeof value === 'string') return `'${value.length > 30 ? `${value.slice(0, 30)}…` : value}'`;
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return typeof value;
}
