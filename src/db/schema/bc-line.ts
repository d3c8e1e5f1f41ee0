/** `scrap_dimagaz_bc_line`: one row per Odoo `dimagaz.bc.line`, tied to its BC by Odoo id. */
import {
  bigint,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import { scrapDimagazBc, type OdooRecordData } from './bc.js';

const utc = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const scrapDimagazBcLine = pgTable(
  'scrap_dimagaz_bc_line',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    // A unique constraint (not only an index) so the line foreign key can reference it.
    odooId: integer('odoo_id').notNull().unique('scrap_dimagaz_bc_line_odoo_id_key'),
    bcOdooId: integer('bc_odoo_id')
      .notNull()
      .references(() => scrapDimagazBc.odooId, { onDelete: 'cascade' }),
    sequence: integer('sequence'),
    productId: integer('product_id'),
    productName: text('product_name'),
    name: text('name'),
    productQty: numeric('product_qty'),
    qtyReceived: numeric('qty_received'),
    priceUnit: numeric('price_unit'),
    priceSubtotal: numeric('price_subtotal'),
    odooWriteDate: utc('odoo_write_date').notNull(),
    data: jsonb('data').$type<OdooRecordData>().notNull(),
    syncedAt: utc('synced_at').notNull().defaultNow(),
  },
  (t) => [index('scrap_dimagaz_bc_line_bc_idx').on(t.bcOdooId, t.sequence, t.odooId)],
);

export type BcLineRow = typeof scrapDimagazBcLine.$inferSelect;
export type NewBcLineRow = typeof scrapDimagazBcLine.$inferInsert;
