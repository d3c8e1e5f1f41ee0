/**
 * Keyset cursors of the API's lists: the last row's sort value (as text) and Odoo id, and the
 * sort they belong to, base64url-encoded. A cursor comes back from the client, so decoding checks
 * that PostgreSQL takes its value in the sort's cast: a forged cursor is a 400, never a SQL
 * error.
 */
import { HttpError } from '../http-error.js';
import { isDay, isInt4 } from './postgres-values.js';

/** The PostgreSQL type a cursor value is cast to. */
export type CursorCast = 'int' | 'text' | 'timestamptz' | 'numeric' | 'date' | 'boolean';

export interface Cursor {
  sort: string;
  value: string;
  id: number;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.sort, cursor.value, cursor.id])).toString('base64url');
}

/** PostgreSQL's timestamptz ends in 294276 AD; a cursor's instants start at year 1. */
const LAST_YEAR = 294_276;
// What isoInstant writes: to_char's YYYY is four digits, more for years past 9999.
const INSTANT = /^(\d{4}|[1-9]\d{4,5})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{3}Z$/;
// What date::text writes (ISO DateStyle): a year of four digits or more.
const DAY = /^(\d{4}|[1-9]\d{4,6})-(\d{2})-(\d{2})$/;
/** PostgreSQL's date ends in 5874897 AD. */
const LAST_DAY_YEAR = 5_874_897;

/** Whether the text is an instant PostgreSQL takes: a real calendar day and time of day. */
function isInstant(text: string): boolean {
  const match = INSTANT.exec(text);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return year <= LAST_YEAR && isDay(year, month, day) && hour <= 23 && minute <= 59 && second <= 59;
}

/**
 * Whether PostgreSQL takes a cursor value in its cast: each check is what the cast itself would
 * refuse (range, calendar, encoding), and each accepts every value a list writes into a cursor.
 */
const ACCEPTS: Record<CursorCast, (value: string) => boolean> = {
  int: (value) => /^-?\d{1,10}$/.test(value) && isInt4(Number(value)),
  // PostgreSQL text holds no NUL, and UTF-8 no lone surrogate.
  // (`\p{Cs}` with the u flag matches a surrogate only when it is not half of a pair.)
  text: (value) => !value.includes('\u0000') && !/\p{Cs}/u.test(value),
  timestamptz: (value) => value === 'infinity' || value === '-infinity' || isInstant(value),
  // numeric::text never has an exponent; three digits of one stay far inside numeric's range.
  numeric: (value) => /^(?:NaN|-?Infinity|-?\d+(?:\.\d+)?(?:e[+-]?\d{1,3})?)$/.test(value),
  date: (value) => {
    if (value === 'infinity' || value === '-infinity') return true;
    const match = DAY.exec(value);
    if (!match) return false;
    const [year, month, day] = match.slice(1).map(Number) as [number, number, number];
    return year <= LAST_DAY_YEAR && isDay(year, month, day);
  },
  boolean: (value) => value === 'true' || value === 'false',
};

/** @throws HttpError 400 `BAD_CURSOR` for a cursor this sort never gave */
export function decodeCursor(text: string, sort: string, cast: CursorCast): Cursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 3 &&
      typeof parsed[1] === 'string' &&
      ACCEPTS[cast](parsed[1]) &&
      isInt4(parsed[2] as number) &&
      parsed[0] === sort
    ) {
      return { sort, value: parsed[1], id: parsed[2] as number };
    }
  } catch {
    // fall through to the 400 below
  }
  throw new HttpError(400, 'BAD_CURSOR', 'cursor is malformed or belongs to another sort order');
}

/** A LIKE pattern's own characters, escaped: `contains` matches the text as written. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
