/**
 * `sync_webhook_inbox`: each event Odoo's webhooks announced, kept from before the API answers
 * Odoo until a job has written the record it names (docs/odoo.md, "Webhooks (Odoo 17+)"). Odoo
 * never sends an event twice, and Redis can lose a job it accepted (a failover, a restart without
 * its data): workers queue again an event no job settled.
 */
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
    requeues: smallint('requeues').notNull().default(0),
  },
  (t) => [
    index('sync_webhook_inbox_queued_idx').on(t.queuedAt),
    index('sync_webhook_inbox_root_idx').on(t.family, t.rootId),
  ],
);

export type SyncWebhookInboxRow = typeof syncWebhookInbox.$inferSelect;
