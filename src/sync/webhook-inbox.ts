/**
 * The webhook inbox (`sync_webhook_inbox`): an event Odoo announced is kept in PostgreSQL before
 * the API answers Odoo, and stays until a read has shown its change. Odoo sends an event once;
 * Redis replicates asynchronously and can lose a job it accepted; Odoo 17 and 18 post from inside
 * the transaction, which may commit seconds or minutes later, or roll back. So:
 *
 * - the API keeps the event ({@link keepWebhook}), then queues its job;
 * - a job answers for the events of its root (of its record, for a child whose root the rule did
 *   not send) kept up to its own ({@link pendingWebhooks}), and settles those its read showed
 *   ({@link settleWebhooks}): a stamped event once Odoo shows its record with that stamp or a
 *   later one, a deletion once Odoo confirms the root gone, an event without a stamp by the second
 *   read a few seconds after it. A job that did not see an event, or failed, leaves it; a run's
 *   page settles the stamped events of the records it read and copied, and the deletions of
 *   their children it no longer lists, the same way ({@link settleShownWebhooks}). An event of a
 *   child that moved to another root since moves with it ({@link rerootWebhooks}), due at once;
 * - an event not settled is due again ({@link takeUnsettledWebhooks}) a minute after it was
 *   queued, then two, four, eight… up to an hour: a job lost with Redis, a transaction that
 *   committed late. An event the API could not queue (Redis away when it came) is due at once
 *   ({@link markNotQueued}), and so is every event queued before a worker's Redis came back from a
 *   disconnection (a failover can lose what the old primary had not passed on);
 * - an event that is due again after {@link UNSEEN_AFTER_READS} reads that ran and did not show it
 *   (its transaction rolled back, or a stamp no version carries) is settled unseen
 *   ({@link settleUnseenWebhooks}): the caller logs it and counts it, and an alert says so. Only a
 *   read that ran counts ({@link noteUnseenReads}): with Odoo away or the webhook queue paused for
 *   hours, or Redis reconnecting again and again, the event is queued again (at most hourly) and
 *   waits for reads;
 * - the events of a family that no worker copies any more are settled unread a day after the last
 *   worker that copied it ({@link retireWebhooks}).
 *
 * A job queued twice reads the record twice: the writer's rule makes that harmless.
 */
