/**
 * The sandbox's custom (Studio) models on the wire, each type as Odoo sends it over XML-RPC,
 * JSON-RPC and JSON-2: date 'YYYY-MM-DD', datetime to the second, boolean and empty char False,
 * many2one `[id, name]` (`[id, False]` for a nameless record) or a bare id with `load: ''`,
 * x2many id lists in the comodel's order, binary base64 (its size with `bin_size`), json as an
 * object, html as text, monetary and float as numbers; `x_active` as the archive field; writes
 * of plain values and x2many commands.
 */
import { describe, expect, it } from 'vitest';
import { useSandbox, type SandboxHarness } from './sandbox-harness.js';
import { sandboxWire } from './sandbox-wire.js';

let harness: SandboxHarness;
useSandbox({ partners: 20, cylinders: 80, seed: 5 }, (started) => (harness = started));
const { executeKw, value, post, fault } = sandboxWire(() => harness);
const control = () => harness.sandbox.control;

type Cylinder = Record<string, unknown> & { id: number };
const cylinders = (): Cylinder[] => control().records('x_cylinder', { load: '' });

/** The same `read` over each transport, decoded. */
async function readEverywhere(model: string, ids: number[], kwargs: Record<string, unknown>) {
  const { sandbox } = harness;
  const xml = await value(executeKw(model, 'read', [ids], kwargs));
  const jsonrpc = await post(
    '/jsonrpc',
    JSON.stringify({
      jsonrpc: '2.0',
      method: 'call',
      id: 1,
      params: {
        service: 'object',
        method: 'execute_kw',
        args: [sandbox.database, sandbox.uid, sandbox.password, model, 'read', [ids], kwargs],
      },
    }),
    { 'content-type': 'application/json' },
  );
  const json2 = await post(`/json/2/${model}/read`, JSON.stringify({ ids, ...kwargs }), {
    'content-type': 'application/json',
    authorization: `bearer ${sandbox.password}`,
  });
  return {
    xml,
    jsonrpc: (JSON.parse(jsonrpc.body) as { result: unknown }).result,
    json2: JSON.parse(json2.body) as unknown,
  };
}

describe('generated custom records', () => {
  it('cover every empty case, exactly two tags, valves 0 to 3, archived ones', () => {
    const all = cylinders();
    expect(all).toHaveLength(80);
    for (const field of [
      'x_serial',
      'x_installed_on',
      'x_checked_at',
      'x_status',
      'x_notes',
      'x_photo',
      'x_partner_id',
      'x_specs',
      'x_name',
    ])
      expect(all.some((cylinder) => cylinder[field] === false)).toBe(true);
    expect(all.some((cylinder) => cylinder.x_in_service === false)).toBe(true);
    expect(all.some((cylinder) => cylinder.x_active === false)).toBe(true);
    expect(all.some((cylinder) => cylinder.x_price === 0)).toBe(true);
    expect(new Set(all.map((c) => (c.x_tag_ids as number[]).length))).toEqual(
      new Set([0, 1, 2, 3]),
    );
    expect(new Set(all.map((c) => (c.x_valve_ids as number[]).length))).toEqual(
      new Set([0, 1, 2, 3]),
    );
  });
});

