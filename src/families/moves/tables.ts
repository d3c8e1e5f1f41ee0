/**
 * The journal entry family's copy tables: `scrap_account_move`, one row per Odoo `account.move`,
 * never hard-deleted; `scrap_account_move_line`, one row per `account.move.line`, tied to its move
 * by Odoo id.
 */
import { date, index, integer, numeric, pgTable, text } from 'drizzle-orm/pg-core';
import { childCopyColumns, rootCopyColumns } from '../copy-columns.js';

export const scrapAccountMove = pgTable(
  'scrap_account_move',
  {
    ...rootCopyColumns('scrap_account_move'),
    name: text('name'),
    moveType: text('move_type'),
    state: text('state'),
    partnerId: integer('partner_id'),
    partnerName: text('partner_name'),
    date: date('date', { mode: 'string' }),
    invoiceDate: date('invoice_date', { mode: 'string' }),
    ref: text('ref'),
    currencyId: integer('currency_id'),
    currencyName: text('currency_name'),
    amountUntaxed: numeric('amount_untaxed'),
    amountTax: numeric('amount_tax'),
    amountTotal: numeric('amount_total'),
  },
  (t) => [index('scrap_account_move_partner_idx').on(t.partnerId)],
);

export const scrapAccountMoveLine = pgTable(
  'scrap_account_move_line',
  {
    ...childCopyColumns('scrap_account_move_line'),
    moveOdooId: integer('move_odoo_id')
      .notNull()
      .references(() => scrapAccountMove.odooId, { onDelete: 'cascade' }),
    sequence: integer('sequence'),
    name: text('name'),
    accountId: integer('account_id'),
    accountName: text('account_name'),
    productId: integer('product_id'),
    productName: text('product_name'),
    quantity: numeric('quantity'),
    priceUnit: numeric('price_unit'),
    debit: numeric('debit'),
    credit: numeric('credit'),
    balance: numeric('balance'),
    date: date('date', { mode: 'string' }),
  },
  (t) => [index('scrap_account_move_line_move_idx').on(t.moveOdooId, t.sequence, t.odooId)],
);
