/**
 * `sync_webhook_inbox`: each event Odoo's webhooks announced, kept from before the API answers
 * Odoo until a job's read has shown its change (docs/odoo.md, "Webhooks (Odoo 17+)"). Odoo never
 * sends an event twice, and Redis can lose a job it accepted (a failover, a restart without its
 * data): workers queue again an event no job settled, when it is due (`due_at`).
 *
 * The indexes serve what runs often on a large inbox: a family's events due (the requeue pass,
 * every 15 s), a family's count and oldest (the metrics, every 5 s; the API's bound per source),
 * a root's events (each job).
 */
import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  index,
  integer,
  pgTable,
  smallint,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

const utc = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const syncWebhookInbox = pgTable(
  'sync_webhook_inbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    family: text('family').notNull(),
    model: text('model').notNull(),
    recordId: integer('record_id').notNull(),
    rootId: integer('root_id'),
    writeDate: text('write_date'),
    deleted: boolean('deleted').notNull(),
    receivedAt: utc('received_at').notNull().defaultNow(),
    /** When a job was last queued for it: by the API, then by a worker that found it unsettled. */
    queuedAt: utc('queued_at').notNull().defaultNow(),
    /** How often a worker queued it again: its wait before the next doubles each time. */
    requeues: smallint('requeues').notNull().default(0),
    /**
     * Reads that ran and did not show it (Odoo answered): only these count towards settling it
     * unseen. A job that failed, waited in a paused queue or was queued again after a reconnect
     * read nothing.
     */
    unseenReads: smallint('unseen_reads').notNull().default(0),
    /** When a worker queues it again if no read has shown it by then (src/sync/webhook-inbox.ts). */
    dueAt: utc('due_at')
      .notNull()
      .default(sql`now() + interval '1 minute'`),
  },
  (t) => [
    index('sync_webhook_inbox_due_idx').on(t.family, t.dueAt),
    index('sync_webhook_inbox_received_idx').on(t.family, t.receivedAt),
    index('sync_webhook_inbox_root_idx').on(t.family, t.rootId),
  ],
);

export type SyncWebhookInboxRow = typeof syncWebhookInbox.$inferSelect;
