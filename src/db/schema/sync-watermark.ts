/**
 * `sync_watermark`: the largest Odoo `write_date` a family's change scans proved, one per model of
 * the family (a child changes without its root's stamp moving, so each model is scanned against
 * its own), bounded by Odoo's clock and never a local one. A run moves them only forward.
 */
import { pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

export const syncWatermark = pgTable(
  'sync_watermark',
  {
    family: text('family').notNull(),
    model: text('model').notNull(),
    watermark: timestamp('watermark', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.family, t.model] })],
);
