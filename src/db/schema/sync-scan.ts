/**
 * `sync_scan`: what one execution of a step read from Odoo, staged in PostgreSQL so that it is
 * compared with the copy in set-based SQL and its memory stays bounded whatever the size of the
 * window or of the tables:
 * - a run's plan (`plan`): every root record its change scans listed, and whether the settled
 *   stamps prove its copy current;
 * - a reconcile's lists (kind: the Odoo model; every id with its `write_date`, a child's root)
 *   and what it reads again (`refetch`).
 *
 * Rows are keyed by the run and the lease token of the execution that staged them: a second
 * execution of the same step (its job run again while the first goes on) has a token of its own
 * and never reads or deletes the first one's rows. An execution deletes its own rows when it ends;
 * a run that takes the lease deletes the rows of runs that have ended.
 */
import {
  bigint,
  boolean,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

export const syncScan = pgTable(
  'sync_scan',
  {
    runId: bigint('run_id', { mode: 'number' }).notNull(),
    token: bigint('token', { mode: 'number' }).notNull(),
    /** `plan`, `refetch`, or the Odoo model of a reconcile's list. */
    kind: text('kind').notNull(),
    odooId: integer('odoo_id').notNull(),
    /** A child's root, in a reconcile's list of a child model. */
    rootId: integer('root_id'),
    writeDate: timestamp('write_date', { withTimezone: true, mode: 'date' }),
    /** `plan`: the settled stamps prove the copy current; the run need not read it. */
    proven: boolean('proven').notNull().default(false),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.token, t.kind, t.odooId] }),
    index('sync_scan_root_idx').on(t.runId, t.token, t.kind, t.rootId),
  ],
);
