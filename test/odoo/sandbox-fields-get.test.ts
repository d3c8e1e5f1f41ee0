/**
 * The sandbox's `fields_get` against what Odoo's `Field.get_description` gives for each field
 * type (docs/odoo.md, Reading): the base attributes every field has, each type's own (size,
 * translate and trim, sanitize, selection, digits only when set, currency_field, attachment,
 * relation, relation_field, domain, context), manual fields of a custom model, related and
 * company-dependent fields, and `attributes` filtering, the same over XML-RPC and JSON-2.
 */
import { describe, expect, it } from 'vitest';
import { startSandbox, useSandbox, type SandboxHarness } from './sandbox-harness.js';
import { sandboxWire } from './sandbox-wire.js';

let harness: SandboxHarness;
useSandbox({}, (started) => (harness = started));
const { executeKw, value, post } = sandboxWire(() => harness);

type Descriptions = Record<string, Record<string, unknown>>;

async function fieldsGet(model: string, fields: string[] = []): Promise<Descriptions> {
  return (await value(executeKw(model, 'fields_get', [fields]))) as Descriptions;
}

/** What every stored, plain field says, before its type's own attributes. */
function base(name: string, type: string, string: string, extra: Record<string, unknown> = {}) {
  return {
    change_default: false,
    company_dependent: false,
    default_export_compatible: false,
    depends: [],
    exportable: true,
    groupable: true,
    manual: false,
    name,
    readonly: false,
    required: false,
    searchable: true,
    sortable: true,
    store: true,
    string,
    type,
    ...extra,
  };
}

