/**
 * `sync_reconcile_scan`: what one reconcile read from Odoo (every BC and line id with its
 * `write_date`), staged in PostgreSQL so the comparison with the copy runs as set-based SQL in
 * bounded memory, whatever the size of the tables. Rows live as long as their reconcile.
 */
import { bigint, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

export const RECONCILE_SCAN_KINDS = ['bc', 'line', 'refetch'] as const;
export type ReconcileScanKind = (typeof RECONCILE_SCAN_KINDS)[number];

export const syncReconcileScan = pgTable(
  'sync_reconcile_scan',
  {
    runId: bigint('run_id', { mode: 'number' }).notNull(),
    /** `bc` and `line`: Odoo's records; `refetch`: BCs the reconcile reads again. */
    kind: text('kind').$type<ReconcileScanKind>().notNull(),
    odooId: integer('odoo_id').notNull(),
    bcOdooId: integer('bc_odoo_id'),
    writeDate: timestamp('write_date', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.kind, t.odooId] }),
    index('sync_reconcile_scan_bc_idx').on(t.runId, t.kind, t.bcOdooId),
  ],
);
