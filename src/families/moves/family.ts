/**
 * The journal entry family: `account.move` (invoices, bills, entries) and their lines
 * (`account.move.line`, linked by `move_id`), declared once: the engine's family and its drizzle
 * tables (define-family.ts). Odoo's moves have no `active` flag: a move is live until it is
 * deleted.
 */
import { columns as c } from '../columns.js';
import { defineFamily } from '../define-family.js';

const moves = defineFamily({
  name: 'moves',
  noun: 'move',
  root: {
    model: 'account.move',
    table: 'scrap_account_move',
    activeField: null,
    columns: [
      c.text('name'),
      c.selection('move_type'),
      c.selection('state'),
      c.many2one('partner_id', { name: 'partner_name' }),
      c.date('date'),
      c.date('invoice_date'),
      c.text('ref'),
      c.many2one('currency_id', { name: 'currency_name' }),
      c.decimal('amount_untaxed'),
      c.decimal('amount_tax'),
      c.decimal('amount_total'),
    ],
    query: {
      filter: ['name', 'move_type', 'state', 'partner_id', 'date', 'amount_total'],
      sort: ['name', 'date', 'amount_total'],
    },
  },
  children: [
    {
      model: 'account.move.line',
      table: 'scrap_account_move_line',
      parentField: 'move_id',
      parentColumn: 'move_odoo_id',
      order: 'sequence',
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
      query: { filter: ['account_id', 'product_id'], sort: [] },
    },
  ],
});

export const movesFamily = moves.family;
export const { scrapAccountMove, scrapAccountMoveLine } = moves.tables;
