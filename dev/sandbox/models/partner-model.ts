/**
 * `res.partner` as Odoo's base module (with account's ranks and credit limit) declares its stored
 * fields: a root without children in the record-family sense, but a tree of its own (a company
 * and its contacts through `parent_id`/`child_ids`), tags as a many2many, and archived contacts.
 * Its display name is `complete_name`: "Company, Contact" for a contact of a company.
 */
import { magicFields, type ModelSpec } from './field-spec.js';

/** The languages the sandbox's Odoo has installed (`res.partner.lang`'s selection). */
export const INSTALLED_LANGS = [
  ['en_US', 'English (US)'],
  ['fr_FR', 'French / Français'],
  ['ar_001', 'Arabic / الْعَرَبيّة'],
] as const;

export const PARTNER: ModelSpec = {
  name: 'res.partner',
  description: 'Contact',
  order: 'complete_name asc, id desc',
  fields: [
    // Not required in the ORM: a constraint asks a name of contacts that are not addresses.
    { name: 'name', type: 'char', string: 'Name', store: true },
    {
      name: 'complete_name',
      type: 'char',
      string: 'Complete Name',
      store: true,
      readonly: true,
      computed: true,
      depends: ['is_company', 'name', 'parent_id.name'],
    },
    {
      name: 'parent_id',
      type: 'many2one',
      string: 'Related Company',
      store: true,
      relation: 'res.partner',
      indexed: true,
    },
    {
      name: 'child_ids',
      type: 'one2many',
      string: 'Contact',
      store: true,
      relation: 'res.partner',
      relationField: 'parent_id',
      domain: [['active', '=', true]],
    },
    { name: 'email', type: 'char', string: 'Email', store: true },
    { name: 'phone', type: 'char', string: 'Phone', store: true },
    {
      name: 'is_company',
      type: 'boolean',
      string: 'Is a Company',
      store: true,
      help: 'Check if the contact is a company, otherwise it is a person',
    },
    { name: 'customer_rank', type: 'integer', string: 'Customer Rank', store: true },
    { name: 'supplier_rank', type: 'integer', string: 'Supplier Rank', store: true },
    { name: 'street', type: 'char', string: 'Street', store: true },
    { name: 'city', type: 'char', string: 'City', store: true },
    {
      name: 'country_id',
      type: 'many2one',
      string: 'Country',
      store: true,
      relation: 'res.country',
      ondelete: 'restrict',
    },
    { name: 'comment', type: 'html', string: 'Notes', store: true },
    {
      name: 'lang',
      type: 'selection',
      string: 'Language',
      store: true,
      selection: INSTALLED_LANGS,
      help: 'All the emails and documents sent to this contact will be translated in this language.',
    },
    {
      name: 'credit_limit',
      type: 'float',
      string: 'Credit Limit',
      store: true,
      companyDependent: true,
      help: 'Credit limit specific to this partner.',
    },
    {
      name: 'category_id',
      type: 'many2many',
      string: 'Tags',
      store: true,
      relation: 'res.partner.category',
    },
    { name: 'active', type: 'boolean', string: 'Active', store: true },
    ...magicFields(),
  ],
};
