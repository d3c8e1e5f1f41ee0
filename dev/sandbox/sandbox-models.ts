/**
 * The models the sandbox serves, declared the way an Odoo module declares them: fields with
 * their types, labels, storage, relations and defaults, and each model's `_order`.
 *
 * `dimagaz.bc` is shaped on `purchase.order` and `dimagaz.bc.line` on `purchase.order.line`;
 * the small reference models (partners, currencies, users…) exist so many2one values have a
 * display name. Each business model has a non-stored computed field, so `fields_get`'s `store`
 * matters to a client that asks for stored fields only.
 */
import type { OdooFieldType } from '../../src/clients/odoo/odoo-types.js';

export interface FieldSpec {
  name: string;
  type: OdooFieldType;
  string: string;
  store: boolean;
  required?: boolean;
  readonly?: boolean;
  relation?: string;
  /** one2many: the many2one on the comodel that points back. */
  relationField?: string;
  selection?: ReadonlyArray<readonly [string, string]>;
  help?: string;
  /** monetary: the many2one to res.currency. */
  currencyField?: string;
  /** Kept in an inverse index for fast `field in [...]` searches (bc_id). */
  indexed?: boolean;
  /** many2one: delete this record with its target (bc_id). */
  ondeleteCascade?: boolean;
  /** char/text/html: translatable. */
  translate?: boolean;
  digits?: readonly [number, number];
  /** Non-stored computed fields and stored computed ones derive from the record. */
  computed?: boolean;
  depends?: readonly string[];
}

export interface ModelSpec {
  name: string;
  description: string;
  /** `_order`: what `search` sorts by when the caller gives no order. */
  order: string;
  fields: readonly FieldSpec[];
}

/** Fields every model has (`_log_access`), plus `id` and `display_name`. */
function magicFields(): FieldSpec[] {
  return [
    { name: 'id', type: 'integer', string: 'ID', store: true, readonly: true },
    {
      name: 'display_name',
      type: 'char',
      string: 'Display Name',
      store: false,
      readonly: true,
      computed: true,
    },
    {
      name: 'create_uid',
      type: 'many2one',
      string: 'Created by',
      store: true,
      readonly: true,
      relation: 'res.users',
    },
    { name: 'create_date', type: 'datetime', string: 'Created on', store: true, readonly: true },
    {
      name: 'write_uid',
      type: 'many2one',
      string: 'Last Updated by',
      store: true,
      readonly: true,
      relation: 'res.users',
    },
    {
      name: 'write_date',
      type: 'datetime',
      string: 'Last Updated on',
      store: true,
      readonly: true,
    },
  ];
}

export const BC_STATES = [
  ['draft', 'RFQ'],
  ['sent', 'RFQ Sent'],
  ['to approve', 'To Approve'],
  ['purchase', 'Purchase Order'],
  ['done', 'Locked'],
  ['cancel', 'Cancelled'],
] as const;

const BC: ModelSpec = {
  name: 'dimagaz.bc',
  description: 'Bon de commande',
  // purchase.order's own order: a client that omits `order` does not get id order.
  order: 'priority desc, id desc',
  fields: [
    { name: 'name', type: 'char', string: 'Order Reference', store: true, required: true },
    {
      name: 'partner_id',
      type: 'many2one',
      string: 'Vendor',
      store: true,
      required: true,
      relation: 'res.partner',
    },
    { name: 'date_order', type: 'datetime', string: 'Order Deadline', store: true, required: true },
    { name: 'date_planned', type: 'datetime', string: 'Expected Arrival', store: true },
    {
      name: 'date_approve',
      type: 'datetime',
      string: 'Confirmation Date',
      store: true,
      readonly: true,
    },
    {
      name: 'state',
      type: 'selection',
      string: 'Status',
      store: true,
      readonly: true,
      selection: BC_STATES,
    },
    {
      name: 'amount_untaxed',
      type: 'monetary',
      string: 'Untaxed Amount',
      store: true,
      readonly: true,
      currencyField: 'currency_id',
      computed: true,
      depends: ['line_ids.price_subtotal'],
    },
    {
      name: 'amount_tax',
      type: 'monetary',
      string: 'Taxes',
      store: true,
      readonly: true,
      currencyField: 'currency_id',
      computed: true,
    },
    {
      name: 'amount_total',
      type: 'monetary',
      string: 'Total',
      store: true,
      readonly: true,
      currencyField: 'currency_id',
      computed: true,
    },
    {
      name: 'currency_id',
      type: 'many2one',
      string: 'Currency',
      store: true,
      required: true,
      relation: 'res.currency',
    },
    {
      name: 'company_id',
      type: 'many2one',
      string: 'Company',
      store: true,
      required: true,
      relation: 'res.company',
    },
    { name: 'user_id', type: 'many2one', string: 'Buyer', store: true, relation: 'res.users' },
    {
      name: 'origin',
      type: 'char',
      string: 'Source Document',
      store: true,
      help: 'Reference of the document that generated this purchase order request.',
    },
    { name: 'notes', type: 'html', string: 'Terms and Conditions', store: true, translate: false },
    {
      name: 'priority',
      type: 'selection',
      string: 'Priority',
      store: true,
      selection: [
        ['0', 'Normal'],
        ['1', 'Urgent'],
      ],
    },
    { name: 'active', type: 'boolean', string: 'Active', store: true },
    {
      name: 'line_ids',
      type: 'one2many',
      string: 'Order Lines',
      store: true,
      relation: 'dimagaz.bc.line',
      relationField: 'bc_id',
    },
    {
      name: 'line_count',
      type: 'integer',
      string: 'Line Count',
      store: false,
      readonly: true,
      computed: true,
      depends: ['line_ids'],
    },
    ...magicFields(),
  ],
};

