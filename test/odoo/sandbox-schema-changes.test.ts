/**
 * Schema changes at run time, as modules make them: a field added with a default fills every
 * existing record without moving a `write_date` (Odoo's `_init_column` is one SQL UPDATE) and
 * shows in `fields_get` at once; a field dropped disappears from `fields_get` and from reads.
 * This is the drift a content check must catch under equal stamps.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../dev/sandbox/odoo-sandbox.js';
import { useSandbox, type SandboxHarness } from './sandbox-harness.js';
import { sandboxWire } from './sandbox-wire.js';

const clock = createManualClock(new Date('2025-06-02T09:00:00.000Z'));
let harness: SandboxHarness;
useSandbox(
  { orders: 30, linesPerOrder: 2, partners: 40, cylinders: 30, seed: 2, clock: clock.source },
  (started) => (harness = started),
);
const { executeKw, value, fault } = sandboxWire(() => harness);
const control = () => harness.sandbox.control;

function stamps(model: string): Map<number, number | undefined> {
  return new Map(
    control()
      .ids(model)
      .map((id) => [id, control().writeDateMicros(model, id)]),
  );
}

describe('a field added by a module', () => {
  it('fills existing BCs with its default, moves no stamp, and shows in fields_get at once', async () => {
    const before = stamps('dimagaz.bc');
    control().addField(
      'dimagaz.bc',
      {
        name: 'incoterm',
        type: 'selection',
        string: 'Incoterm',
        store: true,
        selection: [
          ['EXW', 'Ex Works'],
          ['DAP', 'Delivered at Place'],
        ],
      },
      { default: 'EXW' },
    );
    expect(
      await value(
        executeKw('dimagaz.bc', 'fields_get', [['incoterm']], { attributes: ['type', 'store'] }),
      ),
    ).toEqual({ incoterm: { type: 'selection', store: true } });
    const read = (await value(
      executeKw('dimagaz.bc', 'search_read', [[]], {
        fields: ['incoterm', 'write_date'],
        context: { active_test: false },
      }),
    )) as Array<{ id: number; incoterm: unknown }>;
    expect(read).toHaveLength(30);
    expect(read.every((bc) => bc.incoterm === 'EXW')).toBe(true);
    expect(stamps('dimagaz.bc')).toEqual(before);
    const fresh = control().create('dimagaz.bc', { partner_id: 1 });
    expect(
      control().records('dimagaz.bc', { ids: [fresh], fields: ['incoterm'] })[0]!.incoterm,
    ).toBe('EXW');
    expect(control().storedFields('dimagaz.bc')).toContain('incoterm');
  });

  it('converts a default given as a write would send it (a datetime, a many2one), for a manual field too', async () => {
    const before = stamps('x_cylinder');
    control().addField(
      'x_cylinder',
      { name: 'x_next_check', type: 'datetime', string: 'Next Check', store: true, manual: true },
      { default: '2026-01-15 08:00:00' },
    );
    control().addField(
      'x_cylinder',
      {
        name: 'x_depot_id',
        type: 'many2one',
        string: 'Depot',
        store: true,
        manual: true,
        relation: 'res.partner',
      },
      { default: 3 },
    );
    const [first] = (await value(
      executeKw('x_cylinder', 'read', [[1]], { fields: ['x_next_check', 'x_depot_id'], load: '' }),
    )) as Array<Record<string, unknown>>;
    expect(first).toEqual({ id: 1, x_next_check: '2026-01-15 08:00:00', x_depot_id: 3 });
    const described = (await value(
      executeKw('x_cylinder', 'fields_get', [['x_depot_id']]),
    )) as Record<string, Record<string, unknown>>;
    expect(described.x_depot_id).toMatchObject({ manual: true, relation: 'res.partner' });
    expect(stamps('x_cylinder')).toEqual(before);
    const found = (await value(
      executeKw('x_cylinder', 'search_count', [[['x_depot_id', '=', 3]]], {
        context: { active_test: false },
      }),
    )) as number;
    expect(found).toBe(30);
  });

  it('adds a many2many with no links and a one2many reading the records pointing back', async () => {
    control().addField('res.partner', {
      name: 'x_cylinder_ids',
      type: 'one2many',
      string: 'Cylinders',
      store: true,
      manual: true,
      relation: 'x_cylinder',
      relationField: 'x_partner_id',
    });
    control().addField(
      'x_cylinder',
      {
        name: 'x_tax_ids',
        type: 'many2many',
        string: 'Taxes',
        store: true,
        manual: true,
        relation: 'account.tax',
      },
      { default: [1] },
    );
    const owners = control().records('x_cylinder', {
      fields: ['x_partner_id', 'x_tax_ids'],
      load: '',
    });
    expect(owners.every((cylinder) => (cylinder.x_tax_ids as number[]).length === 0)).toBe(true);
    const owner = owners.find((cylinder) => cylinder.x_partner_id !== false)!;
    const [partner] = (await value(
      executeKw('res.partner', 'read', [[owner.x_partner_id]], { fields: ['x_cylinder_ids'] }),
    )) as Array<{ x_cylinder_ids: number[] }>;
    expect(partner!.x_cylinder_ids).toEqual(
      owners.filter((cylinder) => cylinder.x_partner_id === owner.x_partner_id).map((c) => c.id),
    );
  });

  it('refuses a field that exists or a relation the sandbox does not have', () => {
    expect(() =>
      control().addField('res.partner', {
        name: 'email',
        type: 'char',
        string: 'Email',
        store: true,
      }),
    ).toThrow(/already has a field email/);
    expect(() =>
      control().addField('res.partner', {
        name: 'x_site_id',
        type: 'many2one',
        string: 'Site',
        store: true,
        relation: 'stock.site',
      }),
    ).toThrow(/no model stock.site/);
  });
});

describe('a field dropped by a module', () => {
  it('leaves fields_get and reads, moves no stamp', async () => {
    const before = stamps('res.partner');
    control().removeField('res.partner', 'phone');
    const fields = (await value(
      executeKw('res.partner', 'fields_get', [], { attributes: ['type'] }),
    )) as Record<string, unknown>;
    expect(fields).not.toHaveProperty('phone');
    const { faultString } = await fault(
      executeKw('res.partner', 'read', [[1]], { fields: ['phone'] }),
    );
    expect(faultString).toContain("ValueError: Invalid field 'phone' on model 'res.partner'");
    expect(control().records('res.partner', { ids: [1] })[0]).not.toHaveProperty('phone');
    expect(stamps('res.partner')).toEqual(before);
  });

  it('drops the archive field: the model is no longer filtered on it', async () => {
    const all = control().ids('x_cylinder').length;
    control().removeField('x_cylinder', 'x_active');
    expect(await value(executeKw('x_cylinder', 'search_count', [[]]))).toBe(all);
  });

  it('refuses magic fields, the model’s order and the inverse of a one2many', () => {
    expect(() => control().removeField('dimagaz.bc', 'write_date')).toThrow(/magic field/);
    expect(() => control().removeField('res.partner', 'complete_name')).toThrow(
      /ordered by complete_name/,
    );
    expect(() => control().removeField('x_cylinder_valve', 'x_cylinder_id')).toThrow(
      /inverse of the one2many x_cylinder.x_valve_ids/,
    );
  });
});
