/**
 * `sync_family_layout`: the layout of each configured family's tables as `migrate` last planned
 * and created it (docs/models.md): which column each Odoo field has, which link tables, and the
 * layout's version, which every row written under it carries. The workers and the API build
 * the family from it; a family without one was never migrated.
 */
import { integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const syncFamilyLayout = pgTable('sync_family_layout', {
  family: text('family').primaryKey(),
  specHash: text('spec_hash').notNull(),
  version: integer('version').notNull(),
  layout: jsonb('layout').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
