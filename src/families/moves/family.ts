/**
 * The journal entry family: `account.move` (invoices, bills, entries) and their lines
 * (`account.move.line`, linked by `move_id`). Odoo's moves have no `active` flag: a move is live
 * until it is deleted.
 */
import { columns as c } from '../columns.js';
import { copyTableOf, type RecordFamily } from '../family.js';
import { scrapAccountMove, scrapAccountMoveLine } from './tables.js';

export const movesFamily: RecordFamily = {
  name: 'moves',
  noun: 'move',
  root: {
    model: 'account.move',
    table: copyTableOf(scrapAccountMove),
    activeField: null,
    links: [],
    requiredFields: ['write_date'],
    columns: [
      c.text('name'),
      c.text('move_type'),
      c.text('state'),
      c.many2one('partner_id', { name: 'partner_name' }),
      c.date('date'),
      c.date('invoice_date'),
      c.text('ref'),
      c.many2one('currency_id', { name: 'currency_name' }),
      c.decimal('amount_untaxed'),
      c.decimal('amount_tax'),
      c.decimal('amount_total'),
    ],
  },
  children: [
    {
      model: 'account.move.line',
      table: copyTableOf(scrapAccountMoveLine),
      parentField: 'move_id',
      parentColumn: 'move_odoo_id',
      links: [],
      requiredFields: ['write_date', 'move_id'],
      columns: [
        c.integer('sequence'),
        c.text('name'),
        c.many2one('account_id', { name: 'account_name' }),
        c.many2one('product_id', { name: 'product_name' }),
        c.decimal('quantity'),
        c.decimal('price_unit'),
        c.decimal('debit'),
        c.decimal('credit'),
        c.decimal('balance'),
        c.date('date'),
      ],
    },
  ],
  schedule: {},
};
