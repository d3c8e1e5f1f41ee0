/**
 * Pages bounded in bytes as well as in records. A record's body is whole Odoo data (binaries a
 * family copies included): 200 of them can weigh gigabytes, which the API would hold twice (the
 * rows, then the answer) before sending a byte. PostgreSQL counts each body's bytes while it reads
 * the page and returns only the rows within the budget, so the API never receives more; a page
 * cut short by the budget carries the cursor to the rest. A page always holds one record at least:
 * paging never stalls. A record larger than half the budget comes with its largest values cut
 * (record-bodies.ts, fittedRecordJson), so that one is within the budget too.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/create-db.js';
import { rowsOf } from '../../db/sql-rows.js';
import { encodeCursor } from './cursors.js';
import { recordAllowance } from './record-bodies.js';

/**
 * What an answer holds besides its records: `{"items":[`, `],"nextCursor":`, a cursor (a sort
 * value of at most 512 characters, JSON-escaped, base64url-encoded) and the closing brace.
 */
export const PAGE_ENVELOPE_BYTES = 8_192;

/** A page of a list: its items as JSON text, and the cursor to the rest (json-text.ts writes it). */
export interface JsonPage {
  readonly itemsJson: string;
  readonly nextCursor: string | null;
}

/** The columns a bounded page gives back. */
export interface PageRow {
  readonly body: string;
  readonly odoo_id: number;
  /** The sort value as a cursor keeps it. */
  readonly sort_text: string;
}

/** A page of a list, as {@link boundedPageQuery} reads it within a budget of bytes. */
export interface PageQuery {
  /** The table, and the conditions of the page (filters, the cursor), if any. */
  readonly from: SQL;
  readonly where: SQL | undefined;
  /** A record's body as JSON text, within this many bytes (record-bodies.ts, fittedRecordJson). */
  readonly body: (allowanceBytes: number) => SQL;
  /**
   * A cheap estimate of the body's bytes, read without building it (the stored sizes of its
   * large columns): PostgreSQL builds the bodies of the rows the estimates leave within the
   * budget only, never those of a whole page of large records.
   */
  readonly sizeHint: SQL;
  /** What the list orders by, then by `odooId`; and the sort value as its cursor keeps it. */
  readonly sortKey: SQL;
  readonly sortText: SQL;
  readonly odooId: SQL;
  readonly descending: boolean;
  readonly limit: number;
  /** The sort's name, as its cursor carries it. */
  readonly sort: string;
  /** The cursor after a row; by default a list's (cursors.ts), of `sort_text` and `odoo_id`. */
  readonly cursorOf?: (row: PageRow) => string;
}

/**
 * A page's rows within a budget of bytes: in order, while their bodies (each counted with its
 * comma) fit in `maxBytes`, the first row whatever its size; and how many rows the page read
 * (`fetched`: `limit + 1` when there are more). Ordered as the page is, by the index it reads:
 * PostgreSQL sorts nothing.
 */
export function boundedPageQuery(query: PageQuery, maxBytes: number): SQL {
  const allowance = recordAllowance(maxBytes);
  // A body is cut to its allowance, whatever its stored size.
  const hint = sql`least((${query.sizeHint})::bigint, ${sql.raw(String(allowance))})`;
  const direction = sql.raw(query.descending ? 'desc' : 'asc');
  const order = sql`${query.sortKey} ${direction}, ${query.odooId} ${direction}`;
  const pageOrder = sql`page.sort_key ${direction}, page.odoo_id ${direction}`;
  return sql`
    select body, odoo_id, sort_text, fetched from (
      select page.*,
        count(*) over () as fetched,
        row_number() over counted as position,
        sum(octet_length(page.body) + 1) over counted as bytes_through
      from (
        select
          case when sum(${hint}) over hinted - ${hint} <= ${maxBytes}
            then ${query.body(allowance)} end as body,
          ${query.odooId} as odoo_id, ${query.sortText} as sort_text, ${query.sortKey} as sort_key
        from ${query.from}
        ${query.where ? sql`where ${query.where}` : sql``}
        window hinted as (order by ${order} rows between unbounded preceding and current row)
        order by ${order}
        limit ${query.limit + 1}
      ) as page
      window counted as (order by ${pageOrder} rows between unbounded preceding and current row)
    ) as counted
    where body is not null and (position = 1 or bytes_through <= ${maxBytes})
    order by sort_key ${direction}, odoo_id ${direction}`;
}

/** Runs a page query within a budget of bytes, and gives its items and its next cursor. */
export async function boundedPage(
  db: Pick<Db, 'execute'>,
  query: PageQuery,
  maxBytes: number,
): Promise<JsonPage> {
  const rows = rowsOf<PageRow & { fetched: number | string }>(
    await db.execute(boundedPageQuery(query, maxBytes)),
  );
  const fetched = Number(rows[0]?.fetched ?? 0);
  const items = rows.slice(0, query.limit);
  // More rows than the page holds, or fewer than PostgreSQL read: the budget cut the page.
  const more = rows.length > query.limit || rows.length < fetched;
  const last = items[items.length - 1];
  return {
    itemsJson: `[${items.map((row) => row.body).join(',')}]`,
    nextCursor:
      more && last
        ? (query.cursorOf?.(last) ??
          encodeCursor({ sort: query.sort, value: last.sort_text, id: last.odoo_id }))
        : null,
  };
}
