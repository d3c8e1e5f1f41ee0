/**
 * `sync_failure`: BCs whose last attempt failed for good. Each later run retries them first, and
 * a success deletes the row, so a poisoned BC never freezes the watermark and is never forgotten.
 */
import { bigint, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const utc = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const syncFailure = pgTable('sync_failure', {
  odooId: integer('odoo_id').primaryKey(),
  errorCode: text('error_code').notNull(),
  error: text('error').notNull(),
  attempts: integer('attempts').notNull().default(1),
  lastRunId: bigint('last_run_id', { mode: 'number' }),
  lastJobId: text('last_job_id'),
  firstFailedAt: utc('first_failed_at').notNull().defaultNow(),
  lastFailedAt: utc('last_failed_at').notNull().defaultNow(),
});

export type SyncFailureRow = typeof syncFailure.$inferSelect;
