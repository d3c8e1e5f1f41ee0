import { describe, expect, it } from 'vitest';
import type { OdooFieldDescription } from '../../clients/odoo/odoo-types.js';
import { identifier, layoutProblems, planLayout, type FamilyLayout } from './layout.js';
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

/** A one2many target that keeps its owner in a stored many2one and carries stamps. */
const NOTE: Record<string, OdooFieldDescription> = {
  id: stored('integer'),
  write_date: stored('datetime'),
  order_id: stored('many2one', { relation: 'x.order' }),
};

const plan = (
  fields: Record<string, Record<string, OdooFieldDescription>> = {
    'x.order': ORDER,
    'x.order.line': LINE,
  },
  previous?: FamilyLayout,
  catalog = new Map<string, Map<string, string>>(),
  declared: ConfiguredFamilySpec = spec,
  unreadable: readonly string[] = [],
) =>
  planLayout(
    declared,
    new Map(
      Object.entries({ 'x.note': NOTE, ...fields }).map(([model, described]) => [
        model,
        { fields: described, readable: !unreadable.includes(model) },
      ]),
    ),
    previous,
    catalog,
  );

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
      // Plain numeric whatever Odoo's digits: they are an admin setting, and can change.
      ['qty', 'qty', 'numeric', undefined],
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

  it('refuses a model Odoo keeps no stamps of (no write_date: mail.followers), root or child', () => {
    const { write_date: _root, ...unstamped } = ORDER;
    const { write_date: _line, ...unstampedLine } = LINE;
    const why =
      'has no write_date (Odoo keeps no stamps of it: _log_access is off), so no run could see its changes';
    expect(plan({ 'x.order': unstamped, 'x.order.line': unstampedLine }).problems).toEqual([
      `orders: x.order: ${why}`,
      `orders: x.order.line: ${why}`,
    ]);
  });
});