describe('reads of every type, on the three transports', () => {
  it('sends each value as Odoo does, the same decoded on XML-RPC, JSON-RPC and JSON-2', async () => {
    const full = cylinders().find(
      (c) =>
        c.x_photo !== false &&
        c.x_specs !== false &&
        c.x_checked_at !== false &&
        c.x_installed_on !== false &&
        c.x_partner_id !== false &&
        (c.x_tag_ids as number[]).length === 2,
    )!;
    const fields = [
      'x_name',
      'x_capacity',
      'x_price',
      'x_in_service',
      'x_installed_on',
      'x_checked_at',
      'x_status',
      'x_notes',
      'x_photo',
      'x_partner_id',
      'x_tag_ids',
      'x_valve_ids',
      'x_specs',
      'x_currency_id',
    ];
    const { xml, jsonrpc, json2 } = await readEverywhere('x_cylinder', [full.id], { fields });
    expect(jsonrpc).toEqual(xml);
    expect(json2).toEqual(xml);
    const [record] = xml as Cylinder[];
    expect(record!.x_installed_on).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(record!.x_checked_at).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(record!.x_in_service).toBe(full.x_in_service);
    expect(record!.x_partner_id).toEqual([full.x_partner_id, expect.any(String)]);
    expect(record!.x_tag_ids).toHaveLength(2);
    expect(
      Buffer.from(record!.x_photo as string, 'base64')
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    expect(record!.x_specs).toMatchObject({
      material: expect.any(String),
      standards: expect.any(Array),
    });
    const raw = await executeKw('x_cylinder', 'read', [[full.id]], {
      fields: ['x_specs', 'x_in_service', 'x_photo'],
    });
    expect(raw).toContain('<name>x_specs</name>\n<value><struct>\n');
    expect(raw).toContain(
      `<name>x_in_service</name>\n<value><boolean>${full.x_in_service ? 1 : 0}</boolean></value>`,
    );
    expect(raw).toMatch(
      /<name>x_photo<\/name>\n<value><string>iVBORw0KGg[A-Za-z0-9+/=]+<\/string><\/value>/,
    );
  });

  it('sends empty values as False, numbers as 0.0, whole floats as doubles', async () => {
    const empty = control().create('x_cylinder', { x_capacity: 35 });
    const raw = await executeKw('x_cylinder', 'read', [[empty]], {
      fields: [
        'x_name',
        'x_price',
        'x_capacity',
        'x_installed_on',
        'x_checked_at',
        'x_photo',
        'x_specs',
        'x_partner_id',
        'x_tag_ids',
        'x_status',
        'x_active',
      ],
    });
    for (const field of [
      'x_name',
      'x_installed_on',
      'x_checked_at',
      'x_photo',
      'x_specs',
      'x_partner_id',
      'x_status',
    ])
      expect(raw).toContain(`<name>${field}</name>\n<value><boolean>0</boolean></value>`);
    expect(raw).toContain('<name>x_price</name>\n<value><double>0.0</double></value>');
    expect(raw).toContain('<name>x_capacity</name>\n<value><double>35.0</double></value>');
    expect(raw).toContain('<name>x_tag_ids</name>\n<value><array><data>\n</data></array></value>');
    expect(raw).toContain('<name>x_active</name>\n<value><boolean>1</boolean></value>');
  });

  it('reads a nameless record’s many2one as [id, False], and bare ids with load ""', async () => {
    const valve = control()
      .records('x_cylinder_valve', { fields: ['x_cylinder_id'], load: '' })
      .find((candidate) => (candidate.x_cylinder_id as number) % 40 === 0)!;
    const { xml, json2 } = await readEverywhere('x_cylinder_valve', [valve.id], {
      fields: ['x_cylinder_id'],
    });
    expect(xml).toEqual([{ id: valve.id, x_cylinder_id: [valve.x_cylinder_id, false] }]);
    expect(json2).toEqual(xml);
    const bare = await readEverywhere('x_cylinder_valve', [valve.id], {
      fields: ['x_cylinder_id'],
      load: '',
    });
    expect(bare.xml).toEqual([{ id: valve.id, x_cylinder_id: valve.x_cylinder_id }]);
    expect(bare.json2).toEqual(bare.xml);
  });

  it('sends a binary’s size with bin_size (human_size: 1152 bytes are 1.12 Kb)', async () => {
    const id = control().create('x_cylinder', {
      x_name: 'sized',
      x_photo: Buffer.alloc(1_152, 7).toString('base64'),
    });
    const small = control().create('x_cylinder', {
      x_photo: Buffer.alloc(68, 1).toString('base64'),
    });
    const sized = await readEverywhere('x_cylinder', [id, small], {
      fields: ['x_photo', 'x_name'],
      context: { bin_size: true },
    });
    expect(sized.xml).toEqual([
      { id, x_photo: '1.12 Kb', x_name: 'sized' },
      { id: small, x_photo: '68.00 bytes', x_name: false },
    ]);
    expect(sized.json2).toEqual(sized.xml);
    const one = await value(
      executeKw('x_cylinder', 'read', [[id]], {
        fields: ['x_photo'],
        context: { bin_size_x_photo: true },
      }),
    );
    expect(one).toEqual([{ id, x_photo: '1.12 Kb' }]);
  });

  it('filters on x_active unless active_test is off', async () => {
    const archived = cylinders()
      .filter((c) => c.x_active === false)
      .map((c) => c.id);
    const visible = (await value(executeKw('x_cylinder', 'search', [[]]))) as number[];
    expect(visible.some((id) => archived.includes(id))).toBe(false);
    const all = (await value(
      executeKw('x_cylinder', 'search', [[]], { context: { active_test: false } }),
    )) as number[];
    expect(all).toEqual(expect.arrayContaining(archived));
    // action_archive returns None, which Odoo's XML-RPC cannot marshal: a fault, after the
    // method's transaction committed.
    expect(
      (await fault(executeKw('x_cylinder', 'action_archive', [[visible[0]]]))).faultString,
    ).toContain('cannot marshal None unless allow_none is enabled');
    expect(
      control().records('x_cylinder', { ids: [visible[0]!], fields: ['x_active'] })[0]!.x_active,
    ).toBe(false);
  });
});

describe('writes of every type', () => {
  it('takes plain values and x2many commands, and refuses bad ones as Odoo does', async () => {
    const id = (await value(
      executeKw('x_cylinder', 'create', [
        {
          x_name: 'Bouteille « test »',
          x_serial: 'S'.repeat(40),
          x_capacity: 12.5,
          x_price: 199.99,
          x_currency_id: 2,
          x_in_service: true,
          x_installed_on: '2024-02-29',
          x_checked_at: '2025-05-01 08:30:00',
          x_status: 'filled',
          x_notes: '<p>Vérifiée &amp; scellée</p>',
          x_specs: { material: 'steel', standards: ['EN 1442'], nested: { level: 2 } },
          x_tag_ids: [[6, 0, [3, 1]]],
          x_valve_ids: [
            [0, 0, { x_name: 'V1', x_pressure_bar: 18.5 }],
            [0, 0, { x_name: 'V2' }],
          ],
        },
      ]),
    )) as number;
    const [created] = (await value(
      executeKw('x_cylinder', 'read', [[id]], {
        fields: ['x_serial', 'x_tag_ids', 'x_valve_ids', 'x_specs', 'x_checked_at'],
      }),
    )) as Cylinder[];
    // Char keeps `size` characters; many2many in the tags' order; one2many in the valves' order.
    expect(created!.x_serial).toBe('S'.repeat(32));
    expect(created!.x_specs).toEqual({
      material: 'steel',
      standards: ['EN 1442'],
      nested: { level: 2 },
    });
    expect(created!.x_checked_at).toBe('2025-05-01 08:30:00');
    expect(created!.x_valve_ids as number[]).toHaveLength(2);
    await value(
      executeKw('x_cylinder', 'write', [
        [id],
        {
          x_tag_ids: [[4, 2]],
          x_valve_ids: [[2, (created!.x_valve_ids as number[])[0]]],
          x_specs: {},
        },
      ]),
    );
    const [after] = (await value(
      executeKw('x_cylinder', 'read', [[id]], { fields: ['x_tag_ids', 'x_valve_ids', 'x_specs'] }),
    )) as Cylinder[];
    expect(new Set(after!.x_tag_ids as number[])).toEqual(new Set([1, 2, 3]));
    expect(after!.x_valve_ids).toEqual([(created!.x_valve_ids as number[])[1]]);
    expect(after!.x_specs).toBe(false);
    const bad = async (vals: Record<string, unknown>) =>
      (
        await post('/json/2/x_cylinder/write', JSON.stringify({ ids: [id], vals }), {
          'content-type': 'application/json',
          authorization: `bearer ${harness.sandbox.password}`,
        })
      ).status;
    expect(await bad({ x_status: 'melted' })).toBe(500);
    expect(await bad({ x_installed_on: '2025-02-30' })).toBe(500);
    expect(await bad({ x_partner_id: 99_999 })).toBe(404);
    expect(await bad({ x_photo: 'abc' })).toBe(500);
  });
});
