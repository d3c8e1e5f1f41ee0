/**
 * `sync_odoo_schema`: the stored-field lists and the read context the sync asks Odoo for, kept
 * for every process (a fresh CLI run or a new worker does not ask Odoo again within its
 * lifetime). Keyed by the configured context, which is part of what is stored.
 */
import { jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const syncOdooSchema = pgTable('sync_odoo_schema', {
  key: text('key').primaryKey(),
  schema: jsonb('schema').notNull(),
  savedAt: timestamp('saved_at', { withTimezone: true, mode: 'date' }).notNull(),
});