describe('what planLayout leaves out', () => {
  const MAIL_FOLLOWERS: Record<string, OdooFieldDescription> = {
    id: stored('integer'),
    res_model: stored('char'),
    res_id: stored('many2one_reference'),
    partner_id: stored('many2one', { relation: 'res.partner' }),
  };
  const MAIL_MESSAGE: Record<string, OdooFieldDescription> = {
    id: stored('integer'),
    write_date: stored('datetime'),
    model: stored('char'),
    res_id: stored('many2one_reference'),
  };
  const PARTNER: Record<string, OdooFieldDescription> = {
    id: stored('integer'),
    write_date: stored('datetime'),
    active: stored('boolean'),
    name: stored('char'),
    parent_id: stored('many2one', { relation: 'res.partner' }),
    child_ids: stored('one2many', {
      relation: 'res.partner',
      relation_field: 'parent_id',
      domain: [['active', '=', true]],
    }),
    message_follower_ids: stored('one2many', {
      relation: 'mail.followers',
      relation_field: 'res_id',
    }),
    message_ids: stored('one2many', { relation: 'mail.message', relation_field: 'res_id' }),
    layer_ids: stored('one2many', {
      relation: 'stock.valuation.layer',
      relation_field: 'partner_id',
    }),
    gone_ids: stored('one2many', { relation: 'x.nowhere', relation_field: 'partner_id' }),
    scoped_ids: stored('one2many', {
      relation: 'res.partner',
      relation_field: 'parent_id',
      domain: "[('company_id', '=', company_id)]",
    }),
    signup_token: stored('char'),
    access_token: stored('char'),
    totp_secret: stored('char'),
    image_1920: stored('binary'),
    'x_studio_odd-name': stored('char'),
  };
  const LAYER: Record<string, OdooFieldDescription> = {
    id: stored('integer'),
    write_date: stored('datetime'),
    partner_id: stored('many2one', { relation: 'res.partner' }),
  };
  const partners: ConfiguredFamilySpec = {
    name: 'contacts',
    root: {
      model: 'res.partner',
      table: 'scrap_res_partner',
      binary: [],
      api: { filter: [], sort: [] },
    },
    children: [],
    schedule: {},
  };
  const planPartners = (declared = partners) =>
    plan(
      {
        'res.partner': PARTNER,
        'mail.followers': MAIL_FOLLOWERS,
        'mail.message': MAIL_MESSAGE,
        'stock.valuation.layer': LAYER,
      },
      undefined,
      undefined,
      declared,
      ['stock.valuation.layer'],
    );

  it('keeps a one2many only where the copy can keep it exact, with its static domain, and says why for the others', () => {
    const { layout, problems, leftOut } = planPartners();
    expect(problems).toEqual([]);
    expect(layout.models[0]!.links).toEqual([
      {
        field: 'child_ids',
        relation: 'res.partner',
        inverse: 'parent_id',
        domain: [['active', '=', true]],
        table: 'scrap_res_partner__child_ids',
      },
    ]);
    const why = Object.fromEntries(leftOut.map((field) => [field.field, field.reason]));
    expect(why).toEqual({
      message_follower_ids: expect.stringMatching(
        /^its inverse mail\.followers\.res_id is a stored many2one_reference, not a stored many2one to res\.partner/,
      ) as unknown,
      message_ids: expect.stringMatching(
        /^its inverse mail\.message\.res_id is a stored many2one_reference/,
      ) as unknown,
      layer_ids: 'the sync user may not read stock.valuation.layer',
      gone_ids: 'Odoo has no model x.nowhere the sync user can describe',
      scoped_ids: "its domain depends on the record ([('company_id', '=', company_id)])",
      signup_token: 'its name says it holds a secret: name it under fields to copy it',
      access_token: 'its name says it holds a secret: name it under fields to copy it',
      totp_secret: 'its name says it holds a secret: name it under fields to copy it',
      image_1920: 'a binary: list it under binary to copy it',
      'x_studio_odd-name': 'its name is not a plain identifier',
    });
    expect(layout.models[0]!.columns.map((column) => column.field)).toEqual(['name', 'parent_id']);
  });

  it('leaves a one2many out when its targets carry no write_date (mail.followers)', () => {
    const { leftOut } = plan(
      {
        'res.partner': {
          ...PARTNER,
          message_follower_ids: stored('one2many', {
            relation: 'mail.followers',
            relation_field: 'partner_id',
          }),
        },
        'mail.followers': MAIL_FOLLOWERS,
        'mail.message': MAIL_MESSAGE,
      },
      undefined,
      undefined,
      partners,
    );
    expect(leftOut.find((field) => field.field === 'message_follower_ids')?.reason).toBe(
      'mail.followers has no write_date (Odoo keeps no stamps of it): a change to it cannot be seen',
    );
  });

  it('copies a secret the declaration names, and refuses a named field it cannot keep exact', () => {
    const { layout, problems } = planPartners({
      ...partners,
      root: { ...partners.root, fields: ['name', 'signup_token', 'message_ids'] },
    });
    expect(layout.models[0]!.columns.map((column) => column.field)).toEqual([
      'name',
      'signup_token',
    ]);
    expect(problems).toEqual([
      expect.stringMatching(
        /^contacts: res\.partner: fields: message_ids cannot be copied: its inverse/,
      ),
    ]);
  });

  it('widens a column an earlier version rounded to numeric(p,s), keeping the layout version', () => {
    const earlier = plan().layout;
    const rounded: FamilyLayout = {
      ...earlier,
      models: earlier.models.map((model) => ({
        ...model,
        columns: model.columns.map((column) =>
          column.field === 'qty' ? { ...column, sqlType: 'numeric(16,3)' } : column,
        ),
      })),
    };
    const catalog = new Map([['scrap_x_order', new Map([['qty', 'numeric(16,3)']])]]);
    const next = plan(undefined, rounded, catalog);
    expect(next.problems).toEqual([]);
    expect(next.layout.version).toBe(rounded.version);
    expect(next.layout.models[0]!.columns.find((c) => c.field === 'qty')!.sqlType).toBe('numeric');
  });
});

describe('layoutProblems', () => {
  it('finds nothing in a layout migrate planned, and names what a hand-edited row slipped in', () => {
    const { layout } = plan();
    expect(layoutProblems(layout)).toEqual([]);
    const [root, ...children] = layout.models;
    const tampered: FamilyLayout = {
      ...layout,
      models: [
        {
          ...root!,
          table: 'scrap_x_order"; drop table sync_state; --',
          columns: [{ ...root!.columns[0]!, sqlType: 'text) ; select 1 --' }],
          links: [{ ...root!.links[0]!, relation: "x.note' or 1=1" }],
        },
        ...children,
      ],
    };
    expect(layoutProblems(tampered)).toEqual([
      expect.stringMatching(/^table "scrap_x_order\\"; drop table/),
      expect.stringMatching(/^type "text\) ; select 1 --" is not one migrate makes$/),
      expect.stringMatching(/^model "x.note' or 1=1" is not one migrate makes$/),
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
