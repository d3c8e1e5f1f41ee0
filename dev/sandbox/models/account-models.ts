/**
 * The journal-entry family, shaped on Odoo's account module: `account.move` (invoices, bills,
 * entries) and its `account.move.line`s through `move_id`. No `active` field on either, as in
 * Odoo: a move is cancelled or deleted, never archived. The move's amounts are stored computes
 * over its lines (rules/account-rules.ts).
 */
import { magicFields, type FieldSpec, type ModelSpec } from './field-spec.js';

export const MOVE_MODEL = 'account.move';
export const MOVE_LINE_MODEL = 'account.move.line';

export const MOVE_TYPES = [
  ['entry', 'Journal Entry'],
  ['out_invoice', 'Customer Invoice'],
  ['out_refund', 'Customer Credit Note'],
  ['in_invoice', 'Vendor Bill'],
  ['in_refund', 'Vendor Credit Note'],
  ['out_receipt', 'Sales Receipt'],
  ['in_receipt', 'Purchase Receipt'],
] as const;

export type MoveType = (typeof MOVE_TYPES)[number][0];

function amount(name: string, string: string, currencyField: string, depends: string[]): FieldSpec {
  return {
    name,
    type: 'monetary',
    string,
    store: true,
    readonly: true,
    currencyField,
    computed: true,
    depends,
  };
}

const MOVE: ModelSpec = {
  name: MOVE_MODEL,
  description: 'Journal Entry',
  order: 'date desc, name desc, id desc',
  fields: [
    { name: 'name', type: 'char', string: 'Number', store: true },
    {
      name: 'move_type',
      type: 'selection',
      string: 'Type',
      store: true,
      required: true,
      readonly: true,
      selection: MOVE_TYPES,
      changeDefault: true,
    },
    {
      name: 'state',
      type: 'selection',
      string: 'Status',
      store: true,
      required: true,
      readonly: true,
      selection: [
        ['draft', 'Draft'],
        ['posted', 'Posted'],
        ['cancel', 'Cancelled'],
      ],
    },
    {
      name: 'partner_id',
      type: 'many2one',
      string: 'Partner',
      store: true,
      relation: 'res.partner',
      ondelete: 'restrict',
    },
    { name: 'date', type: 'date', string: 'Date', store: true, required: true },
    { name: 'invoice_date', type: 'date', string: 'Invoice/Bill Date', store: true },
    { name: 'ref', type: 'char', string: 'Reference', store: true },
    { name: 'narration', type: 'html', string: 'Terms and Conditions', store: true },
    {
      name: 'currency_id',
      type: 'many2one',
      string: 'Currency',
      store: true,
      required: true,
      relation: 'res.currency',
    },
    amount('amount_untaxed', 'Untaxed Amount', 'currency_id', ['line_ids.price_subtotal']),
    amount('amount_tax', 'Tax', 'currency_id', ['line_ids.price_total']),
    amount('amount_total', 'Total', 'currency_id', ['line_ids.price_total']),
    {
      name: 'line_ids',
      type: 'one2many',
      string: 'Journal Items',
      store: true,
      relation: MOVE_LINE_MODEL,
      relationField: 'move_id',
    },
    ...magicFields(),
  ],
};

const MOVE_LINE: ModelSpec = {
  name: MOVE_LINE_MODEL,
  description: 'Journal Item',
  order: 'date desc, move_name desc, id',
  fields: [
    {
      name: 'move_id',
      type: 'many2one',
      string: 'Journal Entry',
      store: true,
      required: true,
      readonly: true,
      relation: MOVE_MODEL,
      indexed: true,
      ondelete: 'cascade',
    },
    {
      name: 'move_name',
      type: 'char',
      string: 'Number',
      store: true,
      readonly: true,
      related: 'move_id.name',
      depends: ['move_id.name'],
    },
    {
      name: 'date',
      type: 'date',
      string: 'Date',
      store: true,
      readonly: true,
      related: 'move_id.date',
      depends: ['move_id.date'],
    },
    { name: 'sequence', type: 'integer', string: 'Sequence', store: true },
    { name: 'name', type: 'char', string: 'Label', store: true },
    {
      name: 'account_id',
      type: 'many2one',
      string: 'Account',
      store: true,
      relation: 'account.account',
      ondelete: 'restrict',
    },
    {
      name: 'product_id',
      type: 'many2one',
      string: 'Product',
      store: true,
      relation: 'product.product',
      ondelete: 'restrict',
    },
    { name: 'quantity', type: 'float', string: 'Quantity', store: true, digits: [16, 2] },
    { name: 'price_unit', type: 'float', string: 'Unit Price', store: true, digits: [16, 2] },
    { name: 'tax_ids', type: 'many2many', string: 'Taxes', store: true, relation: 'account.tax' },
    amount('price_subtotal', 'Subtotal', 'currency_id', ['quantity', 'price_unit']),
    amount('price_total', 'Total', 'currency_id', ['quantity', 'price_unit', 'tax_ids']),
    {
      name: 'currency_id',
      type: 'many2one',
      string: 'Currency',
      store: true,
      required: true,
      relation: 'res.currency',
    },
    {
      name: 'company_currency_id',
      type: 'many2one',
      string: 'Company Currency',
      store: true,
      readonly: true,
      relation: 'res.currency',
    },
    amount('debit', 'Debit', 'company_currency_id', ['balance']),
    amount('credit', 'Credit', 'company_currency_id', ['balance']),
    amount('balance', 'Balance', 'company_currency_id', ['price_subtotal', 'move_id.move_type']),
    ...magicFields(),
  ],
};

export const ACCOUNT_MODELS: readonly ModelSpec[] = [MOVE, MOVE_LINE];
