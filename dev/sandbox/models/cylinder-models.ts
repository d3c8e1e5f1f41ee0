/**
 * Two custom models as an operator creates them in Odoo Studio or Settings → Technical: every
 * model and field name starts with `x_`, every field is `manual`, the record name is `x_name` and
 * the archive field `x_active` (Odoo's `_active_name`). Manual fields carry only what
 * `ir.model.fields` can hold: no float digits, a monetary's currency field named explicitly.
 */
import { magicFields, type FieldSpec, type ModelSpec } from './field-spec.js';

export const CYLINDER_MODEL = 'x_cylinder';
export const VALVE_MODEL = 'x_cylinder_valve';

export const CYLINDER_STATUSES = [
  ['new', 'New'],
  ['filled', 'Filled'],
  ['empty', 'Empty'],
  ['scrapped', 'Scrapped'],
] as const;

/** A field created from the UI. */
function manual(spec: Omit<FieldSpec, 'store' | 'manual'>): FieldSpec {
  return { ...spec, store: true, manual: true };
}

export const CYLINDER: ModelSpec = {
  name: CYLINDER_MODEL,
  description: 'Cylinder',
  order: 'id',
  recName: 'x_name',
  fields: [
    manual({ name: 'x_name', type: 'char', string: 'Name' }),
    manual({ name: 'x_serial', type: 'char', string: 'Serial Number', size: 32 }),
    manual({ name: 'x_capacity', type: 'float', string: 'Capacity (kg)' }),
    manual({ name: 'x_price', type: 'monetary', string: 'Price', currencyField: 'x_currency_id' }),
    manual({
      name: 'x_currency_id',
      type: 'many2one',
      string: 'Currency',
      relation: 'res.currency',
    }),
    manual({ name: 'x_in_service', type: 'boolean', string: 'In Service' }),
    manual({ name: 'x_installed_on', type: 'date', string: 'Installed On' }),
    manual({ name: 'x_checked_at', type: 'datetime', string: 'Last Check' }),
    manual({ name: 'x_status', type: 'selection', string: 'Status', selection: CYLINDER_STATUSES }),
    manual({ name: 'x_notes', type: 'html', string: 'Notes' }),
    manual({ name: 'x_photo', type: 'binary', string: 'Photo' }),
    manual({
      name: 'x_partner_id',
      type: 'many2one',
      string: 'Customer',
      relation: 'res.partner',
    }),
    manual({
      name: 'x_tag_ids',
      type: 'many2many',
      string: 'Tags',
      relation: 'res.partner.category',
    }),
    manual({
      name: 'x_valve_ids',
      type: 'one2many',
      string: 'Valves',
      relation: VALVE_MODEL,
      relationField: 'x_cylinder_id',
    }),
    manual({ name: 'x_specs', type: 'json', string: 'Specifications' }),
    manual({ name: 'x_fill_count', type: 'integer', string: 'Fills' }),
    manual({ name: 'x_active', type: 'boolean', string: 'Active' }),
    ...magicFields(),
  ],
};

export const VALVE: ModelSpec = {
  name: VALVE_MODEL,
  description: 'Cylinder Valve',
  order: 'id',
  recName: 'x_name',
  fields: [
    manual({ name: 'x_name', type: 'char', string: 'Name' }),
    manual({
      name: 'x_cylinder_id',
      type: 'many2one',
      string: 'Cylinder',
      required: true,
      relation: CYLINDER_MODEL,
      indexed: true,
      ondelete: 'cascade',
    }),
    manual({ name: 'x_pressure_bar', type: 'float', string: 'Pressure (bar)' }),
    manual({ name: 'x_open', type: 'boolean', string: 'Open' }),
    ...magicFields(),
  ],
};
