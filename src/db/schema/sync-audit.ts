/**
 * `sync_audit`: one row per change the sync made to the copy. Never deleted with the record it
 * describes, so a deleted child or an archived root keeps its history.
 */
import { bigint, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * `drift`: Odoo's current record was written over the copy's though no stamp asked for it: a
 * verify found the copy differing from Odoo, or Odoo's stamp went back (with its `reason`).
 */
export const AUDIT_ACTIONS = [
  'created',
  'updated',
  'archived',
  'restored',
  'deleted',
  'drift',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const syncAudit = pgTable(
  'sync_audit',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    runId: bigint('run_id', { mode: 'number' }),
    /** What made a change outside a run: `resync`, `webhook`; null within a run (see run_id). */
    trigger: text('trigger'),
    family: text('family').notNull(),
    model: text('model').notNull(),
    odooId: integer('odoo_id').notNull(),
    /**
     * The root the record belongs to: a child's root, or the root itself. A root's history, its
     * children included, is one range of the one secondary index: every audit row costs the write
     * of a sync (one per record of a first copy) an index entry per index.
     */
    rootOdooId: integer('root_odoo_id'),
    action: text('action').$type<AuditAction>().notNull(),
    changedFields: jsonb('changed_fields').$type<string[]>().notNull().default([]),
    odooWriteDate: timestamp('odoo_write_date', { withTimezone: true, mode: 'date' }),
    /** Why a record was written against its stamps (`drift` only): see src/sync/write-rule.ts. */
    reason: text('reason'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('sync_audit_root_idx').on(t.family, t.rootOdooId, t.id)],
);

export type SyncAuditRow = typeof syncAudit.$inferSelect;
