/**
 * One record of a copied model, as the read API answers it (`/api/models/{model}/records/{id}`,
 * and `/api/bcs/{id}` with its own keys): the record's body, the first page of each of its child
 * models and of each of its link lists, read in one round trip to PostgreSQL (each page a lateral
 * subquery of the record's select); a page of a root's children in Odoo's order; a page of a link
 * list (the history is record-history.ts). Pages are bounded in bytes as lists are (bounded-page.ts): the child
 * pages share what the record's own body leaves of the budget, and the bodies of children past it
 * by their stored sizes are never built.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/create-db.js';
import { rowsOf } from '../../db/sql-rows.js';
import {
  isChild,
  type ChildModel,
  type LinkTable,
  type ModelDeclaration,
} from '../../families/family.js';
import type { JsonPage, PageQuery } from './bounded-page.js';
import { encodeCursor } from './cursors.js';
import { HttpError } from '../http-error.js';
import {
  bodySizeHint,
  fittedRecordJson,
  prerendered,
  recordAllowance,
  tableColumn,
  type BodyFields,
} from './record-bodies.js';
import { linkTableSql, tableSql } from '../../families/table-names.js';

/**
 * The order of a root's children on a page: by Odoo id, or in Odoo's own order (the child's
 * `order` field, empty last, then the id; the id's when it has none).
 */
export type ChildOrder = 'id' | 'odoo';

/** Where a child stands in Odoo's order: past the largest integer when its field is empty. */
function placeOf(child: ChildModel, order: ChildOrder): SQL | undefined {
  return order === 'odoo' && child.order !== undefined
    ? sql`coalesce(${tableColumn(child, child.order)}, 2147483647)`
    : undefined;
}

/** A cursor in Odoo's order: `<place>_<odooId>` of the last child of a page. */
const ODOO_ORDER_CURSOR = /^(-?\d{1,10})_(\d{1,10})$/;

/** The cursor after a child of a page: the place and id it was read at. */
function childCursor(order: ChildOrder, place: string | null, odooId: number): string {
  return order === 'odoo' && place !== null
    ? `${place}_${odooId}`
    : encodeCursor({ sort: 'odooId', value: String(odooId), id: odooId });
}

/**
 * A page of a root's children in Odoo's order after a cursor it gave, for a select of its own
 * (`/api/bcs/{id}/lines`); the first page is the detail's.
 * @throws HttpError 400 `BAD_CURSOR` for a cursor this order never gave
 */
export function childPageQuery(
  child: ChildModel,
  rootId: number,
  page: { limit: number; after?: string; fields: BodyFields },
): PageQuery {
  const odooId = tableColumn(child, 'odoo_id');
  const place = placeOf(child, 'odoo') ?? odooId;
  const where = [sql`${tableColumn(child, child.parentColumn)} = ${rootId}`];
  if (page.after) {
    const match = ODOO_ORDER_CURSOR.exec(page.after);
    const [at, id] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
    if (!Number.isSafeInteger(at) || Math.abs(at) > 2_147_483_647 || id > 2_147_483_647)
      throw new HttpError(400, 'BAD_CURSOR', 'after is not a cursor this endpoint gave');
    where.push(sql`(${place}, ${odooId}) > (${at}, ${id})`);
  }
  return {
    from: tableSql(child.table),
    where: sql.join(where, sql` and `),
    body: (allowance) => fittedRecordJson(child, page.fields, String(allowance)),
    sizeHint: bodySizeHint(child, page.fields),
    sortKey: place,
    sortText: sql`${place}::text`,
    odooId,
    descending: false,
    limit: page.limit,
    sort: 'odoo',
    cursorOf: (row) => childCursor('odoo', row.sort_text, row.odoo_id),
  };
}

/** What a detail holds of one child model: its first children, in an order. */
export interface ChildPageSpec {
  readonly child: ChildModel;
  readonly order: ChildOrder;
  readonly limit: number;
}

