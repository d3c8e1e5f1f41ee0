/**
 * Reading the change feed: the changes after a position, in position order, for every consumer
 * (the pull route, the stream, each subscription's deliveries).
 *
 * A read returns only changes whose `xid` is below its own snapshot's xmin: every transaction
 * below it has ended, committed or not, so every change below it that will ever exist is visible
 * now, and a change still to come lands at or above it. A consumer that has read up to a position
 * never later finds a change below it (docs/feed.md). A change committed while an older
 * transaction still runs is held back until that one ends.
 *
 * Filters (families, models) are applied to at most a bounded number of changes per read: a
 * consumer of a quiet family is never made to wait on a scan of every other family's changes,
 * and its position moves past what it skipped.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import type { AuditAction } from '../db/schema/index.js';
import { rowsOf, textArray } from '../db/sql-rows.js';
import { sourceOfKeySql } from '../sources/family-key.js';
import { FeedPositionGoneError } from './feed-errors.js';
import {
  comparePositions,
  FeedPositionError,
  laterPosition,
  positionOf,
  type FeedPosition,
} from './position.js';

/** One change the copy committed: a `sync_audit` row at its feed position. */
export interface FeedChange {
  readonly position: FeedPosition;
  /** The audit row's id: the change's stable identity (`chg_<id>`). */
  readonly auditId: number;
  readonly family: string;
  readonly model: string;
  readonly odooId: number;
  /** The root the record belongs to (itself for a root). */
  readonly rootOdooId: number | null;
  readonly action: AuditAction;
  readonly changedFields: readonly string[];
  /** The record's `write_date` in the copy after the change. */
  readonly odooWriteDate: Date | null;
  /** Why a record was written against its stamps (`drift`), or why it was archived. */
  readonly reason: string | null;
  readonly runId: number | null;
  readonly trigger: string | null;
  /** When the writing transaction started. */
  readonly at: Date;
}

export interface FeedFilter {
  /**
   * Only these sources' changes (undefined: every source's). A consumer that names none keeps to
   * the sources it was made for (docs/feed.md, "Whose records").
   */
  readonly sources?: readonly string[] | undefined;
  /** Only these families (empty: all, of the sources). */
  readonly families: readonly string[];
  /** Only these models (empty: all). */
  readonly models: readonly string[];
}

export const NO_FILTER: FeedFilter = { families: [], models: [] };

const isFiltered = (filter: FeedFilter) =>
  filter.sources !== undefined || filter.families.length > 0 || filter.models.length > 0;

/** Whether the audit row `a` passes `filter`. */
function passes(filter: FeedFilter): SQL {
  const sources =
    filter.sources === undefined
      ? sql`true`
      : sql`${sourceOfKeySql(sql`a.family`)} = any(${textArray(filter.sources)}::text[])`;
  return sql`${sources}
    and (cardinality(${textArray(filter.families)}::text[]) = 0 or a.family = any(${textArray(filter.families)}::text[]))
    and (cardinality(${textArray(filter.models)}::text[]) = 0 or a.model = any(${textArray(filter.models)}::text[]))`;
}

export interface FeedPage {
  readonly changes: FeedChange[];
  /** Where the next read starts: past every change returned and every change skipped. */
  readonly next: FeedPosition;
  /** Changes after `next` are committed but held back behind a transaction still running. */
  readonly heldBack: boolean;
  /** The head as the read's snapshot saw it. */
  readonly head: FeedPosition;
}

/** Changes looked at per read when a filter skips some: what one read may cost at most. */
const SCAN_PER_READ = 5_000;

interface ScannedRow {
  /** Null when nothing was scanned: the one row the joins still give. */
  xid: string | null;
  id: string;
  xmin: string;
  held_back: boolean;
  horizon_xid: string;
  horizon_id: string;
  family: string | null;
  model: string | null;
  odoo_id: number | null;
  root_odoo_id: number | null;
  action: AuditAction | null;
  changed_fields: string[] | null;
  odoo_write_date: Date | string | null;
  reason: string | null;
  run_id: string | null;
  trigger: string | null;
  created_at: Date | string | null;
}

