/**
 * `sync_audit`: one row per change the sync made to the copy. Never deleted with the record it
 * describes, so a deleted line or an archived BC keeps its history.
 */
import { bigint, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const AUDIT_ACTIONS = ['created', 'updated', 'archived', 'restored', 'deleted'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const syncAudit = pgTable(
  'sync_audit',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    runId: bigint('run_id', { mode: 'number' }),
    /** What made a change outside a run: `resync`, `webhook`; null within a run (see run_id). */
    trigger: text('trigger'),
    model: text('model').notNull(),
    odooId: integer('odoo_id').notNull(),
    /**
     * The BC the record belongs to: a line's BC, or the BC itself. A BC's history, its lines
     * included, is one range of the one secondary index: every audit row costs the write of a
     * sync (one per record of a first copy) an index entry per index.
     */
    bcOdooId: integer('bc_odoo_id'),
    action: text('action').$type<AuditAction>().notNull(),
    changedFields: jsonb('changed_fields').$type<string[]>().notNull().default([]),
    odooWriteDate: timestamp('odoo_write_date', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('sync_audit_bc_idx').on(t.bcOdooId, t.id)],
);

export type SyncAuditRow = typeof syncAudit.$inferSelect;
