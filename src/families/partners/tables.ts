/** The partner family's copy table: `scrap_res_partner`, one row per Odoo `res.partner`. */
import { boolean, index, integer, numeric, pgTable, text } from 'drizzle-orm/pg-core';
import { rootCopyColumns } from '../copy-columns.js';

export const scrapResPartner = pgTable(
  'scrap_res_partner',
  {
    ...rootCopyColumns('scrap_res_partner'),
    name: text('name'),
    email: text('email'),
    phone: text('phone'),
    isCompany: boolean('is_company'),
    customerRank: integer('customer_rank'),
    supplierRank: integer('supplier_rank'),
    street: text('street'),
    city: text('city'),
    countryId: integer('country_id'),
    countryName: text('country_name'),
    parentId: integer('parent_id'),
    parentName: text('parent_name'),
    lang: text('lang'),
    creditLimit: numeric('credit_limit'),
  },
  (t) => [index('scrap_res_partner_parent_idx').on(t.parentId)],
);
