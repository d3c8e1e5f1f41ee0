/**
 * What PostgreSQL takes, checked before a value reaches a query: the API's date, instant and number
 * parameters and the values its cursors carry. A value PostgreSQL would refuse (a year 0000, an
 * instant past the calendar, an int4 out of range) is a 400 naming the parameter, never the
 * SQL error a 500 would hide.
 */
import { z } from 'zod';

const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Whether the day exists in PostgreSQL's calendar (which has no year 0). */
export function isDay(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  return day <= (month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!);
}

export const isInt4 = (n: number) =>
  Number.isSafeInteger(n) && n >= -2_147_483_648 && n <= 2_147_483_647;

/** An integer a PostgreSQL `integer` holds. */
export const int4 = () => z.coerce.number().int().min(-2_147_483_648).max(2_147_483_647);

/** A decimal a PostgreSQL `numeric` takes as written (no exponent, no NaN). */
export const decimal = () =>
  z.string().regex(/^-?\d{1,30}(\.\d{1,30})?$/, 'a decimal number such as 12.50');

/** A day `YYYY-MM-DD` of PostgreSQL's calendar: from 0001-01-01 (there is no year 0000). */
export const day = () =>
  z.iso.date().refine((text) => Number(text.slice(0, 4)) >= 1, 'a day from 0001-01-01 on');

/**
 * An instant, ISO 8601 with its offset (or a day, its midnight in UTC), as PostgreSQL's
 * timestamptz takes it: given back as `Date#toISOString()` writes it, in UTC. Its UTC year must
 * be 0001 to 9999: `0000-…` is not in PostgreSQL's calendar, and past 9999 (`9999-12-31T23:00-05:00`)
 * `toISOString` writes a six-digit year PostgreSQL does not read.
 */
export const instant = (options: { dayAlone: boolean }) =>
  (options.dayAlone
    ? z.iso.datetime({ offset: true }).or(z.iso.date())
    : z.iso.datetime({ offset: true })
  ).transform((text, ctx) => {
    const at = new Date(text);
    const year = at.getUTCFullYear();
    if (Number.isNaN(at.getTime()) || year < 1 || year > 9_999) {
      ctx.addIssue({ code: 'custom', message: 'an instant from 0001-01-01 to 9999-12-31 (UTC)' });
      return z.NEVER;
    }
    return at.toISOString();
  });

/**
 * A `contains` needle its trigram index can look up: three letters or digits in a row (pg_trgm
 * makes trigrams of words; `%ab%` or `%a-b%` gives none, and PostgreSQL then reads the whole index
 * and rechecks every row — one request that holds a connection for the length of a table scan).
 */
export const trigramNeedle = (maxLength: number) =>
  z
    .string()
    .max(maxLength)
    .refine(
      (value) => !value.includes('\u0000') && !/\p{Cs}/u.test(value),
      'holds a character PostgreSQL text cannot',
    )
    .refine(
      (value) => /[\p{L}\p{N}]{3}/u.test(value),
      'needs three letters or digits in a row (a trigram): a shorter text cannot use the index',
    );