/** A detail's request: its child pages and their share of the bytes, its link pages. */
export interface DetailRequest {
  readonly includeArchived: boolean;
  readonly fields: BodyFields;
  readonly children: readonly ChildPageSpec[];
  /** What each child page takes besides its items: its own keys and cursor. */
  readonly pageEnvelopeBytes: number;
  /** Targets of each link list a detail holds. */
  readonly linkLimit: number;
}

/** A page of a link list: target ids in Odoo's order; the cursor is the last one's position. */
export interface LinkPage {
  readonly items: number[];
  readonly nextCursor: string | null;
}

/** One record with the first page of each of its children and links. */
export interface Detail {
  readonly body: string;
  readonly children: readonly JsonPage[];
  readonly links: readonly LinkPage[];
}

/**
 * The first page of a child model under the root being read, as a lateral subquery: its items,
 * whether there are more, and where the last one stands. As in a list (bounded-page.ts), only the
 * bodies within the budget by their stored sizes are built. Prerendered: its columns stay
 * qualified, so the correlation to the root cannot compare a child with itself.
 */
function childPageLateral(
  root: ModelDeclaration,
  spec: ChildPageSpec,
  fields: BodyFields,
  /** What the page may hold, in bytes: a SQL expression of the record being read. */
  budget: string,
): SQL {
  const { child, limit } = spec;
  const odooId = tableColumn(child, 'odoo_id');
  const place = placeOf(child, spec.order);
  const order = place ? sql`${place}, ${odooId}` : odooId;
  // A child's body is cut to its page's share (fittedRecordJson), whatever its stored size.
  const share = sql.raw(budget);
  const hint = sql`least((${bodySizeHint(child, fields)})::bigint, ${share})`;
  return prerendered(sql`(
  select '[' || coalesce(string_agg(page.body, ',' order by page.rank) filter (where page.kept), '')
      || ']' as items,
    count(*) > count(*) filter (where page.kept) as more,
    max(array[page.rank, page.place, page.odoo_id]) filter (where page.kept) as last
  from (
    select ranked.body, ranked.rank, ranked.place, ranked.odoo_id,
      ranked.body is not null and ranked.rank <= ${sql.raw(String(limit))}
        and (ranked.rank = 1 or sum(octet_length(ranked.body) + 1)
          over (order by ranked.rank rows unbounded preceding) <= ${share}) as kept
    from (
      select case when sum(${hint}) over children - ${hint} <= ${share}
          then ${fittedRecordJson(child, fields, budget)} end as body,
        ${place ? sql`${place}::int` : sql`null::int`} as place,
        ${odooId} as odoo_id,
        (row_number() over children)::int as rank
      from ${tableSql(child.table)}
      where ${tableColumn(child, child.parentColumn)} = ${tableColumn(root, 'odoo_id')}
      window children as (order by ${order} rows unbounded preceding)
      order by ${order}
      limit ${sql.raw(String(limit + 1))}
    ) as ranked
  ) as page)`);
}

/** The first targets of a link list of the record being read, as a lateral subquery. */
function linkPageLateral(model: ModelDeclaration, link: LinkTable, limit: number): SQL {
  return prerendered(sql`(
  select coalesce(array_agg(target_id order by position) filter (where rank <= ${sql.raw(String(limit))}), '{}') as items,
    count(*) > ${sql.raw(String(limit))} as more,
    max(position) filter (where rank <= ${sql.raw(String(limit))}) as last_position
  from (
    select target_id, position, row_number() over (order by position) as rank
    from ${linkTableSql(link)}
    where owner_id = ${tableColumn(model, 'odoo_id')}
    order by position limit ${sql.raw(String(limit + 1))}
  ) as targets)`);
}

interface DetailRow {
  readonly body: string;
  readonly [page: string]: unknown;
}

/**
 * One record with the first page of each child model and link list the request names, in one
 * round trip, the record's body and its child pages within `maxBytes` together; undefined when
 * there is no such record (a root gone from Odoo unless asked for).
 */
