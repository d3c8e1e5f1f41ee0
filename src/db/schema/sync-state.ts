/**
 * `sync_state`: one row per sync key. Holds the watermark (the largest Odoo `write_date` seen,
 * never a local clock) and the crash-safe lease: a run owns the sync while `lease_expires_at` is
 * in the future, and a heartbeat pushes it forward; a dead worker's lease simply runs out.
 */
import { bigint, boolean, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const utc = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const syncState = pgTable('sync_state', {
  key: text('key').primaryKey(),
  watermark: utc('watermark'),
  lineWatermark: utc('line_watermark'),
  isSyncing: boolean('is_syncing').notNull().default(false),
  leaseOwner: text('lease_owner'),
  leaseExpiresAt: utc('lease_expires_at'),
  currentRunId: bigint('current_run_id', { mode: 'number' }),
  lastRunAt: utc('last_run_at'),
  lastRunStatus: text('last_run_status'),
  lastSuccessAt: utc('last_success_at'),
  lastError: text('last_error'),
  lastReconcileAt: utc('last_reconcile_at'),
  updatedAt: utc('updated_at').notNull().defaultNow(),
});

export type SyncStateRow = typeof syncState.$inferSelect;
