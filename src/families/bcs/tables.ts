/**
 * The BC family's copy tables: `scrap_dimagaz_bc`, one row per Odoo `dimagaz.bc` (purchase
 * order), never hard-deleted; `scrap_dimagaz_bc_line`, one row per `dimagaz.bc.line`, tied to its
 * BC by Odoo id. The indexes serve the BC routes' filters and sorts.
 */
import { sql } from 'drizzle-orm';
import { index, integer, numeric, pgTable, text, type AnyPgColumn } from 'drizzle-orm/pg-core';
import { childCopyColumns, rootCopyColumns, utc } from '../copy-columns.js';
import { indexKey } from '../index-keys.js';

/** A text column's key in the API's indexes: its first characters, never null. */
const textKey = (column: AnyPgColumn) => sql.raw(indexKey('text', `"${column.name}"`));

export const scrapDimagazBc = pgTable(
  'scrap_dimagaz_bc',
  {
    ...rootCopyColumns('scrap_dimagaz_bc'),
    name: text('name'),
    state: text('state'),
    partnerId: integer('partner_id'),
    partnerName: text('partner_name'),
    dateOrder: utc('date_order'),
    datePlanned: utc('date_planned'),
    // Amounts stay decimal strings end to end: Odoo's doubles are copied, never re-rounded.
    amountUntaxed: numeric('amount_untaxed'),
    amountTax: numeric('amount_tax'),
    amountTotal: numeric('amount_total'),
    currencyId: integer('currency_id'),
    currencyName: text('currency_name'),
    companyId: integer('company_id'),
    origin: text('origin'),
    odooCreateDate: utc('odoo_create_date'),
  },
  (t) => [
    // A selection: its values are Odoo's own short keys, never a user's text (index-keys.ts).
    index('scrap_dimagaz_bc_state_idx').on(t.state),
    index('scrap_dimagaz_bc_partner_idx').on(t.partnerId),
    index('scrap_dimagaz_bc_date_order_idx').on(t.dateOrder, t.odooId),
    index('scrap_dimagaz_bc_write_date_idx').on(t.odooWriteDate, t.odooId),
    index('scrap_dimagaz_bc_live_idx')
      .on(t.odooId)
      .where(sql`${t.archivedAt} is null`),
    // The API's sorts, on the very expressions it orders by (see list-bcs.ts), over every row:
    // includeArchived=true sorts too. A name's key is its first characters (index-keys.ts): a
    // name of any length can be copied.
    index('scrap_dimagaz_bc_name_sort_idx').on(textKey(t.name), t.odooId),
    index('scrap_dimagaz_bc_date_order_sort_idx').on(
      sql`coalesce(${t.dateOrder}, '-infinity'::timestamptz)`,
      t.odooId,
    ),
    // The portal's common list: one partner's BCs, newest first. The partner leads, then the
    // same sort expression, so a page and every cursor after it is one index range: without it
    // PostgreSQL intersects the partner and state indexes and sorts the partner's whole set.
    index('scrap_dimagaz_bc_live_partner_date_order_idx')
      .on(t.partnerId, sql`coalesce(${t.dateOrder}, '-infinity'::timestamptz)`, t.odooId)
      .where(sql`${t.archivedAt} is null`),
    index('scrap_dimagaz_bc_amount_sort_idx').on(
      sql`coalesce(${t.amountTotal}, '-Infinity'::numeric)`,
      t.odooId,
    ),
    // `q` searches text inside the name or the origin (ilike '%…%'): trigram indexes (pg_trgm).
    index('scrap_dimagaz_bc_name_trgm_idx').using('gin', t.name.op('gin_trgm_ops')),
    index('scrap_dimagaz_bc_origin_trgm_idx').using('gin', t.origin.op('gin_trgm_ops')),
  ],
);

export const scrapDimagazBcLine = pgTable(
  'scrap_dimagaz_bc_line',
  {
    ...childCopyColumns('scrap_dimagaz_bc_line'),
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
  },
  (t) => [
    index('scrap_dimagaz_bc_line_bc_idx').on(t.bcOdooId, t.sequence, t.odooId),
    // The read API's sort by stamp (/api/models/dimagaz.bc.line/records?sort=odooWriteDate).
    index('scrap_dimagaz_bc_line_write_date_idx').on(t.odooWriteDate, t.odooId),
  ],
);

export type BcRow = typeof scrapDimagazBc.$inferSelect;
export type BcLineRow = typeof scrapDimagazBcLine.$inferSelect;
