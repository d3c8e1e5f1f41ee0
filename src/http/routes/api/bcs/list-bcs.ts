/**
 * The BC list query: filters, a whitelisted sort, and keyset (cursor) pagination. The cursor
 * holds the last row's sort value and Odoo id, so pages never skip or repeat rows because others
 * were inserted or deleted meanwhile; sorted by `odooId` (the default), a row that a sync updates
 * between two pages still appears exactly once.
 */
import { and, asc, desc, eq, gte, ilike, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../../../db/create-db.js';
import { scrapDimagazBc } from '../../../../families/bcs/tables.js';
import { textArray } from '../../../../db/sql-rows.js';
import { HttpError } from '../../../http-error.js';
import { isoInstant } from '../../../record-bodies.js';
import { bcJson, jsonArray } from './bc-json.js';

/**
 * Sortable fields, each with a never-null expression (nulls sort first ascending), and the text a
 * cursor keeps of it (cast back with `cast` when the next page compares).
 */
const SORTS = {
  odooId: {
    expr: sql`${scrapDimagazBc.odooId}`,
    cast: 'int',
    text: sql`${scrapDimagazBc.odooId}::text`,
  },
  name: {
    expr: sql`coalesce(${scrapDimagazBc.name}, '')`,
    cast: 'text',
    text: sql`coalesce(${scrapDimagazBc.name}, '')`,
  },
  dateOrder: {
    expr: sql`coalesce(${scrapDimagazBc.dateOrder}, '-infinity'::timestamptz)`,
    cast: 'timestamptz',
    text: sql`coalesce(${isoInstant(scrapDimagazBc.dateOrder)}, '-infinity')`,
  },
  amountTotal: {
    expr: sql`coalesce(${scrapDimagazBc.amountTotal}, '-Infinity'::numeric)`,
    cast: 'numeric',
    text: sql`coalesce(${scrapDimagazBc.amountTotal}::text, '-Infinity')`,
  },
  odooWriteDate: {
    expr: sql`${scrapDimagazBc.odooWriteDate}`,
    cast: 'timestamptz',
    text: isoInstant(scrapDimagazBc.odooWriteDate),
  },
} as const;
export type SortField = keyof typeof SORTS;
export const SORT_FIELDS = Object.keys(SORTS) as SortField[];

const sortValues = [...SORT_FIELDS, ...SORT_FIELDS.map((field) => `-${field}`)] as [
  string,
  ...string[],
];

const bool = z.enum(['true', 'false']).transform((value) => value === 'true');

export const listQuery = z
  .object({
    state: z
      .string()
      .max(200)
      .regex(/^[a-z_ ]+(,[a-z_ ]+)*$/, 'a comma-separated list of states')
      .optional()
      .describe('comma-separated states, e.g. purchase,done'),
    partnerId: z.coerce.number().int().positive().max(2_147_483_647).optional(),
    orderedFrom: z.iso
      .datetime({ offset: true })
      .or(z.iso.date())
      .optional()
      .describe('date_order ≥ this'),
    orderedTo: z.iso
      .datetime({ offset: true })
      .or(z.iso.date())
      .optional()
      .describe('date_order < this'),
    updatedSince: z.iso.datetime({ offset: true }).optional().describe('Odoo write_date ≥ this'),
    q: z.string().min(1).max(100).optional().describe('text contained in the name or the origin'),
    active: bool.optional().describe('Odoo active flag'),
    includeArchived: bool.default(false).describe('include BCs that vanished from Odoo'),
    sort: z
      .enum(sortValues)
      .default('odooId')
      .describe(`one of ${SORT_FIELDS.join(', ')}; prefix - for descending`),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    // Long enough for the cursor of a name of a few thousand characters.
    cursor: z.string().max(8_192).optional().describe('nextCursor of the previous page'),
  })
  .strict();

export type ListQuery = z.infer<typeof listQuery>;

interface Cursor {
  sort: string;
  value: string;
  id: number;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.sort, cursor.value, cursor.id])).toString('base64url');
}

type Cast = (typeof SORTS)[SortField]['cast'];

const isInt4 = (n: number) => Number.isSafeInteger(n) && n >= -2_147_483_648 && n <= 2_147_483_647;

