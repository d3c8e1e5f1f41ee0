/**
 * A JSON value as PostgreSQL prints it once stored as `jsonb` (`value::text`), computed without
 * PostgreSQL: each object's keys in jsonb's order (shorter first, then byte by byte), `", "` and
 * `": "` between items, strings escaped as `JSON.stringify` escapes them (jsonb's output escapes
 * the same characters the same way), numbers as `JSON.stringify` prints them.
 *
 * So a digest of this text equals the digest PostgreSQL computes of a stored jsonb exactly when
 * the stored value is the one `JSON.stringify(value)` would store: a row can be compared with a
 * record by sending 64 hex digits instead of the record (src/sync/select-changed.ts).
 *
 * Undefined where the text could differ from PostgreSQL's for an equal value: a number
 * `JSON.stringify` prints with an exponent (jsonb prints `1e-7` as `0.0000001`), an object with
 * `toJSON` or of a class. A caller then compares the value itself.
 */
import { createHash } from 'node:crypto';

/** The SHA-256 of `jsonbText(value)` in hex, as `encode(sha256(convert_to(t, 'UTF8')), 'hex')`. */
export function jsonbDigest(value: unknown): string | undefined {
  const text = jsonbText(value);
  return text === undefined ? undefined : createHash('sha256').update(text).digest('hex');
}

export function jsonbText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) return 'null';
      // Where JSON.stringify (and String) switch to an exponent.
      if (value !== 0 && (Math.abs(value) >= 1e21 || Math.abs(value) < 1e-6)) return undefined;
      return String(value);
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? arrayText(value) : objectText(value);
    default:
      return undefined;
  }
}

function arrayText(items: readonly unknown[]): string | undefined {
  let text = '[';
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    // JSON.stringify writes what JSON cannot hold as null inside an array.
    const itemText =
      item === undefined || typeof item === 'function' || typeof item === 'symbol'
        ? 'null'
        : jsonbText(item);
    if (itemText === undefined) return undefined;
    text += i === 0 ? itemText : `, ${itemText}`;
  }
  return `${text}]`;
}

/**
 * An object's keys in jsonb's order, each with its printed prefix (`"key": `), by the keys in
 * their own order: the records of a model share theirs, so a page sorts them once.
 */
const layouts = new Map<string, Layout>();
const MAX_LAYOUTS = 1_000;

interface Layout {
  readonly own: string[];
  readonly keys: string[];
  readonly prefixes: string[];
}

/** The layout found last: the records of a page come one model at a time. */
let last: Layout | undefined;

function layoutOf(keys: string[]): Layout {
  if (last && sameKeys(last.own, keys)) return last;
  last = namedLayout(keys);
  return last;
}

function sameKeys(left: readonly string[], right: readonly string[]): boolean {
  if (left.length !== right.length) return false;
  for (let i = 0; i < left.length; i++) if (left[i] !== right[i]) return false;
  return true;
}

function namedLayout(keys: string[]): Layout {
  // No key holds U+0000 (jsonb refuses it) and the count comes first: two different key lists
  // never name alike (without the count, {} and {"": …} would).
  const name = `${String(keys.length)}\u0000${keys.join('\u0000')}`;
  let layout = layouts.get(name);
  if (!layout) {
    const sorted = [...keys].sort(jsonbKeyOrder);
    layout = { own: keys, keys: sorted, prefixes: sorted.map((key) => `${JSON.stringify(key)}: `) };
    if (layouts.size >= MAX_LAYOUTS) layouts.clear();
    layouts.set(name, layout);
  }
  return layout;
}

function objectText(object: object): string | undefined {
  const prototype: unknown = Object.getPrototypeOf(object);
  if (prototype !== Object.prototype && prototype !== null) return undefined;
  const record = object as Record<string, unknown>;
  if ('toJSON' in record) return undefined;
  const { keys, prefixes } = layoutOf(Object.keys(record));
  let text = '{';
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const value = record[keys[i]!];
    // JSON.stringify leaves such a key out.
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    const valueText = jsonbText(value);
    if (valueText === undefined) return undefined;
    text += first ? prefixes[i]! + valueText : `, ${prefixes[i]!}${valueText}`;
    first = false;
  }
  return `${text}}`;
}

/** jsonb's order of an object's keys: by length in UTF-8 bytes, then byte by byte. */
function jsonbKeyOrder(left: string, right: string): number {
  if (isAscii(left) && isAscii(right)) {
    if (left.length !== right.length) return left.length - right.length;
    return left < right ? -1 : left > right ? 1 : 0;
  }
  const a = Buffer.from(left, 'utf8');
  const b = Buffer.from(right, 'utf8');
  return a.length !== b.length ? a.length - b.length : Buffer.compare(a, b);
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}
