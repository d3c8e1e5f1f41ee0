/**
 * The partner family: `res.partner` alone, a root without children. Its many2many `category_id`
 * is kept as Odoo sends it, in `data`.
 */
import { columns as c } from '../columns.js';
import { copyTableOf, type RecordFamily } from '../family.js';
import { scrapResPartner } from './tables.js';

export const partnersFamily: RecordFamily = {
  name: 'partners',
  noun: 'partner',
  root: {
    model: 'res.partner',
    table: copyTableOf(scrapResPartner),
    activeField: 'active',
    links: [],
    requiredFields: ['write_date'],
    columns: [
      c.text('name'),
      c.text('email'),
      c.text('phone'),
      c.boolean('is_company'),
      c.integer('customer_rank'),
      c.integer('supplier_rank'),
      c.text('street'),
      c.text('city'),
      c.many2one('country_id', { name: 'country_name' }),
      c.many2one('parent_id', { name: 'parent_name' }),
      c.text('lang'),
      c.decimal('credit_limit'),
    ],
  },
  children: [],
  schedule: {},
};