const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** PostgreSQL's timestamptz ends in 294276 AD; a cursor's instants start at year 1. */
const LAST_YEAR = 294_276;
// What isoInstant writes: to_char's YYYY is four digits, more for years past 9999.
const INSTANT = /^(\d{4}|[1-9]\d{4,5})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{3}Z$/;

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
  if (year < 1 || year > LAST_YEAR || month < 1 || month > 12 || day < 1) return false;
  const days = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  return day <= days && hour <= 23 && minute <= 59 && second <= 59;
}

/**
 * Whether PostgreSQL takes a cursor value in its cast, so a forged cursor is a 400, never a SQL
 * error: each check is what the cast itself would refuse (range, calendar, encoding), and each
 * accepts every value the list writes into a cursor.
 */
const ACCEPTS: Record<Cast, (value: string) => boolean> = {
  int: (value) => /^-?\d{1,10}$/.test(value) && isInt4(Number(value)),
  // PostgreSQL text holds no NUL, and UTF-8 no lone surrogate.
  // (`\p{Cs}` with the u flag matches a surrogate only when it is not half of a pair.)
  text: (value) => !value.includes('\u0000') && !/\p{Cs}/u.test(value),
  timestamptz: (value) => value === 'infinity' || value === '-infinity' || isInstant(value),
  // numeric::text never has an exponent; three digits of one stay far inside numeric's range.
  numeric: (value) => /^(?:NaN|-?Infinity|-?\d+(?:\.\d+)?(?:e[+-]?\d{1,3})?)$/.test(value),
};

function decodeCursor(text: string, sort: string, cast: Cast): Cursor {
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

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The list's query, unrun (its plan is checked against the indexes in the tests). */
export function listBcsQuery(db: Db, query: ListQuery) {
  const descending = query.sort.startsWith('-');
  const field = (descending ? query.sort.slice(1) : query.sort) as SortField;
  const { expr, cast, text } = SORTS[field];

  const where: (SQL | undefined)[] = [];
  if (!query.includeArchived) where.push(isNull(scrapDimagazBc.archivedAt));
  // One array parameter, whatever the number of states: the statement's text stays the same.
  if (query.state)
    where.push(
      sql`${scrapDimagazBc.state} = any(${textArray(query.state.split(',').map((s) => s.trim()))}::text[])`,
    );
  if (query.partnerId !== undefined) where.push(eq(scrapDimagazBc.partnerId, query.partnerId));
  if (query.orderedFrom) where.push(gte(scrapDimagazBc.dateOrder, new Date(query.orderedFrom)));
  if (query.orderedTo) where.push(lt(scrapDimagazBc.dateOrder, new Date(query.orderedTo)));
  if (query.updatedSince)
    where.push(gte(scrapDimagazBc.odooWriteDate, new Date(query.updatedSince)));
  if (query.active !== undefined) where.push(eq(scrapDimagazBc.active, query.active));
  if (query.q) {
    const pattern = `%${escapeLike(query.q)}%`;
    where.push(or(ilike(scrapDimagazBc.name, pattern), ilike(scrapDimagazBc.origin, pattern)));
  }
  if (query.cursor) {
    const cursor = decodeCursor(query.cursor, query.sort, cast);
    const value = sql`${cursor.value}::${sql.raw(cast)}`;
    where.push(
      descending
        ? sql`(${expr}, ${scrapDimagazBc.odooId}) < (${value}, ${cursor.id})`
        : sql`(${expr}, ${scrapDimagazBc.odooId}) > (${value}, ${cursor.id})`,
    );
  }

  const order = descending
    ? [desc(expr), desc(scrapDimagazBc.odooId)]
    : [asc(expr), asc(scrapDimagazBc.odooId)];
  return db
    .select({ body: bcJson, odooId: scrapDimagazBc.odooId, sortText: sql<string>`${text}` })
    .from(scrapDimagazBc)
    .where(and(...where))
    .orderBy(...order)
    .limit(query.limit + 1);
}

/** A page of the list: its items as JSON text, and the cursor to the next page. */
export async function listBcs(
  db: Db,
  query: ListQuery,
): Promise<{ itemsJson: string; nextCursor: string | null }> {
  const rows = await listBcsQuery(db, query);
  const hasMore = rows.length > query.limit;
  const page = hasMore ? rows.slice(0, query.limit) : rows;
  const last = page[page.length - 1];
  return {
    itemsJson: jsonArray(page.map((row) => row.body)),
    nextCursor:
      hasMore && last
        ? encodeCursor({ sort: query.sort, value: last.sortText, id: last.odooId })
        : null,
  };
}
