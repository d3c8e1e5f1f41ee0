/**
 * The BC family: purchase orders (`dimagaz.bc`, "BC") and their lines (`dimagaz.bc.line`,
 * linked by `bc_id`), declared once: the engine's family and its drizzle tables
 * (define-family.ts). The first family the engine copied; its tables, indexes and API bodies are
 * what they were before families existed.
 */
import { sql } from 'drizzle-orm';
import { index } from 'drizzle-orm/pg-core';
import { columns as c } from '../columns.js';
import { defineFamily } from '../define-family.js';

export const BC_MODEL = 'dimagaz.bc';
export const BC_LINE_MODEL = 'dimagaz.bc.line';

const bcs = defineFamily({
  name: 'bcs',
  noun: 'BC',
  root: {
    model: BC_MODEL,
    table: 'scrap_dimagaz_bc',
    activeField: 'active',
    columns: [
      c.text('name'),
      c.selection('state'),
      c.many2one('partner_id', { name: 'partner_name' }),
      c.datetime('date_order'),
      c.datetime('date_planned'),
      c.decimal('amount_untaxed'),
      c.decimal('amount_tax'),
      c.decimal('amount_total'),
      c.many2one('currency_id', { name: 'currency_name' }),
      c.many2one('company_id'),
      c.text('origin'),
      c.datetime('create_date', { column: 'odoo_create_date', api: false }),
    ],
    // /api/bcs maps its parameters onto these (src/http/routes/api/bcs/).
    query: {
      filter: ['state', 'partner_id', 'date_order', 'name'],
      sort: [
        'name',
        'date_order',
        { field: 'amount_total', index: 'scrap_dimagaz_bc_amount_sort_idx' },
      ],
      search: { q: ['name', 'origin'] },
    },
    indexes: (column) => [
      // The portal's common list: one partner's BCs, newest first. The partner leads, then the
      // same sort expression, so a page and every cursor after it is one index range: without it
      // PostgreSQL intersects the partner and state indexes and sorts the partner's whole set.
      index('scrap_dimagaz_bc_live_partner_date_order_idx')
        .on(
          column('partner_id'),
          sql`coalesce(${column('date_order')}, '-infinity'::timestamptz)`,
          column('odoo_id'),
        )
        .where(sql`${column('archived_at')} is null`),
    ],
  },
  children: [
    {
      model: BC_LINE_MODEL,
      table: 'scrap_dimagaz_bc_line',
      parentField: 'bc_id',
      parentColumn: 'bc_odoo_id',
      order: 'sequence',
      columns: [
        c.integer('sequence'),
        c.many2one('product_id', { name: 'product_name' }),
        c.text('name'),
        c.decimal('product_qty'),
        c.decimal('qty_received'),
        c.decimal('price_unit'),
        c.decimal('price_subtotal'),
      ],
    },
  ],
});

export const bcsFamily = bcs.family;
export const { scrapDimagazBc, scrapDimagazBcLine } = bcs.tables;