describe('fields_get describes each type as Odoo does', () => {
  it('char: translate and trim, size only when the field sets one', async () => {
    const partner = await fieldsGet('res.partner', ['email']);
    expect(partner.email).toEqual({
      ...base('email', 'char', 'Email'),
      translate: false,
      trim: true,
    });
    const country = await fieldsGet('res.country', ['code', 'name']);
    expect(country.code).toMatchObject({ type: 'char', size: 2, trim: true, translate: false });
    expect(country.code?.help).toBe(
      'The ISO country code in two chars. \nYou can use this field for quick search.',
    );
    expect(country.name).toMatchObject({ translate: true, required: true });
    expect(country.name).not.toHaveProperty('size');
  });

  it('text and html: translate; html with its sanitize options', async () => {
    const line = await fieldsGet('dimagaz.bc.line', ['name']);
    expect(line.name).toEqual({
      ...base('name', 'text', 'Description', { required: true }),
      translate: false,
    });
    const partner = await fieldsGet('res.partner', ['comment']);
    expect(partner.comment).toEqual({
      ...base('comment', 'html', 'Notes'),
      sanitize: true,
      sanitize_attributes: true,
      sanitize_style: false,
      sanitize_tags: true,
      strip_classes: false,
      strip_style: false,
      translate: false,
    });
  });

  it('selection: the [value, label] list', async () => {
    const move = await fieldsGet('account.move', ['state', 'move_type']);
    expect(move.state).toEqual({
      ...base('state', 'selection', 'Status', { readonly: true, required: true }),
      selection: [
        ['draft', 'Draft'],
        ['posted', 'Posted'],
        ['cancel', 'Cancelled'],
      ],
    });
    expect(move.move_type).toMatchObject({ change_default: true });
  });

  it('boolean, date, datetime and json: the base attributes only', async () => {
    const partner = await fieldsGet('res.partner', ['is_company']);
    expect(partner.is_company).toEqual({
      ...base('is_company', 'boolean', 'Is a Company'),
      help: 'Check if the contact is a company, otherwise it is a person',
    });
    const move = await fieldsGet('account.move', ['date']);
    expect(move.date).toEqual(base('date', 'date', 'Date', { required: true }));
    const bc = await fieldsGet('dimagaz.bc', ['date_planned']);
    expect(bc.date_planned).toEqual(base('date_planned', 'datetime', 'Expected Arrival'));
    const cylinder = await fieldsGet('x_cylinder', ['x_specs']);
    expect(cylinder.x_specs).toEqual(base('x_specs', 'json', 'Specifications', { manual: true }));
  });

  it('integer and float: sum aggregator (not on sequence or id), digits only when set', async () => {
    const partner = await fieldsGet('res.partner', ['customer_rank', 'credit_limit', 'id']);
    expect(partner.customer_rank).toEqual({
      ...base('customer_rank', 'integer', 'Customer Rank'),
      aggregator: 'sum',
    });
    expect(partner.credit_limit).toEqual({
      ...base('credit_limit', 'float', 'Credit Limit', { company_dependent: true }),
      aggregator: 'sum',
      help: 'Credit limit specific to this partner.',
    });
    expect(partner.id).toEqual(base('id', 'integer', 'ID', { readonly: true }));
    const line = await fieldsGet('account.move.line', ['quantity', 'sequence']);
    expect(line.quantity).toEqual({
      ...base('quantity', 'float', 'Quantity'),
      aggregator: 'sum',
      digits: [16, 2],
    });
    expect(line.sequence).toEqual(base('sequence', 'integer', 'Sequence'));
  });

  it('monetary: its currency field, declared or found (currency_id, else x_currency_id)', async () => {
    const line = await fieldsGet('account.move.line', ['debit', 'price_subtotal']);
    expect(line.debit).toEqual({
      ...base('debit', 'monetary', 'Debit', { readonly: true, depends: ['balance'] }),
      aggregator: 'sum',
      currency_field: 'company_currency_id',
    });
    expect(line.price_subtotal?.currency_field).toBe('currency_id');
    const cylinder = await fieldsGet('x_cylinder', ['x_price']);
    expect(cylinder.x_price).toMatchObject({ currency_field: 'x_currency_id', manual: true });
  });

  it('binary: stored as an attachment, neither sortable nor groupable', async () => {
    const cylinder = await fieldsGet('x_cylinder', ['x_photo']);
    expect(cylinder.x_photo).toEqual({
      ...base('x_photo', 'binary', 'Photo', { manual: true, groupable: false, sortable: false }),
      attachment: true,
    });
  });

  it('many2one, one2many and many2many: relation, domain and context; relation_field on one2many; on 19, whether the comodel has a parent', async () => {
    const partner = await fieldsGet('res.partner', ['parent_id', 'child_ids', 'category_id']);
    expect(partner.parent_id).toEqual({
      ...base('parent_id', 'many2one', 'Related Company'),
      allow_hierachy_operators: true,
      context: {},
      domain: [],
      relation: 'res.partner',
    });
    expect(partner.child_ids).toEqual({
      ...base('child_ids', 'one2many', 'Contact', { groupable: false, sortable: false }),
      allow_hierachy_operators: true,
      context: {},
      domain: [['active', '=', true]],
      relation: 'res.partner',
      relation_field: 'parent_id',
    });
    expect(partner.category_id).toEqual({
      ...base('category_id', 'many2many', 'Tags', { sortable: false }),
      allow_hierachy_operators: false,
      context: {},
      domain: [],
      relation: 'res.partner.category',
    });
    const older = await startSandbox({ serverVersion: '17.0' });
    try {
      const described = (await (
        await fetch(`${older.sandbox.url}/jsonrpc`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            jsonrpc: '2.0',
            method: 'call',
            id: 1,
            params: {
              service: 'object',
              method: 'execute_kw',
              args: [
                older.sandbox.database,
                older.sandbox.uid,
                older.sandbox.password,
                'res.partner',
                'fields_get',
                [['parent_id']],
              ],
            },
          }),
        })
      ).json()) as { result: Descriptions };
      expect(described.result.parent_id).not.toHaveProperty('allow_hierachy_operators');
    } finally {
      await older.close();
    }
  });

  it('related and non-stored computed fields', async () => {
    const line = await fieldsGet('account.move.line', ['move_name']);
    expect(line.move_name).toEqual({
      ...base('move_name', 'char', 'Number', { readonly: true, depends: ['move_id.name'] }),
      related: 'move_id.name',
      translate: false,
      trim: true,
    });
    const bc = await fieldsGet('dimagaz.bc', ['line_count', 'display_name']);
    expect(bc.line_count).toEqual(
      base('line_count', 'integer', 'Line Count', {
        store: false,
        readonly: true,
        searchable: false,
        sortable: false,
        groupable: false,
        depends: ['line_ids'],
      }),
    );
    expect(bc.display_name).toMatchObject({ store: false, searchable: true, sortable: false });
  });

  it('a custom model: manual x_ fields, magic fields not manual, x_active as its archive field', async () => {
    const cylinder = await fieldsGet('x_cylinder');
    const manual = Object.values(cylinder)
      .filter((field) => field.manual === true)
      .map((field) => field.name as string);
    expect(manual.every((name) => name.startsWith('x_'))).toBe(true);
    expect(manual).toContain('x_active');
    expect(cylinder.write_date?.manual).toBe(false);
    expect(cylinder).not.toHaveProperty('active');
    expect(cylinder.x_capacity).not.toHaveProperty('digits');
    expect(cylinder.x_serial).toMatchObject({ size: 32 });
    expect(cylinder.x_valve_ids).toMatchObject({
      relation: 'x_cylinder_valve',
      relation_field: 'x_cylinder_id',
    });
  });

  it('keeps exactly the attributes asked for, for every type, over XML-RPC and JSON-2', async () => {
    const attributes = ['type', 'store', 'relation', 'currency_field', 'digits', 'size'];
    for (const model of ['res.partner', 'account.move.line', 'x_cylinder']) {
      const xml = (await value(executeKw(model, 'fields_get', [], { attributes }))) as Descriptions;
      for (const description of Object.values(xml))
        for (const key of Object.keys(description)) expect(attributes).toContain(key);
      const json2 = await post(`/json/2/${model}/fields_get`, JSON.stringify({ attributes }), {
        'content-type': 'application/json',
        authorization: `bearer ${harness.sandbox.password}`,
      });
      expect(JSON.parse(json2.body)).toEqual(xml);
    }
    expect(
      await value(executeKw('x_cylinder', 'fields_get', [['x_price']], { attributes: [] })),
    ).toEqual({ x_price: {} });
  });
});
