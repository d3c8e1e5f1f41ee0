/**
 * The small reference models other records point at, so many2one values have a display name:
 * users, currencies, companies, products, units, taxes, countries, contact tags and the chart of
 * accounts. Shaped on Odoo's own (labels, `_order`, translated names where Odoo translates them).
 */
import { referenceModel, type ModelSpec } from './field-spec.js';

export const REFERENCE_MODELS: readonly ModelSpec[] = [
  referenceModel('res.currency', 'Currency'),
  referenceModel('res.company', 'Companies'),
  referenceModel('res.users', 'User', [
    { name: 'login', type: 'char', string: 'Login', store: true, required: true },
  ]),
  referenceModel(
    'product.product',
    'Product',
    [{ name: 'default_code', type: 'char', string: 'Internal Reference', store: true }],
    { translateName: true },
  ),
  referenceModel('uom.uom', 'Product Unit of Measure', [], { translateName: true }),
  referenceModel('account.tax', 'Tax', [
    { name: 'amount', type: 'float', string: 'Amount', store: true, digits: [16, 4] },
    // A tax no longer used is archived, not deleted: the lines that bear it keep it.
    { name: 'active', type: 'boolean', string: 'Active', store: true },
  ]),
  referenceModel(
    'res.country',
    'Country',
    [
      {
        name: 'code',
        type: 'char',
        string: 'Country Code',
        store: true,
        size: 2,
        help: 'The ISO country code in two chars. \nYou can use this field for quick search.',
      },
    ],
    { translateName: true, order: 'name' },
  ),
  referenceModel(
    'res.partner.category',
    'Partner Tags',
    [
      { name: 'color', type: 'integer', string: 'Color', store: true },
      {
        name: 'active',
        type: 'boolean',
        string: 'Active',
        store: true,
        help: 'The active field allows you to hide the category without removing it.',
      },
    ],
    { translateName: true, order: 'name' },
  ),
  referenceModel(
    'account.account',
    'Account',
    [
      { name: 'code', type: 'char', string: 'Code', store: true, required: true, size: 64 },
      {
        name: 'account_type',
        type: 'selection',
        string: 'Type',
        store: true,
        required: true,
        selection: [
          ['asset_receivable', 'Receivable'],
          ['liability_payable', 'Payable'],
          ['income', 'Income'],
          ['expense', 'Expenses'],
          ['asset_current', 'Current Assets'],
          ['liability_current', 'Current Liabilities'],
        ],
      },
    ],
    { translateName: true, order: 'code' },
  ),
];
