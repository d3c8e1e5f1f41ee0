/**
 * The sandbox against the facts of docs/odoo.md (transports, values, failures), checked on the
 * raw wire: routes, answer shapes, authentication, fault codes and texts, empty values,
 * many2one both ways, and the JSON transports.
 */
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { decodeMethodResponse } from '../../src/clients/odoo/xmlrpc-decoder.js';
import { serializeMethodCall } from '../../src/clients/odoo/xmlrpc-transport.js';
import { createManualClock, type ManualClock } from '../../dev/sandbox/odoo-sandbox.js';
import { startSandbox, useSandbox, type SandboxHarness } from './sandbox-harness.js';
import { sandboxWire } from './sandbox-wire.js';

const START = new Date('2025-03-10T08:00:00.000Z');

let harness: SandboxHarness;

const clock: ManualClock = createManualClock(START);
useSandbox(
  { orders: 60, linesPerOrder: 2, seed: 3, clock: clock.source },
  (started) => (harness = started),
);

const { post, xml, executeKw, value, fault } = sandboxWire(() => harness);

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

  it('JSON-2 read-only methods may come from a replica that lags; writes and XML-RPC do not', async () => {
    const { sandbox } = harness;
    const json2 = async (method: string, body: unknown) =>
      JSON.parse(
        (
          await post(`/json/2/dimagaz.bc/${method}`, JSON.stringify(body), {
            'content-type': 'application/json',
            authorization: `bearer ${sandbox.password}`,
          })
        ).body,
      ) as unknown;
    const origins = () =>
      json2('read', { ids: [3], fields: ['origin'], context: { active_test: false } });
    sandbox.control.setReplicaLagMs(30_000);
    try {
      const before = await origins();
      await json2('write', { ids: [3], vals: { origin: 'written over JSON-2' } });
      sandbox.control.write('dimagaz.bc', 3, { origin: 'written again' });
      // The primary has both: XML-RPC reads see them at once.
      const overXmlRpc = await value(executeKw('dimagaz.bc', 'read', [[3], ['origin']]));
      expect(overXmlRpc).toEqual([{ id: 3, origin: 'written again' }]);
      expect(await origins()).toEqual(before);
      // The clock's readings within a millisecond each took a microsecond of their own.
      clock.advanceMs(30_001);
      expect(await origins()).toEqual([{ id: 3, origin: 'written again' }]);
    } finally {
      sandbox.control.setReplicaLagMs(0);
    }
  });
});
