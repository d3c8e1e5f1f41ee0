/**
 * The partner family: `res.partner` alone, a root without children, declared once: the engine's
 * family and its drizzle table (define-family.ts). Its many2many `category_id` is kept as Odoo
 * sends it, in `data`.
 */
import { columns as c } from '../columns.js';
import { defineFamily } from '../define-family.js';

const partners = defineFamily({
  name: 'partners',
  noun: 'partner',
  root: {
    model: 'res.partner',
    table: 'scrap_res_partner',
    activeField: 'active',
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
    query: {
      filter: ['name', 'email', 'is_company', 'country_id', 'parent_id'],
      sort: ['name', 'customer_rank', 'supplier_rank'],
    },
  },
  children: [],
});

export const partnersFamily = partners.family;
export const { scrapResPartner } = partners.tables;
