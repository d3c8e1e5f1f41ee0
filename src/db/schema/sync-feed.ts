/**
 * The change feed's tables (docs/feed.md).
 *
 * `sync_feed`: one row per `sync_audit` row, written by a statement-level trigger on `sync_audit`
 * (drizzle/0023_change_feed.sql; its current text in src/db/sql/sync-feed-append.sql), so in
 * the very statement that changes the copy: a change is in the feed if and only if it is in the
 * copy. A row's position is (`xid`, `id`): `xid` is its
 * writing transaction's id (`pg_current_xact_id()`), or the position of the root's last change
 * when that is later (see the trigger), and `id` is the audit row's. Readers return only rows
 * whose `xid` is below their snapshot's `xmin`: every transaction below it has ended, so no row
 * can ever appear below a position already read. The table is partitioned by the UTC day of
 * `created_at` (drizzle/0032_feed_partitions.sql: drizzle cannot declare partitions, so they are
 * the migration's and src/feed/feed-partitions.ts's), and a day's partition is dropped once older
 * than FEED_RETENTION_DAYS (src/feed/prune.ts); the audit rows, the records' history, stay.
 *
 * `sync_feed_root`: each root's last position, which the trigger gives a root's next change when
 * it is later than its own transaction's id. Kept beside the feed, one row per root, so that the
 * look-up is one index probe however many day partitions the feed has; it outlives the changes
 * the retention drops (a later position stays later).
 *
 * `sync_feed_horizon`: the last position dropped, one row. A reader asking for changes after an
 * older position may have lost some: it is told to resync (410).
 *
 * `sync_feed_subscription`: the receivers the feed is pushed to, each with its cursor.
 */
import {
  bigint,
  check,
  customType,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  smallint,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

/** PostgreSQL's 64-bit transaction id (`xid8`), read and written as its decimal text. */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });

const utc = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const syncFeed = pgTable(
  'sync_feed',
  {
    xid: xid8('xid').notNull(),
    /** The `sync_audit` row this change is: its content is read from there. */
    id: bigint('id', { mode: 'number' }).notNull(),
    family: text('family').notNull(),
    rootOdooId: integer('root_odoo_id'),
    /** When the writing transaction started: what retention measures. */
    createdAt: utc('created_at').notNull().defaultNow(),
  },
  (t) => [
    // A partitioned table's key holds its partition key (docs/feed.md, "Retention"): (xid, id) is
    // unique on its own (id is the audit row's), and the key's first columns order the reads.
    primaryKey({ columns: [t.xid, t.id, t.createdAt] }),
  ],
);

export const syncFeedRoot = pgTable(
  'sync_feed_root',
  {
    family: text('family').notNull(),
    rootOdooId: integer('root_odoo_id').notNull(),
    /** The position of the root's last change (its `xid`). */
    xid: xid8('xid').notNull(),
  },
  (t) => [primaryKey({ columns: [t.family, t.rootOdooId] })],
);

export const syncFeedHorizon = pgTable(
  'sync_feed_horizon',
  {
    key: smallint('key').primaryKey().default(1),
    /** The last position pruned: (xid, id). */
    xid: xid8('xid').notNull(),
    id: bigint('id', { mode: 'number' }).notNull(),
    prunedAt: utc('pruned_at'),
  },
  (t) => [check('sync_feed_horizon_one_row', sql`${t.key} = 1`)],
);

/** `active` delivers; `failing` stopped on a dead letter; `ended` by its receiver (410); `expired` behind the retention. */
export const SUBSCRIPTION_STATUSES = ['active', 'failing', 'ended', 'expired'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** A message that failed for good: the subscription stopped at it. */
export interface DeadLetter {
  readonly webhookId: string;
  /** The positions the message held: after `from`, up to `through`. */
  readonly from: string;
  readonly through: string;
  readonly changes: number;
  readonly code: string;
  readonly message: string;
  readonly at: string;
}

export const syncFeedSubscription = pgTable('sync_feed_subscription', {
  id: serial('id').primaryKey(),
  name: text('name').notNull().unique(),
  url: text('url').notNull(),
  /**
   * The Standard Webhooks signing secret (`whsec_…`), sealed under FEED_SECRET_KEY
   * (src/feed/secret.ts). Never logged, never answered but at creation.
   */
  secret: text('secret').notNull(),
  /**
   * Only these Odoo sources' changes (`*`: every source, those added later too). One that names
   * none is made for the deployment's unnamed sources (src/families/source-family.ts).
   */
  sources: text('sources').array().notNull(),
  /** Only these families' changes (empty: every family of its sources). */
  families: text('families')
    .array()
    .notNull()
    .default(sql`'{}'::text[]`),
  /** Only these models' changes (empty: every model of the families). */
  models: text('models')
    .array()
    .notNull()
    .default(sql`'{}'::text[]`),
  /** `file` (FEED_SUBSCRIPTIONS_FILE, kept in step with it) or `api`. */
  source: text('source').$type<'file' | 'api'>().notNull(),
  /**
   * A subscription of the file: when a process that has the file last declared it. One that no
   * process has declared for a day is deleted (src/feed/subscriptions.ts).
   */
  declaredAt: utc('declared_at'),
  /** A subscription of the file: the `from` the last process that started with the file gave. */
  declaredFrom: text('declared_from'),
  /**
   * A subscription of the file: every `from` a process has declared for it. A `from` is weighed
   * once, the first time one is declared: a replay when it is behind the cursor, nothing
   * otherwise; so an older copy of the file never replays again nor skips ahead.
   */
  seenFroms: text('seen_froms')
    .array()
    .notNull()
    .default(sql`'{}'::text[]`),
  /**
   * A subscription of the file: when a process with the file last found its URL, filters or
   * `from` other than the subscription's (another copy of the file declared them since).
   */
  declarationDiffersAt: utc('declaration_differs_at'),
  status: text('status').$type<SubscriptionStatus>().notNull().default('active'),
  statusReason: text('status_reason'),
  /** Every change up to this position was delivered (or was not the subscription's). */
  cursorXid: xid8('cursor_xid').notNull(),
  cursorId: bigint('cursor_id', { mode: 'number' }).notNull(),
  deliveredChanges: bigint('delivered_changes', { mode: 'number' }).notNull().default(0),
  deliveredMessages: bigint('delivered_messages', { mode: 'number' }).notNull().default(0),
  failedAttempts: bigint('failed_attempts', { mode: 'number' }).notNull().default(0),
  consecutiveFailures: integer('consecutive_failures').notNull().default(0),
  /** A code and a safe message: never what the receiver answered. */
  lastError: text('last_error'),
  lastFailureAt: utc('last_failure_at'),
  lastDeliveredAt: utc('last_delivered_at'),
  deadLetter: jsonb('dead_letter').$type<DeadLetter>(),
  createdAt: utc('created_at').notNull().defaultNow(),
  updatedAt: utc('updated_at').notNull().defaultNow(),
});

export type SyncFeedSubscriptionRow = typeof syncFeedSubscription.$inferSelect;