const asDate = (value: Date | string) => (value instanceof Date ? value : new Date(value));

/**
 * The changes after `after` that pass `filter`, at most `limit`.
 * @throws FeedPositionGoneError when changes after `after` were pruned
 */
export async function readChanges(
  db: Db,
  after: FeedPosition,
  filter: FeedFilter,
  limit: number,
): Promise<FeedPage> {
  const scan = isFiltered(filter) ? Math.max(limit, SCAN_PER_READ) : limit;
  const afterXid = after.xid.toString();
  const afterId = after.id.toString();
  // One statement, one snapshot: the xmin, the rows below it and what is held back agree.
  const rows = rowsOf<ScannedRow>(
    await db.execute(sql`
      with snap as materialized (select pg_snapshot_xmin(pg_current_snapshot()) as xmin),
      scanned as (
        select f.xid, f.id from sync_feed f
        where (f.xid, f.id) > (${afterXid}::xid8, ${afterId}::bigint) and f.xid < (select xmin from snap)
        order by f.xid, f.id limit ${scan}),
      -- Where changes held back would start: after the position, and at or above the xmin.
      bound as materialized (
        select greatest(${afterXid}::xid8, xmin) as xid,
          case when ${afterXid}::xid8 >= xmin then ${afterId}::bigint else 0 end as id from snap),
      -- Bounds as plain values, the first row in index order: a range scan however it is planned.
      held as materialized (
        select (
          select true from sync_feed h
          where (h.xid, h.id) > ((select xid from bound), (select id from bound))
          order by h.xid, h.id limit 1) is not null as held_back)
      select s.xid::text as xid, s.id::text as id, snap.xmin::text as xmin, held.held_back,
        hz.xid::text as horizon_xid, hz.id::text as horizon_id,
        a.family, a.model, a.odoo_id, a.root_odoo_id, a.action, a.changed_fields, a.odoo_write_date,
        a.reason, a.run_id::text as run_id, a.trigger, a.created_at
      from snap
      cross join held
      cross join sync_feed_horizon hz
      left join scanned s on true
      -- Each change's audit row by its key, whatever the planner thinks of the table's size
      -- (its limit keeps it a lookup: flattened into a join, a generic plan scans the table).
      left join lateral (
        select * from sync_audit a where a.id = s.id and ${passes(filter)}
        limit 1
      ) a on true
      order by s.xid, s.id`),
  );
  const first = rows[0];
  if (!first) throw new Error('the feed has no horizon row: run the migrations');
  const horizon = positionOf(first.horizon_xid, first.horizon_id);
  const head = positionOf(first.xmin, 0);
  if (comparePositions(after, horizon) < 0) throw new FeedPositionGoneError(horizon, head);

  const changes: FeedChange[] = [];
  let last: FeedPosition | undefined;
  for (const row of rows) {
    if (row.xid === null) break; // nothing scanned: the one row of the left join
    last = positionOf(row.xid, row.id);
    if (row.family !== null && row.created_at !== null) {
      changes.push({
        position: last,
        auditId: Number(row.id),
        family: row.family,
        model: row.model!,
        odooId: row.odoo_id!,
        rootOdooId: row.root_odoo_id,
        action: row.action!,
        changedFields: row.changed_fields ?? [],
        odooWriteDate: row.odoo_write_date === null ? null : asDate(row.odoo_write_date),
        reason: row.reason,
        runId: row.run_id === null ? null : Number(row.run_id),
        trigger: row.trigger,
        at: asDate(row.created_at),
      });
      if (changes.length === limit) break;
    }
  }
  const scannedAll = first.xid === null || rows.length < scan;
  const next =
    changes.length === limit
      ? changes[changes.length - 1]!.position
      : // Every change below the head was looked at: the next one can only come at or after it.
        laterPosition(after, scannedAll ? laterPosition(last ?? after, head) : last!);
  return { changes, next, heldBack: first.held_back, head };
}

