/**
 * The sandbox against the facts of docs/odoo.md (transports, values, reading, the time model,
 * failures), checked on the raw wire:
 * answer shapes, fault codes and texts, empty values, many2one both ways, datetime truncation
 * and microsecond comparisons, the implicit active filter, default order, fields_get
 * attributes, domains, and the time model of long transactions.
 */
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeMethodResponse } from '../../src/clients/odoo/xmlrpc-decoder.js';
import { serializeMethodCall } from '../../src/clients/odoo/xmlrpc-transport.js';
import { createManualClock, type ManualClock } from '../../dev/sandbox/odoo-sandbox.js';
import { startSandbox, type SandboxHarness } from './sandbox-harness.js';

const START = new Date('2025-03-10T08:00:00.000Z');

let harness: SandboxHarness;
let clock: ManualClock;

beforeAll(async () => {
  clock = createManualClock(START);
  harness = await startSandbox({ orders: 60, linesPerOrder: 2, seed: 3, clock: clock.source });
});

afterAll(async () => {
  await harness.close();
});

beforeEach(() => {
  harness.sandbox.control.clearFaults();
});

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const response = await request(`${harness.sandbox.url}${path}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'text/xml', ...headers },
  });
  return {
    status: response.statusCode,
    type: String(response.headers['content-type']),
    body: await response.body.text(),
  };
}

/** A raw XML-RPC call: the exact answer text. */
async function xml(service: string, method: string, params: unknown[]): Promise<string> {
  const answer = await post(`/xmlrpc/2/${service}`, serializeMethodCall(method, params));
  expect(answer.status).toBe(200);
  expect(answer.type).toMatch(/^text\/xml/);
  return answer.body;
}

function executeKw(
  model: string,
  method: string,
  args: unknown[],
  kwargs: Record<string, unknown> = {},
  password?: string,
) {
  const { sandbox } = harness;
  return xml('object', 'execute_kw', [
    sandbox.database,
    sandbox.uid,
    password ?? sandbox.password,
    model,
    method,
    args,
    kwargs,
  ]);
}

async function value(answer: Promise<string>): Promise<unknown> {
  const decoded = decodeMethodResponse(await answer);
  if (decoded.fault)
    throw new Error(
      `unexpected fault ${String(decoded.faultCode)}: ${String(decoded.faultString)}`,
    );
  return decoded.value;
}

async function fault(
  answer: Promise<string>,
): Promise<{ faultCode: unknown; faultString: string }> {
  const decoded = decodeMethodResponse(await answer);
  if (!decoded.fault) throw new Error('expected a fault');
  return { faultCode: decoded.faultCode, faultString: String(decoded.faultString) };
}

describe('routes and wire format (docs/odoo.md, Transports)', () => {
  it('answers common.version with CPython marshaller bytes', async () => {
    const body = await xml('common', 'version', []);
    expect(
      body.startsWith(
        '<?xml version="1.0"?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n<member>\n<name>server_version</name>\n<value><string>19.0</string></value>\n</member>\n',
      ),
    ).toBe(true);
    expect(body.endsWith('</struct></value>\n</param>\n</params>\n\n</methodResponse>\n')).toBe(
      true,
    );
    expect(body).toContain(
      '<value><array><data>\n<value><int>19</int></value>\n<value><int>0</int></value>\n',
    );
  });

  it('refuses GET with 405 and unknown paths with 404, as HTML', async () => {
    const get = await request(`${harness.sandbox.url}/xmlrpc/2/object`);
    expect(get.statusCode).toBe(405);
    expect(await get.body.text()).toContain('Method Not Allowed');
    const missing = await post('/web/nothing', '');
    expect(missing.status).toBe(404);
    expect(missing.type).toMatch(/^text\/html/);
  });

  it('serves /web/version for JSON-2 clients', async () => {
    const response = await request(`${harness.sandbox.url}/web/version`);
    expect(await response.body.json()).toEqual({
      version_info: [19, 0, 0, 'final', 0, ''],
      version: '19.0',
    });
  });

  it('answers 413 to a body above the limit', async () => {
    const small = await startSandbox({ maxBodyBytes: 1_000 });
    try {
      const response = await request(`${small.sandbox.url}/xmlrpc/2/common`, {
        method: 'POST',
        body: 'x'.repeat(2_000),
      });
      expect(response.statusCode).toBe(413);
      await response.body.text();
    } finally {
      await small.close();
    }
  });
});

describe('authentication (docs/odoo.md, Transports and Failures)', () => {
  it('authenticate returns the uid, or False (not a fault) for a wrong password', async () => {
    const { sandbox } = harness;
    expect(
      await value(
        xml('common', 'authenticate', [sandbox.database, sandbox.username, sandbox.password, {}]),
      ),
    ).toBe(sandbox.uid);
    const refused = await xml('common', 'authenticate', [
      sandbox.database,
      sandbox.username,
      'nope',
      {},
    ]);
    expect(refused).toContain('<value><boolean>0</boolean></value>');
    expect(
      await value(xml('common', 'login', [sandbox.database, sandbox.username, sandbox.password])),
    ).toBe(sandbox.uid);
  });

  it('execute_kw with an empty or wrong password is fault 3 Access Denied', async () => {
    expect(await fault(executeKw('dimagaz.bc', 'search', [[]], {}, ''))).toEqual({
      faultCode: 3,
      faultString: 'Access Denied',
    });
    expect(await fault(executeKw('dimagaz.bc', 'search', [[]], {}, 'wrong'))).toEqual({
      faultCode: 3,
      faultString: 'Access Denied',
    });
  });

  it('locks a client out after repeated failures, like Odoo’s login cooldown', async () => {
    const guarded = await startSandbox({ loginCooldown: { failures: 3, durationMs: 60_000 } });
    try {
      const { sandbox } = guarded;
      const call = async (password: string) => {
        const body = serializeMethodCall('authenticate', [
          sandbox.database,
          sandbox.username,
          password,
          {},
        ]);
        const response = await request(`${sandbox.url}/xmlrpc/2/common`, { method: 'POST', body });
        return decodeMethodResponse(await response.body.text());
      };
      for (let i = 0; i < 3; i++) expect(await call('bad')).toEqual({ fault: false, value: false });
      expect(await call(sandbox.password)).toEqual({ fault: false, value: false });
      sandbox.control.resetLoginFailures();
      expect(await call(sandbox.password)).toEqual({ fault: false, value: sandbox.uid });
    } finally {
      await guarded.close();
    }
  });
});

describe('faults (docs/odoo.md, Failures)', () => {
  it('unknown model: fault 2 "Object x doesn\'t exist"', async () => {
    expect(await fault(executeKw('dimagaz.nope', 'search', [[]]))).toEqual({
      faultCode: 2,
      faultString: "Object dimagaz.nope doesn't exist",
    });
  });

  it('unknown method: fault 1 with a traceback ending in AttributeError', async () => {
    const { faultCode, faultString } = await fault(executeKw('dimagaz.bc', 'frobnicate', [[]]));
    expect(faultCode).toBe(1);
    expect(faultString.startsWith('Traceback (most recent call last):\n')).toBe(true);
    expect(
      faultString.endsWith("AttributeError: The method 'dimagaz.bc.frobnicate' does not exist\n"),
    ).toBe(true);
  });

  it('unknown field in fields, domain or order: fault 1 ValueError', async () => {
    const invalid = "ValueError: Invalid field 'bogus' on model 'dimagaz.bc'\n";
    expect(
      (
        await fault(executeKw('dimagaz.bc', 'search_read', [[]], { fields: ['bogus'] }))
      ).faultString.endsWith(invalid),
    ).toBe(true);
    expect(
      (await fault(executeKw('dimagaz.bc', 'search', [[['bogus', '=', 1]]]))).faultString.endsWith(
        invalid,
      ),
    ).toBe(true);
    expect(
      (
        await fault(executeKw('dimagaz.bc', 'search', [[]], { order: 'bogus desc' }))
      ).faultString.endsWith(invalid),
    ).toBe(true);
  });

  it('private method: fault 4', async () => {
    expect(await fault(executeKw('dimagaz.bc', '_read_group', [[]]))).toEqual({
      faultCode: 4,
      faultString: "Private methods (such as 'dimagaz.bc._read_group') cannot be called remotely.",
    });
  });

  it('bad arguments: fault 1 TypeError like Python', async () => {
    const { faultString } = await fault(executeKw('dimagaz.bc', 'search', [[]], { colour: 'red' }));
    expect(
      faultString.endsWith("TypeError: search() got an unexpected keyword argument 'colour'\n"),
    ).toBe(true);
  });

  it('write on a deleted record: fault 2 MissingError', async () => {
    const { faultCode, faultString } = await fault(
      executeKw('dimagaz.bc', 'write', [[999_999], { origin: 'x' }]),
    );
    expect(faultCode).toBe(2);
    expect(faultString).toContain('Record does not exist or has been deleted.');
  });

  it('never sends <nil/>; a None result is fault 1 TypeError (marshaller)', async () => {
    const body = await executeKw('dimagaz.bc', 'search_read', [[]], {
      fields: [],
      context: { active_test: false },
    });
    expect(body).not.toContain('<nil');
  });
});

describe('values (docs/odoo.md, Values)', () => {
  it('empty values are False, numeric NULLs are 0 / 0.0, strings always in <string>', async () => {
    const id = harness.sandbox.control.create('dimagaz.bc', { partner_id: 2 });
    const body = await executeKw('dimagaz.bc', 'read', [[id]], {
      fields: [
        'origin',
        'notes',
        'date_approve',
        'user_id',
        'amount_total',
        'line_ids',
        'name',
        'priority',
      ],
    });
    expect(body).toContain('<name>origin</name>\n<value><boolean>0</boolean></value>');
    expect(body).toContain('<name>notes</name>\n<value><boolean>0</boolean></value>');
    expect(body).toContain('<name>date_approve</name>\n<value><boolean>0</boolean></value>');
    expect(body).toContain('<name>amount_total</name>\n<value><double>0.0</double></value>');
    expect(body).toContain('<name>line_ids</name>\n<value><array><data>\n</data></array></value>');
    expect(body).toContain('<name>priority</name>\n<value><string>0</string></value>');
    const lineId = harness.sandbox.control.create('dimagaz.bc.line', {
      bc_id: id,
      name: 'Vide',
      product_qty: 0,
      price_unit: 0,
    });
    const line = await executeKw('dimagaz.bc.line', 'read', [[lineId]], {
      fields: ['sequence', 'qty_received', 'product_id'],
    });
    expect(line).toContain('<name>qty_received</name>\n<value><double>0.0</double></value>');
    expect(line).toContain('<name>product_id</name>\n<value><boolean>0</boolean></value>');
    expect(line).toContain('<name>sequence</name>\n<value><int>10</int></value>');
  });

  it('many2one is [id, display_name] by default and a bare id with load=""', async () => {
    const classic = (await value(
      executeKw('dimagaz.bc.line', 'read', [[1]], { fields: ['bc_id', 'product_uom'] }),
    )) as Array<Record<string, unknown>>;
    expect(classic[0]?.bc_id).toEqual([1, 'P00001']);
    expect(Array.isArray(classic[0]?.product_uom)).toBe(true);
    const bare = (await value(
      executeKw('dimagaz.bc.line', 'read', [[1]], { fields: ['bc_id'], load: '' }),
    )) as Array<Record<string, unknown>>;
    expect(bare[0]).toEqual({ id: 1, bc_id: 1 });
  });

  it('escapes & < > only and strips control characters', async () => {
    const id = harness.sandbox.control.create('dimagaz.bc', {
      partner_id: 1,
      origin: 'A & B <c> "d" \'e\' \u0003bell\ttab',
    });
    const body = await executeKw('dimagaz.bc', 'read', [[id]], { fields: ['origin'] });
    expect(body).toContain(
      '<value><string>A &amp; B &lt;c&gt; "d" \'e\' bell\ttab</string></value>',
    );
  });

  it('sends floats as Python repr and integers above 2^31-1 as doubles', async () => {
    harness.sandbox.control.write('dimagaz.bc.line', 2, {
      sequence: 3_000_000_000,
      price_unit: 0.00001,
      product_qty: 100,
    });
    const body = await executeKw('dimagaz.bc.line', 'read', [[2]], {
      fields: ['sequence', 'price_unit', 'product_qty'],
    });
    expect(body).toContain('<name>sequence</name>\n<value><double>3000000000.0</double></value>');
    expect(body).toContain('<name>price_unit</name>\n<value><double>1e-05</double></value>');
    expect(body).toContain('<name>product_qty</name>\n<value><double>100.0</double></value>');
  });

  it('create takes a dict (→ id) or a list (→ ids); read drops missing ids silently', async () => {
    const single = await value(executeKw('dimagaz.bc', 'create', [{ partner_id: 1 }]));
    expect(typeof single).toBe('number');
    const many = await value(
      executeKw('dimagaz.bc', 'create', [[{ partner_id: 1 }, { partner_id: 2 }]]),
    );
    expect(many).toEqual([(single as number) + 1, (single as number) + 2]);
    const read = (await value(
      executeKw('dimagaz.bc', 'read', [[single, 987_654, (single as number) + 1]], {
        fields: ['name'],
      }),
    )) as unknown[];
    expect(read.map((record) => (record as { id: number }).id)).toEqual([
      single,
      (single as number) + 1,
    ]);
  });

  it('unlink of a BC cascades to its lines', async () => {
    const id = (await value(
      executeKw('dimagaz.bc', 'create', [
        {
          partner_id: 1,
          line_ids: [
            [0, 0, { name: 'a', price_unit: 1 }],
            [0, 0, { name: 'b', price_unit: 2 }],
          ],
        },
      ]),
    )) as number;
    const lines = (await value(
      executeKw('dimagaz.bc.line', 'search', [[['bc_id', '=', id]]]),
    )) as number[];
    expect(lines).toHaveLength(2);
    expect(await value(executeKw('dimagaz.bc', 'unlink', [[id]]))).toBe(true);
    expect(await value(executeKw('dimagaz.bc.line', 'search', [[['id', 'in', lines]]]))).toEqual(
      [],
    );
  });
});

describe('search semantics (docs/odoo.md, Reading)', () => {
  it('adds active = True unless active_test is false or the domain names active', async () => {
    const id = harness.sandbox.control.create('dimagaz.bc', {
      partner_id: 4,
      origin: 'archived-one',
    });
    harness.sandbox.control.archive('dimagaz.bc', id);
    const domain = [['origin', '=', 'archived-one']];
    expect(await value(executeKw('dimagaz.bc', 'search', [domain]))).toEqual([]);
    expect(
      await value(executeKw('dimagaz.bc', 'search', [domain], { context: { active_test: false } })),
    ).toEqual([id]);
    expect(
      await value(executeKw('dimagaz.bc', 'search', [[...domain, ['active', '=', false]]])),
    ).toEqual([id]);
    expect(await value(executeKw('dimagaz.bc', 'search_count', [domain]))).toBe(0);
    expect(await value(executeKw('dimagaz.bc', 'read', [[id]], { fields: ['active'] }))).toEqual([
      { id, active: false },
    ]);
  });

  it('orders by the model’s _order when no order is given (priority desc, id desc)', async () => {
    const ids = (await value(
      executeKw('dimagaz.bc', 'search', [[['id', '<=', 40]]], { context: { active_test: false } }),
    )) as number[];
    const records = harness.sandbox.control.records('dimagaz.bc', { fields: ['priority'], ids });
    const expected = [...records]
      .sort((a, b) => (a.priority === b.priority ? b.id - a.id : a.priority === '1' ? -1 : 1))
      .map((r) => r.id);
    expect(ids).toEqual(expected);
    expect(ids).not.toEqual([...ids].sort((a, b) => a - b));
  });

  it('honours order, limit and offset (False = no limit)', async () => {
    const all = (await value(
      executeKw('dimagaz.bc', 'search', [[]], {
        order: 'id',
        limit: false,
        context: { active_test: false },
      }),
    )) as number[];
    expect(all.length).toBe(harness.sandbox.control.ids('dimagaz.bc').length);
    expect(
      await value(
        executeKw('dimagaz.bc', 'search', [[]], {
          order: 'id asc',
          offset: 5,
          limit: 3,
          context: { active_test: false },
        }),
      ),
    ).toEqual(all.slice(5, 8));
    const byWrite = (await value(
      executeKw('dimagaz.bc', 'search_read', [[['id', '<=', 30]]], {
        fields: ['write_date'],
        order: 'write_date desc, id',
        context: { active_test: false },
      }),
    )) as Array<{ id: number; write_date: string }>;
    for (let i = 1; i < byWrite.length; i++)
      expect(byWrite[i - 1]!.write_date >= byWrite[i]!.write_date).toBe(true);
  });

  it('evaluates prefix domains with & | ! and the usual operators, with SQL NULL rules', async () => {
    const search = async (domain: unknown[]) =>
      new Set(
        (await value(
          executeKw('dimagaz.bc', 'search', [[['id', '<=', 60], ...domain]], {
            context: { active_test: false },
          }),
        )) as number[],
      );
    const records = harness.sandbox.control
      .records('dimagaz.bc', {
        fields: ['state', 'origin', 'user_id', 'name', 'amount_total'],
        load: '',
      })
      .filter((r) => r.id <= 60);
    const ids = (filter: (r: Record<string, unknown>) => boolean) =>
      new Set(records.filter(filter).map((r) => r.id));
    expect(await search(['|', ['state', '=', 'draft'], ['state', '=', 'cancel']])).toEqual(
      ids((r) => r.state === 'draft' || r.state === 'cancel'),
    );
    expect(await search(['!', ['state', 'in', ['draft', 'sent']]])).toEqual(
      ids((r) => r.state !== 'draft' && r.state !== 'sent'),
    );
    expect(await search([['state', 'not in', ['purchase']]])).toEqual(
      ids((r) => r.state !== 'purchase'),
    );
    expect(await search([['origin', '!=', 'x']])).toEqual(ids(() => true));
    expect(await search([['origin', '=', false]])).toEqual(ids((r) => r.origin === false));
    expect(await search([['user_id', '=?', false]])).toEqual(ids(() => true));
    expect(await search([['name', 'ilike', 'p0001']])).toEqual(
      ids((r) => String(r.name).toLowerCase().includes('p0001')),
    );
    expect(await search([['name', '=like', 'P0000_']])).toEqual(
      ids((r) => /^P0000.$/.test(String(r.name))),
    );
    expect(await search([['origin', 'not ilike', 'so']])).toEqual(
      ids((r) => r.origin === false || !String(r.origin).toLowerCase().includes('so')),
    );
    expect(
      await search([
        ['amount_total', '>', 1000],
        ['amount_total', '<=', 5_000_000],
      ]),
    ).toEqual(
      ids((r) => (r.amount_total as number) > 1000 && (r.amount_total as number) <= 5_000_000),
    );
  });

  it('search_read on lines by bc_id in [...] and reads x2many as id lists', async () => {
    const lines = (await value(
      executeKw('dimagaz.bc.line', 'search_read', [[['bc_id', 'in', [3, 4]]]], {
        fields: ['bc_id', 'taxes_id'],
        order: 'id',
        load: '',
      }),
    )) as Array<{ bc_id: number; taxes_id: unknown }>;
    expect(lines.map((line) => line.bc_id)).toEqual([3, 3, 4, 4]);
    for (const line of lines) expect(Array.isArray(line.taxes_id)).toBe(true);
  });

  it('fields_get honours attributes exactly', async () => {
    const two = (await value(
      executeKw('dimagaz.bc', 'fields_get', [], { attributes: ['type', 'store'] }),
    )) as Record<string, Record<string, unknown>>;
    expect(two.partner_id).toEqual({ store: true, type: 'many2one' });
    expect(two.line_count).toEqual({ store: false, type: 'integer' });
    expect(two.display_name).toEqual({ store: false, type: 'char' });
    const none = (await value(
      executeKw('dimagaz.bc', 'fields_get', [], { attributes: [] }),
    )) as Record<string, unknown>;
    expect(none.name).toEqual({});
    const all = (await value(executeKw('dimagaz.bc', 'fields_get', [['state']]))) as Record<
      string,
      Record<string, unknown>
    >;
    expect(Object.keys(all)).toEqual(['state']);
    expect(all.state?.selection).toContainEqual(['to approve', 'To Approve']);
    expect(all.state?.string).toBe('Status');
  });
});

describe('time model (docs/odoo.md, The time model)', () => {
  it('stamps write_date with the transaction start in microseconds and sends whole seconds', async () => {
    clock.set(new Date('2025-03-10T09:15:30.000Z'));
    clock.advanceMicros(123_456);
    const id = harness.sandbox.control.create('dimagaz.bc', { partner_id: 1 });
    expect(harness.sandbox.control.writeDateMicros('dimagaz.bc', id)).toBe(
      Date.parse('2025-03-10T09:15:30.000Z') * 1000 + 123_456,
    );
    const [record] = (await value(
      executeKw('dimagaz.bc', 'read', [[id]], { fields: ['write_date', 'create_date'] }),
    )) as Array<Record<string, unknown>>;
    expect(record).toEqual({
      id,
      write_date: '2025-03-10 09:15:30',
      create_date: '2025-03-10 09:15:30',
    });
  });

  it('compares datetimes in domains with the microseconds (> the shown second matches; = does not)', async () => {
    clock.set(new Date('2025-03-10T10:00:00.000Z'));
    clock.advanceMicros(250_000);
    const first = harness.sandbox.control.create('dimagaz.bc', {
      partner_id: 1,
      origin: 'same-second',
    });
    clock.advanceMicros(500_000);
    const second = harness.sandbox.control.create('dimagaz.bc', {
      partner_id: 1,
      origin: 'same-second',
    });
    const base = [['origin', '=', 'same-second']];
    expect(
      await value(
        executeKw('dimagaz.bc', 'search', [[...base, ['write_date', '>', '2025-03-10 10:00:00']]], {
          order: 'id',
        }),
      ),
    ).toEqual([first, second]);
    expect(
      await value(
        executeKw('dimagaz.bc', 'search', [[...base, ['write_date', '=', '2025-03-10 10:00:00']]]),
      ),
    ).toEqual([]);
    expect(
      await value(
        executeKw('dimagaz.bc', 'search', [[...base, ['write_date', '<', '2025-03-10 10:00:01']]], {
          order: 'id',
        }),
      ),
    ).toEqual([first, second]);
    const read = (await value(
      executeKw('dimagaz.bc', 'read', [[first, second]], { fields: ['write_date'] }),
    )) as Array<{ write_date: string }>;
    expect(read.map((record) => record.write_date)).toEqual([
      '2025-03-10 10:00:00',
      '2025-03-10 10:00:00',
    ]);
  });

  it('makes a long transaction visible only at commit, with its start as write_date', async () => {
    clock.set(new Date('2025-03-10T11:00:00.000Z'));
    const tx = harness.sandbox.control.begin();
    const id = tx.create('dimagaz.bc', { partner_id: 1, origin: 'long-tx' });
    tx.write('dimagaz.bc', 1, { origin: 'touched by long-tx' });
    clock.advanceMs(90_000);
    const later = harness.sandbox.control.create('dimagaz.bc', { partner_id: 1, origin: 'after' });
    expect(later).toBeGreaterThan(id);
    expect(await value(executeKw('dimagaz.bc', 'search', [[['origin', '=', 'long-tx']]]))).toEqual(
      [],
    );
    expect(await value(executeKw('dimagaz.bc', 'read', [[id]], { fields: ['name'] }))).toEqual([]);
    clock.advanceMs(30_000);
    tx.commit();
    const [created] = (await value(
      executeKw('dimagaz.bc', 'read', [[id]], { fields: ['write_date', 'origin'] }),
    )) as Array<Record<string, unknown>>;
    expect(created).toEqual({ id, write_date: '2025-03-10 11:00:00', origin: 'long-tx' });
    const [touched] = (await value(
      executeKw('dimagaz.bc', 'read', [[1]], { fields: ['write_date', 'origin'] }),
    )) as Array<Record<string, unknown>>;
    expect(touched).toEqual({
      id: 1,
      write_date: '2025-03-10 11:00:00',
      origin: 'touched by long-tx',
    });
    // A watermark taken from the later record would miss it: the classic lost update.
    expect(
      await value(
        executeKw('dimagaz.bc', 'search', [
          [
            ['write_date', '>', '2025-03-10 11:01:29'],
            ['id', '=', id],
          ],
        ]),
      ),
    ).toEqual([]);
  });

  it('does not move a BC when its line changes on its own, unless asked', () => {
    clock.set(new Date('2025-03-10T12:00:00.000Z'));
    const before = harness.sandbox.control.writeDateMicros('dimagaz.bc', 10);
    const [lineId] = harness.sandbox.control.ids('dimagaz.bc.line').filter(
      (id) =>
        harness.sandbox.control.records('dimagaz.bc.line', {
          ids: [id],
          fields: ['bc_id'],
          load: '',
        })[0]?.bc_id === 10,
    );
    harness.sandbox.control.write('dimagaz.bc.line', lineId as number, { price_unit: 42 });
    expect(harness.sandbox.control.writeDateMicros('dimagaz.bc', 10)).toBe(before);
    expect(harness.sandbox.control.writeDateMicros('dimagaz.bc.line', lineId as number)).toBe(
      Date.parse('2025-03-10T12:00:00.000Z') * 1000,
    );
    clock.advanceMs(1_000);
    harness.sandbox.control.unlink('dimagaz.bc.line', lineId as number, { bumpParent: true });
    expect(harness.sandbox.control.writeDateMicros('dimagaz.bc', 10)).toBe(
      Date.parse('2025-03-10T12:00:01.000Z') * 1000,
    );
  });

  it('generates write_dates strictly in the past; clock readings strictly increase', async () => {
    const fresh = await startSandbox({
      orders: 300,
      linesPerOrder: 4,
      seed: 9,
      clock: createManualClock(START).source,
    });
    try {
      const { control } = fresh.sandbox;
      const now = control.nowMicros();
      expect(control.nowMicros()).toBeGreaterThan(now);
      for (const model of ['dimagaz.bc', 'dimagaz.bc.line']) {
        for (const id of control.ids(model))
          expect(control.writeDateMicros(model, id)).toBeLessThan(START.getTime() * 1000);
      }
    } finally {
      await fresh.close();
    }
  });
});

describe('JSON-RPC and JSON-2 (docs/odoo.md, Transports)', () => {
  async function jsonrpc(service: string, method: string, args: unknown[]) {
    const answer = await post(
      '/jsonrpc',
      JSON.stringify({ jsonrpc: '2.0', method: 'call', params: { service, method, args }, id: 7 }),
      { 'content-type': 'application/json' },
    );
    expect(answer.status).toBe(200);
    return JSON.parse(answer.body) as {
      id: number;
      result?: unknown;
      error?: {
        code: number;
        message: string;
        data: { name: string; message: string; debug: string };
      };
    };
  }

  it('JSON-RPC: same results; errors in error.data with the exception name', async () => {
    const { sandbox } = harness;
    expect(
      (await jsonrpc('common', 'authenticate', [sandbox.database, sandbox.username, 'bad', {}]))
        .result,
    ).toBe(false);
    const ok = await jsonrpc('object', 'execute_kw', [
      sandbox.database,
      sandbox.uid,
      sandbox.password,
      'dimagaz.bc',
      'search_count',
      [[['id', '<=', 5]]],
      { context: { active_test: false } },
    ]);
    expect(ok).toEqual({ jsonrpc: '2.0', id: 7, result: 5 });
    const denied = await jsonrpc('object', 'execute_kw', [
      sandbox.database,
      sandbox.uid,
      'bad',
      'dimagaz.bc',
      'search',
      [[]],
    ]);
    expect(denied.error?.data.name).toBe('odoo.exceptions.AccessDenied');
    const unknown = await jsonrpc('object', 'execute_kw', [
      sandbox.database,
      sandbox.uid,
      sandbox.password,
      'x.y',
      'search',
      [[]],
    ]);
    expect(unknown.error).toMatchObject({
      code: 200,
      message: 'Odoo Server Error',
      data: { name: 'odoo.exceptions.UserError', message: "Object x.y doesn't exist" },
    });
  });

  it('JSON-2: bearer key, named arguments, HTTP statuses', async () => {
    const { sandbox } = harness;
    const call = (path: string, body: unknown, key: string | null = sandbox.password) =>
      post(path, JSON.stringify(body), {
        'content-type': 'application/json',
        'x-odoo-database': sandbox.database,
        ...(key === null ? {} : { authorization: `bearer ${key}` }),
      });
    const ok = await call('/json/2/dimagaz.bc/search_read', {
      domain: [['id', '=', 2]],
      fields: ['name'],
      context: { active_test: false },
    });
    expect({ status: ok.status, body: JSON.parse(ok.body) as unknown }).toEqual({
      status: 200,
      body: [{ id: 2, name: 'P00002' }],
    });
    const noKey = await call('/json/2/dimagaz.bc/search', { domain: [] }, null);
    expect(noKey.status).toBe(401);
    expect(JSON.parse(noKey.body)).toMatchObject({
      name: 'werkzeug.exceptions.Unauthorized',
      message: 'Invalid apikey',
    });
    expect((await call('/json/2/x.y/search', { domain: [] })).status).toBe(404);
    expect((await call('/json/2/dimagaz.bc/search', { domain: [], ids: [1] })).status).toBe(422);
    expect((await call('/json/2/dimagaz.bc/search', { domain: [], colour: 'red' })).status).toBe(
      422,
    );
    const server = await call('/json/2/dimagaz.bc/search', { domain: [['bogus', '=', 1]] });
    expect(server.status).toBe(500);
    expect(JSON.parse(server.body)).toMatchObject({ name: 'builtins.ValueError' });
    const context = await call('/json/2/res.users/context_get', {});
    expect(JSON.parse(context.body)).toMatchObject({ uid: sandbox.uid });
  });
});
