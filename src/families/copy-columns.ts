/**
 * The columns every copy table has, declared once for the drizzle tables of the families declared
 * in code: the Odoo id (unique, so children can reference it), the stamp, the record as Odoo sent
 * it, and for a root its archive state.
 */
import { bigint, boolean, integer, jsonb, text, timestamp } from 'drizzle-orm/pg-core';
import type { OdooRecordData } from './map-record.js';

/** An instant, in UTC. */
export const utc = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** A root table's own columns; `table` names its unique constraint. */
export function rootCopyColumns(table: string) {
  return {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    // A unique constraint (not only an index) so a child's foreign key can reference it.
    odooId: integer('odoo_id').notNull().unique(`${table}_odoo_id_key`),
    active: boolean('active').notNull().default(true),
    odooWriteDate: utc('odoo_write_date').notNull(),
    data: jsonb('data').$type<OdooRecordData>().notNull(),
    archivedAt: utc('archived_at'),
    archiveReason: text('archive_reason'),
    firstSyncedAt: utc('first_synced_at').notNull().defaultNow(),
    syncedAt: utc('synced_at').notNull().defaultNow(),
  };
}

/** A child table's own columns (its link to the root is the family's). */
export function childCopyColumns(table: string) {
  return {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    odooId: integer('odoo_id').notNull().unique(`${table}_odoo_id_key`),
    odooWriteDate: utc('odoo_write_date').notNull(),
    data: jsonb('data').$type<OdooRecordData>().notNull(),
    syncedAt: utc('synced_at').notNull().defaultNow(),
  };
}
