/**
 * The webhook inbox (`sync_webhook_inbox`): an event Odoo announced is kept in PostgreSQL before
 * the API answers Odoo, and stays until a job has written the record it names. Odoo sends an event
 * once; Redis replicates asynchronously and can lose a job it accepted. So:
 *
 * - the API keeps the event ({@link keepWebhook}), then queues its job as before;
 * - the job that reads the record settles what it covered ({@link settleWebhooks}): the events of
 *   its root (or of its record, for a child whose root the rule did not send) up to its own. A
 *   job with a stamp (or a deletion) settles the events with a stamp or a deletion: it waited for
 *   the stamp it was given, not for the transactions of events that gave none. The second read of
 *   an event without a stamp, a few seconds later, settles every event up to its own;
 * - a job that fails for good settles as well: its root's failure is recorded in `sync_failure`,
 *   and the next run retries it;
 * - a worker queues again each event that no job settled a minute after it was last queued
 *   ({@link takeUnsettledWebhooks}), then after two, four… up to an hour: a job lost with Redis.
 *   An event the API could not queue (Redis away when it came) is due at once
 *   ({@link markNotQueued}), and so is every event queued before a worker's Redis came back from
 *   a disconnection (a failover can lose what the old primary had not passed on).
 *
 * A job queued twice reads the record twice: the writer's rule makes that harmless.
 */
import { and, eq, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { syncWebhookInbox } from '../db/schema/index.js';
import { rowsOf, textArray } from '../db/sql-rows.js';

/** An event as the API received it: what its job needs. */
export interface InboxEvent {
  readonly family: string;
  readonly model: string;
  readonly recordId: number;
  readonly rootId?: number;
  readonly writeDate?: string;
  readonly deleted: boolean;
}

/** What a job settles when it has written its record: the events of its key up to `throughId`. */
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

/** Deletes the events a job has covered (see the module's header); how many. */
export async function settleWebhooks(
  db: Db,
  event: InboxEvent,
  settlement: InboxSettlement,
): Promise<number> {
  const settled = await db
    .delete(syncWebhookInbox)
    .where(
      and(
        sameKey(event),
        lte(syncWebhookInbox.id, settlement.throughId),
        settlement.unstamped
          ? undefined
          : or(sql`${syncWebhookInbox.writeDate} is not null`, eq(syncWebhookInbox.deleted, true)),
      ),
    )
    .returning({ id: syncWebhookInbox.id });
  return settled.length;
}

/** An event the API kept but could not queue: the next pass of a worker queues it. */
export async function markNotQueued(db: Db, id: number): Promise<void> {
  await db
    .update(syncWebhookInbox)
    .set({ queuedAt: new Date(0) })
    .where(eq(syncWebhookInbox.id, id));
}

/**
 * Takes up to `limit` events of these families that are due to be queued again, and notes them
 * queued now: two workers never take the same one (`skip locked`). With `queuedBefore`, every
 * event last queued before it is due, however recently (its job may have been lost).
 */
export async function takeUnsettledWebhooks(
  db: Db,
  families: readonly string[],
  limit: number,
  queuedBefore?: Date,
): Promise<KeptEvent[]> {
  if (families.length === 0) return [];
  const rows = rowsOf<{
    id: string;
    family: string;
    model: string;
    record_id: number;
    root_id: number | null;
    write_date: string | null;
    deleted: boolean;
    received_at: Date | string;
  }>(
    await db.execute(sql`
      with due as (
        select id from sync_webhook_inbox
        where family = any(${textArray(families)}::text[])
          and (queued_at < now() - least(
            ${REQUEUE_FIRST_MS}::bigint << least(requeues, 16), ${REQUEUE_LAST_MS}::bigint)
            * interval '1 millisecond'
            or queued_at < ${queuedBefore?.toISOString() ?? null}::timestamptz)
        order by id
        limit ${limit}
        for update skip locked)
      update sync_webhook_inbox i set queued_at = now(), requeues = least(i.requeues + 1, 32767)
      from due where i.id = due.id
      returning i.id::text as id, i.family, i.model, i.record_id, i.root_id, i.write_date,
        i.deleted, i.received_at`),
  );
  return rows
    .map((row) => ({
      id: Number(row.id),
      family: row.family,
      model: row.model,
      recordId: row.record_id,
      ...(row.root_id === null ? {} : { rootId: row.root_id }),
      ...(row.write_date === null ? {} : { writeDate: row.write_date }),
      deleted: row.deleted,
      receivedAt: row.received_at instanceof Date ? row.received_at : new Date(row.received_at),
    }))
    .sort((a, b) => a.id - b.id);
}

/** A family's events kept and not settled yet, and the age of the oldest. */
export interface UnsettledWebhooks {
  readonly family: string;
  readonly events: number;
  readonly oldestSeconds: number;
}

export async function readUnsettledWebhooks(db: Db): Promise<UnsettledWebhooks[]> {
  const rows = rowsOf<{ family: string; events: number; oldest_seconds: number }>(
    await db.execute(sql`
      select family, count(*)::int as events,
        extract(epoch from now() - min(received_at))::float8 as oldest_seconds
      from sync_webhook_inbox group by family order by family`),
  );
  return rows.map((row) => ({
    family: row.family,
    events: row.events,
    oldestSeconds: row.oldest_seconds,
  }));
}