/** The position of everything committed up to now (a new consumer's start). */
export async function readHead(db: Db): Promise<FeedPosition> {
  const [row] = rowsOf<{ xmin: string }>(
    await db.execute(sql`select pg_snapshot_xmin(pg_current_snapshot())::text as xmin`),
  );
  return positionOf(row!.xmin, 0);
}

/**
 * Refuses a position past the head: the feed never gave one (its positions are changes below a
 * snapshot's xmin, or that xmin), and a reader holding one would wait, and skip every change
 * below it, for as long as transaction ids take to reach it. `seenHead` is the head of a read
 * that took the position, when there was one: a position at or before it needs no other look.
 * Past it, the position is judged against `primary`'s head: a replica's head lags the primary's,
 * and a reader of a lagging replica is never refused a position the primary gave.
 * @throws FeedPositionError when `after` is past the primary's head
 */
export async function refusePastHead(
  primary: Db,
  after: FeedPosition,
  seenHead?: FeedPosition,
): Promise<void> {
  if (seenHead && comparePositions(after, seenHead) <= 0) return;
  if (comparePositions(after, await readHead(primary)) > 0)
    throw new FeedPositionError("it is past the feed's head: the feed never gave it");
}

/** The oldest position the feed answers from: everything after it is kept. */
export async function readHorizon(db: Db): Promise<FeedPosition> {
  const [row] = rowsOf<{ xid: string; id: string }>(
    await db.execute(sql`select xid::text as xid, id::text as id from sync_feed_horizon`),
  );
  if (!row) throw new Error('the feed has no horizon row: run the migrations');
  return positionOf(row.xid, row.id);
}

/**
 * What is left to deliver after a position: the changes among the next `bound` of the feed that
 * pass the filter, and the oldest one's time. It looks at `bound` changes at most, whatever the
 * filter: a subscription to a family that is a sliver of the feed, far behind, would otherwise
 * scan the whole feed for each status read and each metrics scrape.
 */
export interface FeedBacklog {
  /** Changes that pass the filter among the next `bound` after the position. */
  readonly changes: number;
  /** Whether the feed holds more than `bound` changes after the position (some may pass). */
  readonly more: boolean;
  /**
   * The oldest change not received yet: the first that passes the filter, or when none of the
   * `bound` looked at does, the first looked at (its delivery has not moved past it yet).
   */
  readonly oldestAt: Date | null;
}

export async function readBacklog(
  db: Db,
  after: FeedPosition,
  filter: FeedFilter,
  bound = 10_000,
): Promise<FeedBacklog> {
  const [row] = rowsOf<{
    looked: number;
    n: number;
    oldest: Date | string | null;
    first: Date | string | null;
  }>(
    await db.execute(sql`
      with looked as (
        select f.id, f.created_at from sync_feed f
        where (f.xid, f.id) > (${after.xid.toString()}::xid8, ${after.id.toString()}::bigint)
        order by f.xid, f.id limit ${bound + 1})
      select count(*)::int as looked, count(*) filter (where m.passes)::int as n,
        min(l.created_at) filter (where m.passes) as oldest, min(l.created_at) as first
      from looked l
      cross join lateral (${
        isFiltered(filter)
          ? sql`select (${passes(filter)}) as passes from sync_audit a where a.id = l.id limit 1`
          : sql`select true as passes`
      }) m`),
  );
  const looked = row?.looked ?? 0;
  const more = looked > bound;
  const oldest = row?.oldest ?? (more ? row?.first : null) ?? null;
  return {
    changes: Math.min(row?.n ?? 0, bound),
    more,
    oldestAt: oldest ? asDate(oldest) : null,
  };
}
