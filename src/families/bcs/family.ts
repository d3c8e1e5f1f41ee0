/**
 * The BC family: purchase orders (`dimagaz.bc`, "BC") and their lines (`dimagaz.bc.line`,
 * linked by `bc_id`). The first family the engine copied; its tables, indexes and API bodies are
 * what they were before families existed.
 */
import { columns as c } from '../columns.js';
import { copyTableOf, type RecordFamily } from '../family.js';
import { scrapDimagazBc, scrapDimagazBcLine } from './tables.js';

export const BC_MODEL = 'dimagaz.bc';
export const BC_LINE_MODEL = 'dimagaz.bc.line';

export const bcsFamily: RecordFamily = {
  name: 'bcs',
  noun: 'BC',
  root: {
    model: BC_MODEL,
    table: copyTableOf(scrapDimagazBc),
    activeField: 'active',
    links: [],
    requiredFields: ['write_date'],
    // The indexes of the BC routes serve these too (tables.ts).
    query: {
      filter: ['state', 'partner_id', 'name'],
      sort: ['name', 'date_order', 'amount_total'],
    },
    columns: [
      c.text('name'),
      c.text('state'),
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
  },
  children: [
    {
      model: BC_LINE_MODEL,
      table: copyTableOf(scrapDimagazBcLine),
      parentField: 'bc_id',
      parentColumn: 'bc_odoo_id',
      links: [],
      requiredFields: ['write_date', 'bc_id'],
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
  schedule: {},
};