import { and, asc, eq, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { syncWebhookInbox, type SyncWebhookInboxRow } from '../db/schema/index.js';
import { intArray, rowsOf, textArray } from '../db/sql-rows.js';

/** An event as the API received it: what its job needs. */
export interface InboxEvent {
  readonly family: string;
  readonly model: string;
  readonly recordId: number;
  readonly rootId?: number;
  readonly writeDate?: string;
  readonly deleted: boolean;
}

/** Which of its key's events a job answers for: those up to `throughId`. */
export interface InboxSettlement {
  readonly throughId: number;
  /** Events without a stamp too: the second read of such an event. */
  readonly unstamped: boolean;
}

/** An event kept, with its id and when the API received it. */
export interface KeptEvent extends InboxEvent {
  readonly id: number;
  readonly receivedAt: Date;
}

/** First wait before an unsettled event is queued again; it doubles each time, up to the last. */
const REQUEUE_FIRST_MS = 60_000;
const REQUEUE_LAST_MS = 3_600_000;

/**
 * Reads that did not show an event after which it is settled unseen, when it is due once more:
 * with Odoo answering, they came at about 0, 1, 3, 7 and 15 minutes, and it goes at 31, before
 * the alert on the inbox's oldest event (deploy/prometheus/) fires.
 */
export const UNSEEN_AFTER_READS = 5;

export async function keepWebhook(db: Db, event: InboxEvent): Promise<number> {
  const [row] = await db
    .insert(syncWebhookInbox)
    .values({
      family: event.family,
      model: event.model,
      recordId: event.recordId,
      rootId: event.rootId ?? null,
      writeDate: event.writeDate ?? null,
      deleted: event.deleted,
    })
    .returning({ id: syncWebhookInbox.id });
  return row!.id;
}

/** The events one job stands for: those of its root, or of its record when it has no root. */
function sameKey(event: InboxEvent): SQL {
  return and(
    eq(syncWebhookInbox.family, event.family),
    event.rootId !== undefined
      ? eq(syncWebhookInbox.rootId, event.rootId)
      : and(
          isNull(syncWebhookInbox.rootId),
          eq(syncWebhookInbox.model, event.model),
          eq(syncWebhookInbox.recordId, event.recordId),
        ),
  )!;
}

/** A row of the inbox as a job or a pass reads it. */
interface InboxRow {
  id: string | number;
  family: string;
  model: string;
  record_id: number;
  root_id: number | null;
  write_date: string | null;
  deleted: boolean;
  received_at: Date | string;
}

const keptEvent = (row: InboxRow): KeptEvent => ({
  id: Number(row.id),
  family: row.family,
  model: row.model,
  recordId: row.record_id,
  ...(row.root_id === null ? {} : { rootId: row.root_id }),
  ...(row.write_date === null ? {} : { writeDate: row.write_date }),
  deleted: row.deleted,
  receivedAt: row.received_at instanceof Date ? row.received_at : new Date(row.received_at),
});

/**
 * The events a job of `key` answers for, oldest first: those of its key kept up to `throughId`,
 * with a stamp or a deletion (and without a stamp too for the second read of such an event).
 */
export async function pendingWebhooks(
  db: Db,
  key: InboxEvent,
  settlement: InboxSettlement,
): Promise<KeptEvent[]> {
  const rows = await db
    .select()
    .from(syncWebhookInbox)
    .where(
      and(
        sameKey(key),
        lte(syncWebhookInbox.id, settlement.throughId),
        settlement.unstamped
          ? undefined
          : or(sql`${syncWebhookInbox.writeDate} is not null`, eq(syncWebhookInbox.deleted, true)),
      ),
    )
    .orderBy(asc(syncWebhookInbox.id));
  return rows.map((row) =>
    keptEvent({
      id: row.id,
      family: row.family,
      model: row.model,
      record_id: row.recordId,
      root_id: row.rootId,
      write_date: row.writeDate,
      deleted: row.deleted,
      received_at: row.receivedAt,
    }),
  );
}

/**
 * Deletes the events a read showed (see the module's header); how many. One array parameter,
 * however many events a root has (a statement takes at most 65,535 parameters).
 */
export async function settleWebhooks(db: Db, ids: readonly number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const settled = rowsOf<{ id: string }>(
    await db.execute(sql`
      delete from sync_webhook_inbox where id = any(${intArray(ids)}::bigint[]) returning id`),
  );
  return settled.length;
}

/** A record a read showed: its model, id, root and stamp as Odoo writes it (`2026-11-27 09:41:07`). */
export interface ShownRecord {
  readonly model: string;
  readonly id: number;
  readonly root: number;
  readonly stamp: string;
}

/** What a read showed: its roots, the child models it lists, and its records, built on demand. */
export interface ShownByRead {
  readonly roots: readonly number[];
  readonly childModels: readonly string[];
  /** The records shown (every child listed included) that `wanted` keeps. */
  records(wanted: (model: string, id: number) => boolean): ShownRecord[];
}

/**
 * Deletes the events a page's read showed, as a webhook job's read settles them (a run's page
 * read them too, so the inbox does not wait for a late-committed event's next requeue when a run
 * has shown its change): each stamped event of the records shown whose record the read showed
 * with that stamp or a later one, and each deletion of a child of `childModels` under one of
 * `roots` that the read no longer lists there. Read through `(family, root_id)`; how many.
 *
 * Most pages show no record an event waits for (a first copy, a run between webhooks): one look
 * at the inbox's events of the page's roots says so, and only the records those events name are
 * stamped and sent, instead of every record of the page.
 */
export async function settleShownWebhooks(
  db: Db,
  family: string,
  shown: ShownByRead,
): Promise<number> {
  if (shown.roots.length === 0) return 0;
  const held = rowsOf<{ model: string; record_id: number }>(
    await db.execute(sql`
      select distinct model, record_id from sync_webhook_inbox
      where family = ${family} and root_id = any(${intArray(shown.roots)}::int[])`),
  );
  if (held.length === 0) return 0;
  const named = new Map<string, Set<number>>();
  for (const { model, record_id: id } of held) {
    const ids = named.get(model) ?? new Set<number>();
    named.set(model, ids.add(id));
  }
  const records = shown.records((model, id) => named.get(model)?.has(id) === true);
  // The statement checks each event again. One of a record the look did not find (it came
  // since) is left to its own job: its record was not sent, so its deletion must not pass for a
  // child the read no longer lists.
  const [row] = rowsOf<{ settled: number }>(
    await db.execute(sql`
      with r as materialized (
        select * from jsonb_to_recordset(${JSON.stringify(records)}::jsonb)
          as r(model text, id integer, root integer, stamp text)
      ), stamped as (
        delete from sync_webhook_inbox i using r
        where i.family = ${family} and i.root_id = r.root and i.model = r.model
          and i.record_id = r.id and not i.deleted and i.write_date is not null
          and left(i.write_date, 19) <= r.stamp
        returning i.id
      ), unlisted as (
        delete from sync_webhook_inbox i
        where i.family = ${family} and i.root_id = any(${intArray(shown.roots)}::int[])
          and i.deleted and i.model = any(${textArray(shown.childModels)}::text[])
          and (i.model, i.record_id) in (
            select * from unnest(${textArray(held.map((event) => event.model))}::text[],
              ${intArray(held.map((event) => event.record_id))}::int[]))
          and not exists (
            select 1 from r where r.root = i.root_id and r.model = i.model and r.id = i.record_id)
        returning i.id
      )
      select ((select count(*) from stamped) + (select count(*) from unlisted))::int as settled`),
  );
  return row?.settled ?? 0;
}

/**
 * The events the inbox holds of these families (every family without them), oldest first, after
 * the event `afterId`; with how many it holds in all. Read through the primary key.
 */
export async function listHeldWebhooks(
  db: Db,
  page: { limit: number; families?: readonly string[]; afterId?: number },
): Promise<{ rows: SyncWebhookInboxRow[]; total: number }> {
  const inFamily =
    page.families === undefined
      ? undefined
      : sql`${syncWebhookInbox.family} = any(${textArray(page.families)}::text[])`;
  const after =
    page.afterId === undefined ? undefined : sql`${syncWebhookInbox.id} > ${page.afterId}`;
  const [rows, [count]] = await Promise.all([
    db
      .select()
      .from(syncWebhookInbox)
      .where(and(inFamily, after))
      .orderBy(asc(syncWebhookInbox.id))
      .limit(page.limit),
    db
      .select({ total: sql<number>`count(*)::int` })
      .from(syncWebhookInbox)
      .where(inFamily),
  ]);
  return { rows, total: count?.total ?? 0 };
}

/**
 * Moves events of a child to the root a read found it under now (it moved since they came), due
 * at once: only that root's read can show them, whether a job's or a run's page.
 */
export async function rerootWebhooks(
  db: Db,
  moved: readonly { readonly id: number; readonly root: number }[],
): Promise<void> {
  if (moved.length === 0) return;
  await db.execute(sql`
    update sync_webhook_inbox i set root_id = m.root, due_at = now()
    from jsonb_to_recordset(${JSON.stringify(moved)}::jsonb) as m(id bigint, root integer)
    where i.id = m.id`);
}

/** Counts a read that ran over these events and did not show them (see the module's header). */
export async function noteUnseenReads(db: Db, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.execute(sql`
    update sync_webhook_inbox set unseen_reads = least(unseen_reads + 1, 32767)
    where id = any(${intArray(ids)}::bigint[])`);
}

/** An event the API kept but could not queue: the next pass of a worker queues it. */
export async function markNotQueued(db: Db, id: number): Promise<void> {
  await db
    .update(syncWebhookInbox)
    .set({ dueAt: sql`now()` })
    .where(eq(syncWebhookInbox.id, id));
}

/**
 * Up to `limit` events of each of `families` due now and not given up yet, as `due_at` orders
 * them, read through `(family, due_at)`: a few index entries however large the inbox.
 */
const dueIds = (families: readonly string[], limit: number, givenUp: boolean) => sql`
  select d.id from unnest(${textArray(families)}::text[]) as f(family)
  cross join lateral (
    select i.id from sync_webhook_inbox i
    where i.family = f.family and i.due_at <= now()
      and ${givenUp ? sql`i.unseen_reads >= ${UNSEEN_AFTER_READS}` : sql`i.unseen_reads < ${UNSEEN_AFTER_READS}`}
    order by i.due_at
    limit ${limit}
    for update skip locked) d
  limit ${limit}`;

const RETURNED = sql`i.id::text as id, i.family, i.model, i.record_id, i.root_id, i.write_date,
  i.deleted, i.received_at`;

/**
 * Takes up to `limit` events of these families that are due to be queued again, and notes them
 * queued now, due again after twice the last wait: two workers never take the same one (`skip
 * locked`). With `queuedBefore`, every event last queued before it is due first, however recently
 * (its job may have been lost).
 */
export async function takeUnsettledWebhooks(
  db: Db,
  families: readonly string[],
  limit: number,
  queuedBefore?: Date,
): Promise<KeptEvent[]> {
  if (families.length === 0) return [];
  if (queuedBefore)
    await db.execute(sql`
      update sync_webhook_inbox set due_at = now()
      where family = any(${textArray(families)}::text[]) and due_at > now()
        and queued_at < ${queuedBefore.toISOString()}::timestamptz`);
  const rows = rowsOf<InboxRow>(
    await db.execute(sql`
      with due as (${dueIds(families, limit, false)})
      update sync_webhook_inbox i set queued_at = now(), requeues = i.requeues + 1,
        due_at = now() + least(${REQUEUE_FIRST_MS}::bigint << least(i.requeues + 1, 16),
          ${REQUEUE_LAST_MS}::bigint) * interval '1 millisecond'
      from due where i.id = due.id
      returning ${RETURNED}`),
  );
  return rows.map(keptEvent).sort((a, b) => a.id - b.id);
}

/**
 * Settles up to `limit` events of these families that are due again after
 * {@link UNSEEN_AFTER_READS} reads that did not show them. Returns them, for the log and the
 * metric.
 */
export async function settleUnseenWebhooks(
  db: Db,
  families: readonly string[],
  limit: number,
): Promise<KeptEvent[]> {
  if (families.length === 0) return [];
  const rows = rowsOf<InboxRow>(
    await db.execute(sql`
      delete from sync_webhook_inbox i where i.id in (${dueIds(families, limit, true)})
      returning ${RETURNED}`),
  );
  return rows.map(keptEvent).sort((a, b) => a.id - b.id);
}

/**
 * The families that have events in the inbox, each read from an index (a skip scan: one probe per
 * family, however many events each has).
 */
const INBOX_FAMILIES = sql`
  with recursive families(family) as (
    (select family from sync_webhook_inbox order by family limit 1)
    union all
    select (select i.family from sync_webhook_inbox i where i.family > f.family
      order by i.family limit 1)
    from families f where f.family is not null)`;

/** Events of a family settled unread: no worker copies it any more. */
export interface RetiredWebhooks {
  readonly family: string;
  readonly events: number;
}

/**
 * Settles, unread, the events of the families no worker has noted it copies (`sync_family_seen`)
 * for `retiredAfterMs`, and not copied here, that the API received more than `retiredAfterMs` ago:
 * the family left the deployment's declarations, and its events would wait for ever. A family a
 * worker copies, or copied within that time, keeps its events.
 */
export async function retireWebhooks(
  db: Db,
  copiedHere: readonly string[],
  retiredAfterMs: number,
): Promise<RetiredWebhooks[]> {
  const after = sql`${retiredAfterMs}::bigint * interval '1 millisecond'`;
  return rowsOf<RetiredWebhooks>(
    await db.execute(sql`
      ${INBOX_FAMILIES},
      retired as (
        select f.family from families f
        left join sync_family_seen s on s.family = f.family
        where f.family is not null and f.family <> all(${textArray(copiedHere)}::text[])
          and (s.seen_at is null or s.seen_at < now() - ${after})),
      gone as (
        delete from sync_webhook_inbox i using retired r
        where i.family = r.family and i.received_at < now() - ${after}
        returning i.family)
      select family, count(*)::int as events from gone group by family order by family`),
  );
}

/** A family's events kept and not settled yet, and the age of the oldest. */
export interface UnsettledWebhooks {
  readonly family: string;
  readonly events: number;
  readonly oldestSeconds: number;
}

/**
 * A family's events are counted up to this many in the metrics: past it, the count's cost (index
 * entries read every few seconds) would grow with a flood. The API's bound, per source, counts the
 * rest (ODOO_WEBHOOK_INBOX_MAX_EVENTS).
 */
const METRICS_COUNT_CAP = 1_000;

/**
 * Each family's events kept (up to {@link METRICS_COUNT_CAP}) and the age of its oldest, from the
 * inbox's indexes: the metrics read it every few seconds, whatever the inbox holds.
 */
export async function readUnsettledWebhooks(db: Db): Promise<UnsettledWebhooks[]> {
  const rows = rowsOf<{ family: string; events: number; oldest_seconds: number }>(
    await db.execute(sql`
      ${INBOX_FAMILIES}
      select f.family,
        (select count(*) from (select 1 from sync_webhook_inbox i where i.family = f.family
          limit ${METRICS_COUNT_CAP}) kept)::int as events,
        extract(epoch from now() - (select min(i.received_at) from sync_webhook_inbox i
          where i.family = f.family))::float8 as oldest_seconds
      from families f where f.family is not null order by f.family`),
  );
  return rows.map((row) => ({
    family: row.family,
    events: row.events,
    oldestSeconds: row.oldest_seconds,
  }));
}

/** How many events of these families are kept, counted up to `cap` (the API's bound). */
export async function countKeptWebhooks(
  db: Db,
  families: readonly string[],
  cap: number,
): Promise<number> {
  if (families.length === 0) return 0;
  const [row] = rowsOf<{ events: number }>(
    await db.execute(sql`
      select count(*)::int as events from (
        select 1 from sync_webhook_inbox
        where family = any(${textArray(families)}::text[]) limit ${cap}) kept`),
  );
  return row?.events ?? 0;
}