export async function readDetail(
  db: Pick<Db, 'execute'>,
  model: ModelDeclaration,
  odooId: number,
  request: DetailRequest & { readonly maxBytes: number },
): Promise<Detail | undefined> {
  const { fields, children, maxBytes } = request;
  // The child pages share what the record's body leaves of the bytes (one child at least each).
  const share = `greatest(1, (${maxBytes} - octet_length(built.body)) / ${Math.max(1, children.length)} - ${request.pageEnvelopeBytes})`;
  const budget = 'record.budget';
  const laterals = [
    // The record's body, built once: without `offset 0` PostgreSQL inlines the subquery, and
    // builds the body again wherever the budget is read, once per child row.
    sql`cross join lateral (select built.body, ${sql.raw(share)} as budget
      from (select ${fittedRecordJson(model, fields, String(recordAllowance(maxBytes)))} as body
        offset 0) as built) as record`,
    ...children.map(
      (spec, i) =>
        sql`left join lateral ${childPageLateral(model, spec, fields, budget)} as ${sql.raw(`c${i}`)} on true`,
    ),
    ...model.links.map(
      (link, i) =>
        sql`left join lateral ${linkPageLateral(model, link, request.linkLimit)} as ${sql.raw(`l${i}`)} on true`,
    ),
  ];
  const columns = [
    sql`record.body`,
    ...children.map((_, i) =>
      sql.raw(`c${i}.items as c${i}_items, c${i}.more as c${i}_more, c${i}.last as c${i}_last`),
    ),
    ...model.links.map((_, i) =>
      sql.raw(
        `l${i}.items as l${i}_items, l${i}.more as l${i}_more, l${i}.last_position as l${i}_last`,
      ),
    ),
  ];
  const archived =
    isChild(model) || request.includeArchived
      ? sql``
      : sql`and ${tableColumn(model, 'archived_at')} is null`;
  const [row] = rowsOf<DetailRow>(
    await db.execute(sql`
      select ${sql.join(columns, sql`, `)}
      from ${tableSql(model.table)} ${sql.join(laterals, sql` `)}
      where ${tableColumn(model, 'odoo_id')} = ${odooId} ${archived}`),
  );
  if (!row) return undefined;
  return {
    body: row.body,
    children: children.map((spec, i) => {
      // The last child kept, [its rank, its place, its id]; null when none.
      const last = row[`c${i}_last`] as [number, number | null, number] | null;
      return {
        itemsJson: row[`c${i}_items`] as string,
        nextCursor:
          row[`c${i}_more`] === true && last
            ? childCursor(spec.order, last[1] === null ? null : String(last[1]), last[2])
            : null,
      };
    }),
    links: model.links.map((_, i) => ({
      items: (row[`l${i}_items`] as number[]).map(Number),
      nextCursor: row[`l${i}_more`] === true ? String(row[`l${i}_last`] as number) : null,
    })),
  };
}

/**
 * Whether a record is there, and a child's root; undefined when there is no such record (a root
 * gone from Odoo unless asked for).
 */
export async function findRecord(
  db: Pick<Db, 'execute'>,
  model: ModelDeclaration,
  odooId: number,
  includeArchived = false,
): Promise<{ parent: number | null } | undefined> {
  return rowsOf<{ parent: number | null }>(
    await db.execute(sql`
      select ${isChild(model) ? tableColumn(model, model.parentColumn) : sql`null::int`} as parent
      from ${tableSql(model.table)} where ${tableColumn(model, 'odoo_id')} = ${odooId}
      ${isChild(model) || includeArchived ? sql`` : sql`and ${tableColumn(model, 'archived_at')} is null`}`),
  )[0];
}

/** A page of a record's link list in Odoo's order. */
export async function readLinkPage(
  db: Pick<Db, 'execute'>,
  link: LinkTable,
  owner: number,
  limit: number,
  after: number | undefined,
): Promise<LinkPage> {
  const rows = rowsOf<{ position: number; target_id: number }>(
    await db.execute(sql`
      select position, target_id from ${linkTableSql(link)}
      where owner_id = ${owner} and position > ${after ?? 0}
      order by position limit ${limit + 1}`),
  );
  const items = rows.slice(0, limit);
  return {
    items: items.map((row) => row.target_id),
    nextCursor: rows.length > limit ? String(items[items.length - 1]!.position) : null,
  };
}
