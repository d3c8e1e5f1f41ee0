/**
 * How the sandbox declares a model, the way an Odoo module (or Odoo Studio, for custom `x_`
 * models) declares it: each field with its type, label, storage, relation and the attributes
 * `fields_get` reports, and the model's own `_order` and record name. `fields_get` describes a
 * field from its declaration alone (sandbox-fields-get.ts); what Odoo computes lives in the
 * rules (rules/).
 */
import type { OdooFieldType } from '../../../src/clients/odoo/odoo-types.js';

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
  /** monetary: the many2one to res.currency (Odoo's default: `currency_id`, else `x_currency_id`). */
  currencyField?: string;
  /** Kept in an inverse index: fast `field in [...]` searches, and the one2many pointing back. */
  indexed?: boolean;
  /**
   * many2one: what deleting the target does to this record (Odoo's foreign key): `cascade`
   * deletes it, `set null` empties the field, `restrict` refuses the deletion. Default: `restrict`
   * when required, else `set null`, as Odoo's Many2one.
   */
  ondelete?: 'cascade' | 'set null' | 'restrict';
  /** char/text/html: translatable (one text per language, read in the context's language). */
  translate?: boolean;
  /** char: the column's maximum length. */
  size?: number;
  /** float: (precision, scale) when the field sets them; Odoo then stores a numeric. */
  digits?: readonly [number, number];
  /** Non-stored computed fields and stored computed ones derive from the record. */
  computed?: boolean;
  depends?: readonly string[];
  /** A related field's path (`move_id.date`): stored copies a rule keeps up to date. */
  related?: string;
  /** A field created from the UI (Odoo Studio, Settings → Technical): its name starts with `x_`. */
  manual?: boolean;
  /** Odoo 18+ stores one value per company (a jsonb column); the sandbox has one company's. */
  companyDependent?: boolean;
  /**
   * relational: the field's domain. On a one2many it also filters what reading the field gives
   * (res.partner's `child_ids` lists active contacts only).
   */
  domain?: readonly unknown[];
  /** `change_default`: the web client offers to make a value the default of dependent fields. */
  changeDefault?: boolean;
}

export interface ModelSpec {
  name: string;
  description: string;
  /** `_order`: what `search` sorts by when the caller gives no order. */
  order: string;
  fields: readonly FieldSpec[];
  /** `_rec_name` (default `name`; custom models use `x_name`). */
  recName?: string;
}

/** Fields every model has (`_log_access`), plus `id` and `display_name`. */
export function magicFields(): FieldSpec[] {
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

/** A small model whose records other records point at: a name, a few fields, `_order` id. */
export function referenceModel(
  name: string,
  description: string,
  extra: FieldSpec[] = [],
  options: { translateName?: boolean; order?: string } = {},
): ModelSpec {
  return {
    name,
    description,
    order: options.order ?? 'id',
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
