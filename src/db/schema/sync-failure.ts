/**
 * `sync_failure`: root records, by family, whose last attempt failed for good. Later runs retry
 * them as they fall due (backing off as failures repeat), and a success deletes the row, so a
 * poisoned record never freezes the watermark and is never forgotten. `error` holds a code and a safe message only:
 * the detail is in the worker's log.
 */
import { bigint, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

const utc = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const syncFailure = pgTable(
  'sync_failure',
  {
    family: text('family').notNull(),
    odooId: integer('odoo_id').notNull(),
    errorCode: text('error_code').notNull(),
    error: text('error').notNull(),
    attempts: integer('attempts').notNull().default(1),
    lastRunId: bigint('last_run_id', { mode: 'number' }),
    lastJobId: text('last_job_id'),
    firstFailedAt: utc('first_failed_at').notNull().defaultNow(),
    lastFailedAt: utc('last_failed_at').notNull().defaultNow(),
    nextAttemptAt: utc('next_attempt_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.family, t.odooId] }),
    index('sync_failure_due_idx').on(t.family, t.nextAttemptAt, t.odooId),
  ],
);

export type SyncFailureRow = typeof syncFailure.$inferSelect;
