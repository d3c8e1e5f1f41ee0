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
    /** For lines: the BC they belong to, so a BC's history includes its lines. */
    bcOdooId: integer('bc_odoo_id'),
    action: text('action').$type<AuditAction>().notNull(),
    changedFields: jsonb('changed_fields').$type<string[]>().notNull().default([]),
    odooWriteDate: timestamp('odoo_write_date', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('sync_audit_record_idx').on(t.model, t.odooId, t.id),
    index('sync_audit_bc_idx').on(t.bcOdooId, t.id),
    index('sync_audit_run_idx').on(t.runId),
  ],
);

export type SyncAuditRow = typeof syncAudit.$inferSelect;
