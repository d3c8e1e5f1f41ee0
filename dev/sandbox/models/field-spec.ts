/**
 * How the sandbox declares a model, the way an Odoo module (or Odoo Studio, for custom `x_`
 * models) declares it: each field with its type, label, storage, relation and the attributes
 * `fields_get` reports, and the model's own `_order` and record name. `fields_get` describes a
 * field from its declaration alone (sandbox-fields-get.ts); what Odoo computes lives in the
 * rules (rules/).
 */
import type { OdooFieldType } from '../../../src/clients/odoo/odoo-types.js';
import type { PyValue } from '../python-values.js';

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
  /** Odoo's `groups=` (comma-separated xml ids): who may read it; `fields_get` says so. */
  groups?: string;
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
  /** many2one_reference: the char field naming the model its integer points into (`res_model`). */
  modelField?: string;
  /**
   * Whether the field has a column of its own (false for attachment binaries and x2many fields):
   * Odoo 17 sorts only by columns. Default: stored and neither x2many nor binary.
   */
  column?: boolean;
  /** Non-stored only: whether a domain can name it (Odoo 17 ignores a leaf on one that cannot). */
  searchable?: boolean;
  /**
   * What `fields_get` answers for the field, verbatim: a model loaded from a real Odoo's dump
   * (schemas/) is described exactly as that Odoo described it.
   */
  description?: Readonly<Record<string, PyValue>>;
  /** `fields_get` gives the whole description whatever `attributes` asks (res.users' group fields). */
  unfiltered?: boolean;
  /**
   * many2many: the other side of the same relation table holds the links (a tag's `partner_ids`
   * are the partners whose `category_id` lists it): read from there, written there.
   */
  mirrorOf?: { readonly model: string; readonly field: string };
}

/** The operations `check_access_rights` answers for. */
export type AccessOperation = 'read' | 'write' | 'create' | 'unlink';

export interface ModelSpec {
  name: string;
  description: string;
  /** `_order`: what `search` sorts by when the caller gives no order. */
  order: string;
  fields: readonly FieldSpec[];
  /** `_rec_name` (default `name`; custom models use `x_name`). */
  recName?: string;
  /**
   * `_log_access` (default true): false means no `create_uid`, `create_date`, `write_uid` nor
   * `write_date`, and nothing stamps its records (`mail.followers`).
   */
  logAccess?: boolean;
  /**
   * The Odoo release whose ORM the model follows where releases differ: '17.0' for a model
   * loaded from a dump (a domain's invalid field named with its leaf, a leaf on a field that
   * cannot be searched ignored, an order on a field without a column ignored). Default: 19.
   */
  release?: '17.0';
  /** What `check_access_rights` answers for the API user (default: every operation allowed). */
  access?: Readonly<Record<AccessOperation, boolean>>;
  /** The mixins the model inherits (`mail.thread` …): what its records have around them. */
  mixins?: readonly string[];
}

/**
 * Whether a record holds the field's value itself: stored fields but one2many (read through
 * their inverse), and company-dependent ones (Odoo keeps one value per company in
 * `ir.property`; the sandbox, the current company's in the record).
 */
export function holdsValue(spec: FieldSpec): boolean {
  if (spec.type === 'one2many' || spec.mirrorOf !== undefined) return false;
  return spec.store || spec.companyDependent === true;
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
