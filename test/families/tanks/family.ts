/**
 * A family declared in code by a test, never shipped: the sandbox's custom cylinders
 * (`x_cylinder`, Studio-made) and their valves, as a developer would declare them in
 * src/families/<family>/family.ts.
 */
import { columns as c } from '../../../src/families/columns.js';
import { defineFamily } from '../../../src/families/define-family.js';

export const tanks = defineFamily({
  name: 'tanks',
  noun: 'tank',
  root: {
    model: 'x_cylinder',
    table: 'test_tank',
    activeField: 'x_active',
    columns: [
      c.text('x_name'),
      c.text('x_serial'),
      c.decimal('x_capacity'),
      c.boolean('x_in_service'),
      c.date('x_installed_on'),
      c.datetime('x_checked_at'),
      c.selection('x_status'),
      c.many2one('x_partner_id', { name: 'x_partner_name' }),
    ],
    query: {
      filter: ['x_status', 'x_partner_id', 'x_capacity', 'x_name'],
      sort: ['x_name', 'x_checked_at'],
    },
  },
  children: [
    {
      model: 'x_cylinder_valve',
      table: 'test_tank_valve',
      parentField: 'x_cylinder_id',
      parentColumn: 'cylinder_odoo_id',
      columns: [c.text('x_name'), c.decimal('x_pressure_bar'), c.boolean('x_open')],
    },
  ],
});

export const tanksFamily = tanks.family;
