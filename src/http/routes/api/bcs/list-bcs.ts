/**
 * The BC list query: filters, a whitelisted sort, and keyset (cursor) pagination. The cursor
 * holds the last row's sort value and Odoo id, so pages never skip or repeat rows because others
 * were inserted or deleted meanwhile; sorted by `odooId` (the default), a row that a sync updates
 * between two pages still appears exactly once.
 */
import { and, eq, getTableName, gte, ilike, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../../../db/create-db.js';
import { scrapDimagazBc } from '../../../../families/bcs/tables.js';
import { indexKey } from '../../../../families/index-keys.js';
import { quoteIdentifier, textArray } from '../../../../db/sql-rows.js';
import { boundedPage, type PageQuery } from '../../../bounded-page.js';
import { decodeCursor, escapeLike } from '../../../cursors.js';
import { instant, trigramNeedle } from '../../../postgres-values.js';
import { bodySizeHint, isoInstant } from '../../../record-bodies.js';
import { bcsFamily } from '../../../../families/bcs/family.js';
import { bodyFields } from '../../../schemas/common.js';
import { bcColumnsJson, bcJson } from './bc-json.js';

/** The name's key in its sort index (index-keys.ts). */
const nameKey = sql.raw(
  indexKey('text', `${quoteIdentifier(getTableName(scrapDimagazBc))}.${quoteIdentifier('name')}`),
);

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
  // A name's key, its first characters (index-keys.ts), then the id: any name can be copied.
  name: {
    expr: nameKey,
    cast: 'text',
    text: nameKey,
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
    orderedFrom: instant({ dayAlone: true }).optional().describe('date_order ≥ this'),
    orderedTo: instant({ dayAlone: true }).optional().describe('date_order < this'),
    updatedSince: instant({ dayAlone: false }).optional().describe('Odoo write_date ≥ this'),
    q: trigramNeedle(100)
      .optional()
      .describe(
        'text contained in the name or the origin: three letters or digits in a row at least',
      ),
    active: bool.optional().describe('Odoo active flag'),
    includeArchived: bool.default(false).describe('include BCs that vanished from Odoo'),
    sort: z
      .enum(sortValues)
      .default('odooId')
      .describe(`one of ${SORT_FIELDS.join(', ')}; prefix - for descending`),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    // Long enough for the cursor of a name of a few thousand characters.
    cursor: z.string().max(8_192).optional().describe('nextCursor of the previous page'),
    fields: bodyFields,
  })
  .strict();

export type ListQuery = z.infer<typeof listQuery>;

/** The list's page query, unrun (its plan is checked against the indexes in the tests). */
export function listBcsQuery(query: ListQuery): PageQuery {
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

  return {
    from: sql`${scrapDimagazBc}`,
    where: and(...where),
    body: query.fields === 'columns' ? bcColumnsJson : bcJson,
    sizeHint: bodySizeHint(bcsFamily.root, query.fields),
    sortKey: expr,
    sortText: text,
    odooId: sql`${scrapDimagazBc.odooId}`,
    descending,
    limit: query.limit,
    sort: query.sort,
  };
}

/**
 * A page of the list within `maxBytes` (bounded-page.ts): its items as JSON text, and the cursor
 * to the next page.
 */
export function listBcs(
  db: Db,
  query: ListQuery,
  maxBytes: number,
): Promise<{ itemsJson: string; nextCursor: string | null }> {
  return boundedPage(db, listBcsQuery(query), maxBytes);
}