const BC_LINE: ModelSpec = {
  name: 'dimagaz.bc.line',
  description: 'Ligne de bon de commande',
  order: 'bc_id, sequence, id',
  fields: [
    {
      name: 'bc_id',
      type: 'many2one',
      string: 'Order Reference',
      store: true,
      required: true,
      relation: 'dimagaz.bc',
      indexed: true,
      ondeleteCascade: true,
    },
    { name: 'sequence', type: 'integer', string: 'Sequence', store: true },
    {
      name: 'product_id',
      type: 'many2one',
      string: 'Product',
      store: true,
      relation: 'product.product',
    },
    { name: 'name', type: 'text', string: 'Description', store: true, required: true },
    {
      name: 'product_qty',
      type: 'float',
      string: 'Quantity',
      store: true,
      required: true,
      digits: [16, 3],
    },
    { name: 'qty_received', type: 'float', string: 'Received Qty', store: true, digits: [16, 3] },
    {
      name: 'product_uom',
      type: 'many2one',
      string: 'Unit of Measure',
      store: true,
      relation: 'uom.uom',
    },
    {
      name: 'price_unit',
      type: 'float',
      string: 'Unit Price',
      store: true,
      required: true,
      digits: [16, 2],
    },
    {
      name: 'price_subtotal',
      type: 'monetary',
      string: 'Subtotal',
      store: true,
      readonly: true,
      currencyField: 'currency_id',
      computed: true,
      depends: ['product_qty', 'price_unit'],
    },
    {
      name: 'currency_id',
      type: 'many2one',
      string: 'Currency',
      store: true,
      readonly: true,
      relation: 'res.currency',
    },
    { name: 'taxes_id', type: 'many2many', string: 'Taxes', store: true, relation: 'account.tax' },
    { name: 'date_planned', type: 'datetime', string: 'Expected Arrival', store: true },
    {
      name: 'state',
      type: 'selection',
      string: 'Status',
      store: true,
      readonly: true,
      selection: BC_STATES,
    },
    {
      name: 'qty_to_receive',
      type: 'float',
      string: 'Quantity to Receive',
      store: false,
      readonly: true,
      computed: true,
      depends: ['product_qty', 'qty_received'],
    },
    ...magicFields(),
  ],
};

function referenceModel(
  name: string,
  description: string,
  extra: FieldSpec[] = [],
  options: { translateName?: boolean } = {},
): ModelSpec {
  return {
    name,
    description,
    order: 'id',
    fields: [
      {
        name: 'name',
        type: 'char',
        string: 'Name',
        store: true,
        required: true,
        translate: options.translateName === true,
      },
      ...extra,
      ...magicFields(),
    ],
  };
}

/** Every model the sandbox serves, by name. */
export const SANDBOX_MODELS: readonly ModelSpec[] = [
  BC,
  BC_LINE,
  referenceModel('res.partner', 'Contact', [
    { name: 'active', type: 'boolean', string: 'Active', store: true },
  ]),
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
  ]),
];

export const BC_MODEL = 'dimagaz.bc';
export const BC_LINE_MODEL = 'dimagaz.bc.line';
