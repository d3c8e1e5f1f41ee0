/** `sync_log`: one row per sync, reconcile or verify run, written as the run goes. */
import { bigint, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const utc = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const SYNC_RUN_STATUSES = ['running', 'succeeded', 'partial', 'failed', 'skipped'] as const;
export type SyncRunStatus = (typeof SYNC_RUN_STATUSES)[number];

export interface SyncRunError {
  readonly odooId?: number;
  readonly code: string;
  readonly message: string;
}

export const syncLog = pgTable(
  'sync_log',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    family: text('family').notNull(),
    kind: text('kind').notNull().default('sync'),
    trigger: text('trigger').notNull(),
    status: text('status').$type<SyncRunStatus>().notNull(),
    leaseOwner: text('lease_owner'),
    startedAt: utc('started_at').notNull().defaultNow(),
    finishedAt: utc('finished_at'),
    windowFrom: utc('window_from'),
    windowTo: utc('window_to'),
    pages: integer('pages').notNull().default(0),
    /** Pages that have settled, each as it settles: where a running run stands. */
    pagesDone: integer('pages_done').notNull().default(0),
    recordsSeen: integer('records_seen').notNull().default(0),
    created: integer('created').notNull().default(0),
    updated: integer('updated').notNull().default(0),
    unchanged: integer('unchanged').notNull().default(0),
    archived: integer('archived').notNull().default(0),
    restored: integer('restored').notNull().default(0),
    childrenDeleted: integer('children_deleted').notNull().default(0),
    failed: integer('failed').notNull().default(0),
    futureStamped: integer('future_stamped').notNull().default(0),
    drifted: integer('drifted').notNull().default(0),
    healed: integer('healed').notNull().default(0),
    odooCalls: integer('odoo_calls').notNull().default(0),
    /** A verify's drift, per model and field: counts, never values. */
    driftFields: jsonb('drift_fields')
      .$type<Record<string, Record<string, number>>>()
      .notNull()
      .default({}),
    errors: jsonb('errors').$type<SyncRunError[]>().notNull().default([]),
  },
  (t) => [
    index('sync_log_started_idx').on(t.startedAt, t.id),
    index('sync_log_family_idx').on(t.family, t.id),
  ],
);

export type SyncLogRow = typeof syncLog.$inferSelect;
