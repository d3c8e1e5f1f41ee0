/**
 * The BC and line bodies (the shapes `bcSchema` and `bcLineSchema` describe), built by PostgreSQL
 * as JSON text and sent as they come. The BC routes answer pages of 50 to 200 rows: mapping every
 * column of every row into JS values (dates parsed, then printed again), validating the body
 * against its schema and serialising it cost the API several times the query's own CPU; a
 * CPU profile under load had them at a third of the process.
 *
 * Each value keeps the form the API has always answered with: amounts as decimal strings (the
 * numeric's own text), instants as `Date#toISOString()` would write them (UTC, milliseconds),
 * references as `{id, name}` or null, and `data` as stored.
 */
import { sql, type SQL } from 'drizzle-orm';
import { PgDialect, type AnyPgColumn } from 'drizzle-orm/pg-core';
import { scrapDimagazBc as bc, scrapDimagazBcLine as line } from '../../../../db/schema/index.js';

/** An instant as `Date#toISOString()` writes it: `2026-01-31T08:00:00.000Z`. */
export const isoInstant = (column: AnyPgColumn | SQL): SQL =>
  sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const reference = (id: AnyPgColumn, name: AnyPgColumn): SQL =>
  sql`case when ${id} is null then null else json_build_object('id', ${id}, 'name', ${name}) end`;

/**
 * A fragment rendered to SQL text once: drizzle otherwise walks these thirty-odd chunks again on
 * every request. They hold no parameters, only column names and literals.
 */
const prerendered = (fragment: SQL): SQL<string> =>
  sql.raw(new PgDialect().sqlToQuery(fragment).sql) as SQL<string>;

/** One BC's body as JSON text. */
export const bcJson = prerendered(sql`json_build_object(
  'odooId', ${bc.odooId},
  'name', ${bc.name},
  'state', ${bc.state},
  'partner', ${reference(bc.partnerId, bc.partnerName)},
  'dateOrder', ${isoInstant(bc.dateOrder)},
  'datePlanned', ${isoInstant(bc.datePlanned)},
  'amountUntaxed', ${bc.amountUntaxed}::text,
  'amountTax', ${bc.amountTax}::text,
  'amountTotal', ${bc.amountTotal}::text,
  'currency', ${reference(bc.currencyId, bc.currencyName)},
  'companyId', ${bc.companyId},
  'origin', ${bc.origin},
  'active', ${bc.active},
  'archivedAt', ${isoInstant(bc.archivedAt)},
  'archiveReason', ${bc.archiveReason},
  'odooWriteDate', ${isoInstant(bc.odooWriteDate)},
  'syncedAt', ${isoInstant(bc.syncedAt)},
  'data', ${bc.data})::text`);

/** One line's body as JSON text. */
export const lineJson = prerendered(sql`json_build_object(
  'odooId', ${line.odooId},
  'bcOdooId', ${line.bcOdooId},
  'sequence', ${line.sequence},
  'product', ${reference(line.productId, line.productName)},
  'name', ${line.name},
  'productQty', ${line.productQty}::text,
  'qtyReceived', ${line.qtyReceived}::text,
  'priceUnit', ${line.priceUnit}::text,
  'priceSubtotal', ${line.priceSubtotal}::text,
  'odooWriteDate', ${isoInstant(line.odooWriteDate)},
  'syncedAt', ${isoInstant(line.syncedAt)},
  'data', ${line.data})::text`);

/** `[a,b,…]` from JSON texts. */
export const jsonArray = (items: readonly string[]): string => `[${items.join(',')}]`;

/** Lines without a sequence come last, as PostgreSQL sorts nulls. */
export const lineOrder = sql`coalesce(${line.sequence}, 2147483647)`;

/**
 * What a BC detail adds to the BC's object, as JSON text: `,"lines":[…],"linesNextCursor":…`,
 * its first `limit` lines in `lineOrder` and the lines route's cursor (`<sequence>_<odooId>` of
 * the last one) when there are more. A subquery of the BC's own select, so a detail is one round
 * trip to PostgreSQL, not two. Prerendered: in a select list drizzle would leave the columns
 * unqualified, and the correlation to the outer BC would silently compare a line to itself.
 */
export const detailLinesJson = (limit: number): SQL<string> =>
  prerendered(sql`(
  select ',"lines":[' || coalesce(string_agg(page.body, ',' order by page.rank)
      filter (where page.rank <= ${sql.raw(String(limit))}), '')
    || '],"linesNextCursor":'
    || case when count(*) > ${sql.raw(String(limit))}
      then to_json(max(page.cursor) filter (where page.rank = ${sql.raw(String(limit))}))::text
      else 'null' end
  from (
    select ${lineJson} as body,
      ${lineOrder}::text || '_' || ${line.odooId} as cursor,
      row_number() over (order by ${lineOrder}, ${line.odooId}) as rank
    from ${line}
    where ${line.bcOdooId} = ${bc.odooId}
    order by ${lineOrder}, ${line.odooId}
    limit ${sql.raw(String(limit + 1))}
  ) as page)`);
