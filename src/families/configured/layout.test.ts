import { describe, expect, it } from 'vitest';
import type { OdooFieldDescription } from '../../clients/odoo/odoo-types.js';
import { identifier, planLayout, type FamilyLayout } from './layout.js';
import type { ConfiguredFamilySpec } from './spec.js';

const stored = (type: string, more: Partial<OdooFieldDescription> = {}): OdooFieldDescription =>
  ({ type, store: true, ...more }) as OdooFieldDescription;

const ORDER: Record<string, OdooFieldDescription> = {
  id: stored('integer'),
  write_date: stored('datetime'),
  active: stored('boolean'),
  name: stored('char'),
  data: stored('text'),
  partner_id: stored('many2one', { relation: 'res.partner' }),
  partner_name: stored('char'),
  amount: stored('monetary'),
  qty: stored('float', { digits: [16, 3] }),
  tag_ids: stored('many2many', { relation: 'x.tag' }),
  line_ids: stored('one2many', { relation: 'x.order.line', relation_field: 'order_id' }),
  note_ids: stored('one2many', { relation: 'x.note', relation_field: 'order_id' }),
  image: stored('binary'),
  doc: stored('binary'),
  total: { type: 'float', store: false },
};
const LINE: Record<string, OdooFieldDescription> = {
  id: stored('integer'),
  write_date: stored('datetime'),
  order_id: stored('many2one', { relation: 'x.order' }),
  active: stored('boolean'),
  seq: stored('integer'),
};

const spec: ConfiguredFamilySpec = {
  name: 'orders',
  root: {
    model: 'x.order',
    table: 'scrap_x_order',
    binary: ['doc'],
    api: { filter: ['partner_id'], sort: ['name'] },
  },
  children: [
    {
      model: 'x.order.line',
      table: 'scrap_x_order_line',
      binary: [],
      api: { filter: [], sort: [] },
      link: 'order_id',
    },
  ],
  schedule: {},
};

const plan = (
  fields: Record<string, Record<string, OdooFieldDescription>> = {
    'x.order': ORDER,
    'x.order.line': LINE,
  },
  previous?: FamilyLayout,
  catalog = new Map<string, Map<string, string>>(),
  declared: ConfiguredFamilySpec = spec,
) => planLayout(declared, fields, previous, catalog);

describe('planLayout', () => {
  it('gives every stored field a typed column, and to-many fields link tables', () => {
    const { layout, problems } = plan();
    expect(problems).toEqual([]);
    const [root, line] = layout.models;
    expect(root!.activeField).toBe('active');
    expect(root!.columns.map((c) => [c.field, c.column, c.sqlType, c.nameColumn])).toEqual([
      ['amount', 'amount', 'numeric', undefined],
      // A field named like a column every copy table has gets Odoo's prefix.
      ['data', 'odoo_data', 'text', undefined],
      ['doc', 'doc', 'text', undefined],
      ['name', 'name', 'text', undefined],
      // partner_name is a field of the model: the display name takes another name.
      ['partner_id', 'partner_id', 'integer', 'partner_id_name'],
      ['partner_name', 'partner_name', 'text', undefined],
      ['qty', 'qty', 'numeric(16,3)', undefined],
    ]);
    // The one2many to the child model is its table; the other one2many is a link table.
    expect(root!.links.map((link) => [link.field, link.table])).toEqual([
      ['note_ids', 'scrap_x_order__note_ids'],
      ['tag_ids', 'scrap_x_order__tag_ids'],
    ]);
    expect(line).toMatchObject({ parentField: 'order_id', parentColumn: 'order_id' });
    expect(line!.activeField).toBeUndefined();
    // A child's `active` is a column like any other.
    expect(line!.columns.map((c) => c.column)).toEqual(['active', 'order_id', 'seq']);
    expect(layout.version).toBe(1);
  });

  it('keeps its version when nothing changed, whatever order jsonb gave the keys', () => {
    const first = plan().layout;
    const reordered = JSON.parse(
      JSON.stringify(first, (_key, value: unknown) =>
        value && typeof value === 'object' && !Array.isArray(value)
          ? Object.fromEntries(Object.entries(value).reverse())
          : value,
      ),
    ) as FamilyLayout;
    expect(plan(undefined, reordered).layout.version).toBe(1);
  });

  it('adds a field Odoo gained, keeps the names it gave, and freezes a field Odoo dropped', () => {
    const first = plan().layout;
    const { name: _name, ...withoutName } = ORDER;
    const next = plan(
      {
        'x.order': { ...withoutName, name_2: stored('char'), odoo_data: stored('char') },
        'x.order.line': LINE,
      },
      first,
    );
    expect(next.problems).toEqual([]);
    expect(next.layout.version).toBe(2);
    const columns = next.layout.models[0]!.columns;
    expect(columns.find((c) => c.field === 'name')).toMatchObject({ column: 'name', frozen: true });
    expect(columns.find((c) => c.field === 'data')!.column).toBe('odoo_data');
    // A new field whose natural name is taken is numbered.
    expect(columns.find((c) => c.field === 'odoo_data')!.column).toBe('odoo_odoo_data');
  });

  it('refuses a type change while the column holds the old type, and names the way out', () => {
    const first = plan().layout;
    const catalog = new Map([['scrap_x_order', new Map([['qty', 'numeric(16,3)']])]]);
    const changed = plan(
      { 'x.order': { ...ORDER, qty: stored('char') }, 'x.order.line': LINE },
      first,
      catalog,
    );
    expect(changed.problems).toEqual([
      expect.stringMatching(
        /^orders: x\.order: qty is now char \(text\), but column scrap_x_order\.qty is numeric\(16,3\): .*rename column qty to qty_old/,
      ),
    ]);
    // Once the old column is renamed away, the column is created anew.
    expect(
      plan({ 'x.order': { ...ORDER, qty: stored('char') }, 'x.order.line': LINE }, first).problems,
    ).toEqual([]);
  });

  it('names what the declaration asks that Odoo does not have', () => {
    const { problems } = plan(
      { 'x.order': ORDER, 'x.order.line': { ...LINE, order_id: stored('char') } },
      undefined,
      undefined,
      {
        ...spec,
        root: {
          ...spec.root,
          fields: ['name', 'nothing'],
          binary: ['name'],
          api: { filter: ['tag_ids'], sort: ['absent'] },
        },
      },
    );
    expect(problems).toEqual([
      'orders: x.order: fields: nothing is not a stored field of the model',
      'orders: x.order: binary: name is not a binary field of the model',
      'orders: x.order: api.filter: tag_ids is not a column the API can filter on (a stored field, not to-many, json or an unlisted binary)',
      'orders: x.order: api.sort: absent is not a column the API can sort on (a stored field, not to-many, json or an unlisted binary)',
      'orders: x.order.line: link: order_id is not a stored many2one to x.order',
    ]);
    expect(plan({ 'x.order.line': LINE }).problems).toEqual([
      'orders: x.order: Odoo has no such model, or the sync user cannot read it',
    ]);
  });
});

describe('identifier', () => {
  it('keeps names PostgreSQL keeps, and cuts longer ones to distinct names of 63 bytes', () => {
    expect(identifier('scrap_x_order__tag_ids')).toBe('scrap_x_order__tag_ids');
    const long = identifier(`scrap_${'x'.repeat(60)}__a`);
    const other = identifier(`scrap_${'x'.repeat(60)}__b`);
    expect(long).toHaveLength(63);
    expect(long).not.toBe(other);
  });
});
