/**
 * The Odoo client against the sandbox over real HTTP, on each transport: authentication, error
 * classification and retries, timeouts and cancellation, and keyset paging under concurrent
 * changes.
 */
import { inspect } from 'node:util';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { OdooRecord } from '../../src/clients/odoo/index.js';
import {
  PROTOCOLS,
  loginCalls,
  rejectionOf,
  type SandboxHarness,
  useSandbox,
  expectOdooError,
} from './sandbox-harness.js';

const PASSWORD = 'pw-Tr3s-Secret-4711';

let harness: SandboxHarness;

useSandbox(
  { orders: 120, linesPerOrder: 3, seed: 42, password: PASSWORD },
  (started) => (harness = started),
  ({ sandbox }) => {
    sandbox.control.clearFaults();
    sandbox.control.resetCalls();
    sandbox.control.setPassword(PASSWORD);
  },
);

describe.each(PROTOCOLS)('Odoo client over %s', (protocol) => {
  it('reads the server version and logs in once for many calls', async () => {
    const client = harness.client(protocol);
    const version = await client.version();
    expect(version.serverVersion).toBe('19.0');
    expect(version.versionInfo[0]).toBe(19);
    const [a, b] = await Promise.all([client.authenticate(), client.authenticate()]);
    expect(a).toBe(harness.sandbox.uid);
    expect(b).toBe(harness.sandbox.uid);
    await client.searchCount('dimagaz.bc', []);
    await client.search('dimagaz.bc', [], { limit: 1, order: 'id' });
    expect(loginCalls(harness.sandbox, protocol)).toBe(1);
  });

  it('reports bad credentials as ODOO_AUTH after one attempt, without the password anywhere', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const wrong = 'wrong-Secret-Passw0rd';
    const client = harness.client(protocol, { password: wrong, retries: 3 }, logger);
    const error = expectOdooError(
      await rejectionOf(client.searchRead('dimagaz.bc', [], { fields: ['name'], order: 'id' })),
      'ODOO_AUTH',
      false,
    );
    expect(loginCalls(harness.sandbox, protocol)).toBe(1);
    expect(harness.sandbox.control.countCalls({ protocol, model: 'dimagaz.bc' })).toBe(0);
    const everything = `${inspect(error, { depth: 10 })}\n${JSON.stringify(error)}\n${lines.join('')}`;
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(PASSWORD);
    expect(lines.join('')).toContain('refused the credentials');
  });

  it('maps an unknown model to a user error (fault 2 / JSON-2 404), not retried', async () => {
    const client = harness.client(protocol);
    const error = expectOdooError(
      await rejectionOf(client.search('no.such.model', [])),
      'ODOO_USER_ERROR',
      false,
    );
    if (protocol === 'json2') expect(error.httpStatus).toBe(404);
    else expect(error.faultCode).toBe(2);
    expect(error.message).toMatch(/no\.such\.model/);
    expect(harness.sandbox.control.countCalls({ protocol, model: 'no.such.model' })).toBe(1);
  });

  it('maps an unknown method to a server fault (fault 1 traceback; JSON-2: 404)', async () => {
    const client = harness.client(protocol);
    const error = await rejectionOf(client.executeKw('dimagaz.bc', 'do_magic', [[1]]));
    if (protocol === 'json2') {
      expectOdooError(error, 'ODOO_USER_ERROR', false);
    } else {
      const fault = expectOdooError(error, 'ODOO_SERVER_FAULT', false);
      expect(fault.faultCode).toBe(1);
      expect(fault.faultString).toMatch(/^Traceback \(most recent call last\):/);
      expect(fault.message).toContain(
        "AttributeError: The method 'dimagaz.bc.do_magic' does not exist",
      );
    }
  });

  it('maps an unknown field to a server fault with the ValueError line', async () => {
    const client = harness.client(protocol);
    const error = expectOdooError(
      await rejectionOf(
        client.searchRead('dimagaz.bc', [], { fields: ['name', 'no_such_field'], order: 'id' }),
      ),
      'ODOO_SERVER_FAULT',
      false,
    );
    expect(error.message).toContain(
      "ValueError: Invalid field 'no_such_field' on model 'dimagaz.bc'",
    );
  });

  it('maps a private method and a record rule to access errors (fault 4)', async () => {
    const client = harness.client(protocol);
    expectOdooError(
      await rejectionOf(client.executeKw('dimagaz.bc', '_compute_amounts', [[1]])),
      'ODOO_ACCESS',
      false,
    );
    harness.sandbox.control.hide('dimagaz.bc', 7);
    try {
      const error = expectOdooError(
        await rejectionOf(client.read('dimagaz.bc', [6, 7], ['name'])),
        'ODOO_ACCESS',
        false,
      );
      if (protocol !== 'json2') expect(error.faultCode).toBe(4);
      const visible = await client.search('dimagaz.bc', [['id', 'in', [6, 7]]], {
        context: { active_test: false },
      });
      expect(visible).toEqual([6]);
      // Hidden from the API user alone: it cannot write the record, another of Odoo's users can.
      expectOdooError(
        await rejectionOf(
          client.executeKw('dimagaz.bc', 'write', [[7], { origin: 'by the API user' }]),
        ),
        'ODOO_ACCESS',
        false,
      );
      harness.sandbox.control.write('dimagaz.bc', [7], { origin: 'by another user' });
      expect(
        harness.sandbox.control.records('dimagaz.bc').find((record) => record.id === 7)?.origin,
      ).toBe('by another user');
    } finally {
      harness.sandbox.control.unhide('dimagaz.bc', 7);
    }
  });

  it('reports a key revoked mid-session as ODOO_AUTH and does not loop', async () => {
    const client = harness.client(protocol, { retries: 3 });
    await client.authenticate();
    harness.sandbox.control.setPassword('a-new-key-0001');
    expectOdooError(await rejectionOf(client.searchCount('dimagaz.bc', [])), 'ODOO_AUTH', false);
    expect(harness.sandbox.control.countCalls({ protocol, model: 'dimagaz.bc' })).toBe(1);
  });

  it('retries a serialization failure and succeeds', async () => {
    const client = harness.client(protocol);
    harness.sandbox.control.injectFault({
      kind: 'serialization',
      method: 'search_count',
      times: 1,
    });
    expect(
      await client.searchCount('dimagaz.bc', [['id', '<=', 10]], {
        context: { active_test: false },
      }),
    ).toBe(10);
    expect(harness.sandbox.control.countCalls({ protocol, method: 'search_count' })).toBe(2);
  });

  it('gives up on a persistent serialization failure as a retryable server fault', async () => {
    const client = harness.client(protocol, { retries: 2 });
    harness.sandbox.control.injectFault({
      kind: 'serialization',
      method: 'search_count',
      times: Infinity,
    });
    const error = expectOdooError(
      await rejectionOf(client.searchCount('dimagaz.bc', [])),
      'ODOO_SERVER_FAULT',
      true,
    );
    expect(error.message).toContain('could not serialize access due to concurrent update');
    expect(harness.sandbox.control.countCalls({ protocol, method: 'search_count' })).toBe(3);
  });

  it('does not retry a user error (fault 2)', async () => {
    const client = harness.client(protocol, { retries: 3 });
    harness.sandbox.control.injectFault({
      kind: 'fault',
      faultCode: 2,
      message: 'Le bon est verrouillé',
      method: 'search',
      times: Infinity,
    });
    const error = expectOdooError(
      await rejectionOf(client.search('dimagaz.bc', [])),
      'ODOO_USER_ERROR',
      false,
    );
    expect(error.message).toContain('Le bon est verrouillé');
    expect(harness.sandbox.control.countCalls({ protocol, method: 'search' })).toBe(1);
  });

  it('retries an HTML 502 page and then reports it as such, not as a parse error', async () => {
    const client = harness.client(protocol, { retries: 2 });
    harness.sandbox.control.injectFault({ kind: 'html', status: 502, method: 'search', times: 1 });
    expect(
      await client.search('dimagaz.bc', [['id', '=', 3]], { context: { active_test: false } }),
    ).toEqual([3]);
    expect(harness.sandbox.control.countCalls({ protocol, method: 'search' })).toBe(2);

    harness.sandbox.control.resetCalls();
    harness.sandbox.control.injectFault({
      kind: 'html',
      status: 502,
      method: 'search',
      times: Infinity,
    });
    const error = expectOdooError(
      await rejectionOf(client.search('dimagaz.bc', [])),
      'ODOO_HTTP',
      true,
    );
    expect(error.httpStatus).toBe(502);
    expect(error.message).toContain('HTML page (HTTP 502) instead of');
    expect(error.message).not.toMatch(/malformed|parse|XML-RPC tag/i);
    expect(harness.sandbox.control.countCalls({ protocol, method: 'search' })).toBe(3);
  });

  it('retries an HTML 504 from a proxy', async () => {
    const client = harness.client(protocol);
    harness.sandbox.control.injectFault({
      kind: 'html',
      status: 504,
      method: 'search_read',
      times: 2,
    });
    const records = await client.searchRead('dimagaz.bc', [['id', '=', 5]], {
      fields: ['name'],
      order: 'id',
      context: { active_test: false },
    });
    expect(records.map((record) => record.name)).toEqual(['P00005']);
    expect(harness.sandbox.control.countCalls({ protocol, method: 'search_read' })).toBe(3);
  });

  it('retries a connection reset mid-answer, and reports one as ODOO_NETWORK', async () => {
    const client = harness.client(protocol, { retries: 1 });
    harness.sandbox.control.injectFault({ kind: 'reset', method: 'search_read', times: 1 });
    const records = await client.searchRead('dimagaz.bc', [['id', '<=', 50]], {
      fields: ['name', 'notes'],
      order: 'id',
      context: { active_test: false },
    });
    expect(records).toHaveLength(50);
    expect(harness.sandbox.control.countCalls({ protocol, method: 'search_read' })).toBe(2);

    const once = harness.client(protocol, { retries: 0 });
    harness.sandbox.control.injectFault({ kind: 'reset', method: 'search_read', times: 1 });
    expectOdooError(
      await rejectionOf(once.searchRead('dimagaz.bc', [], { fields: ['name'], order: 'id' })),
      'ODOO_NETWORK',
      true,
    );
  });

  it('reports a truncated answer as a retryable protocol error', async () => {
    const client = harness.client(protocol, { retries: 0 });
    harness.sandbox.control.injectFault({ kind: 'truncate', method: 'search_read', times: 1 });
    expectOdooError(
      await rejectionOf(
        client.searchRead('dimagaz.bc', [], { fields: ['name'], order: 'id', limit: 30 }),
      ),
      'ODOO_PROTOCOL',
      true,
    );
  });

  it('times out an answer that does not come, after its 2 s', async () => {
    // Enough for the login's answer on a loaded machine, which the same timeout bounds.
    const client = harness.client(protocol, { timeoutMs: 2_000, retries: 0 });
    await client.authenticate();
    // An answer no test waits for: the call ends by its timeout, or not at all.
    harness.sandbox.control.injectFault({
      kind: 'latency',
      latencyMs: 3_600_000,
      method: 'search_count',
      times: 1,
    });
    const started = performance.now();
    const error = expectOdooError(
      await rejectionOf(client.searchCount('dimagaz.bc', [])),
      'ODOO_TIMEOUT',
      true,
    );
    const elapsedMs = performance.now() - started;
    expect(elapsedMs).toBeGreaterThanOrEqual(1_950);
    expect(error.message).toContain('2000 ms');
  });

  it('cancels a call in flight when its signal aborts', async () => {
    const client = harness.client(protocol, { retries: 3 });
    await client.authenticate();
    // An answer no test waits for: only the abort ends the call.
    harness.sandbox.control.injectFault({
      kind: 'latency',
      latencyMs: 3_600_000,
      method: 'search_count',
      times: 1,
    });
    const controller = new AbortController();
    const arrived = harness.sandbox.control.waitForCall({ protocol, method: 'search_count' });
    const call = client.searchCount('dimagaz.bc', [], {}, { signal: controller.signal });
    await arrived;
    controller.abort(new Error('shutting down'));
    expectOdooError(await rejectionOf(call), 'ODOO_ABORTED', false);
    expect(harness.sandbox.control.countCalls({ protocol, method: 'search_count' })).toBe(1);
  });

  it('does not call at all with an already aborted signal', async () => {
    const client = harness.client(protocol);
    await client.authenticate();
    const error = await rejectionOf(
      client.search('dimagaz.bc', [], {}, { signal: AbortSignal.abort() }),
    );
    expectOdooError(error, 'ODOO_ABORTED', false);
    expect(harness.sandbox.control.countCalls({ protocol, method: 'search' })).toBe(0);
  });

  it('lists stored fields only, with their types', async () => {
    const client = harness.client(protocol);
    const fields = await client.storedFields('dimagaz.bc');
    const byName = new Map(fields.map((field) => [field.name, field]));
    expect(byName.get('partner_id')).toEqual({
      name: 'partner_id',
      type: 'many2one',
      relation: 'res.partner',
    });
    expect(byName.get('write_date')?.type).toBe('datetime');
    expect(byName.get('line_ids')?.type).toBe('one2many');
    expect(byName.has('display_name')).toBe(false);
    expect(byName.has('line_count')).toBe(false);
    expect(fields.map((field) => field.name)).toEqual(
      [...fields.map((field) => field.name)].sort(),
    );
  });

  it('creates, reads back and deletes records through execute_kw', async () => {
    const client = harness.client(protocol);
    const id = await client.executeKw<number>('dimagaz.bc', 'create', [
      {
        partner_id: 3,
        origin: 'Test & <co>',
        line_ids: [[0, 0, { name: 'Détendeur', product_qty: 2, price_unit: 10.5 }]],
      },
    ]);
    expect(typeof id).toBe('number');
    const [record] = await client.read<OdooRecord>(
      'dimagaz.bc',
      [id],
      ['origin', 'amount_untaxed', 'line_ids', 'partner_id'],
      { load: '' },
    );
    expect(record).toMatchObject({ id, origin: 'Test & <co>', amount_untaxed: 21, partner_id: 3 });
    expect(await client.executeKw('dimagaz.bc', 'unlink', [[id]])).toBe(true);
    expect(await client.read('dimagaz.bc', [id], ['name'])).toEqual([]);
    expect(
      await client.search('dimagaz.bc.line', [['id', 'in', record?.line_ids as number[]]]),
    ).toEqual([]);
  });

  it('takes None from a method that returns nothing, as each transport carries it', async () => {
    const client = harness.client(protocol, { retries: 0 });
    const [id] = await client.search('dimagaz.bc', [], { limit: 1, order: 'id desc' });
    const archived = client.executeKw('dimagaz.bc', 'action_archive', [[id]]);
    // Odoo's JSON-RPC answer leaves `result` out, JSON-2's is `null`; XML-RPC cannot marshal
    // None, and Odoo answers a fault after the method's transaction committed.
    if (protocol === 'xmlrpc')
      expect(
        expectOdooError(await rejectionOf(archived), 'ODOO_SERVER_FAULT', false).message,
      ).toContain('cannot marshal None unless allow_none is enabled');
    else expect(await archived).toBeNull();
    expect(
      harness.sandbox.control.records('dimagaz.bc', { ids: [id!], fields: ['active'] })[0],
    ).toMatchObject({ active: false });
    await client.executeKw('dimagaz.bc', 'action_unarchive', [[id]]).catch(() => undefined);
  });

  it('pages by keyset: every record exactly once while others are created, updated and archived', async () => {
    const client = harness.client(protocol);
    const context = { active_test: false };
    const before = new Set(harness.sandbox.control.ids('dimagaz.bc'));
    const seen: number[] = [];
    const created: number[] = [];
    let page = 0;
    for await (const records of client.pages('dimagaz.bc', [], {
      fields: ['name', 'write_date'],
      pageSize: 17,
      context,
    })) {
      seen.push(...records.map((record) => record.id));
      page++;
      // Between pages: a new BC, an update of a record not read yet and of one already read,
      // an archival of a record not read yet, and a deletion of one already read.
      created.push(harness.sandbox.control.create('dimagaz.bc', { partner_id: 1 }));
      const last = records[records.length - 1]?.id ?? 0;
      const ahead = [...before].filter((id) => id > last + 3);
      if (ahead.length > 0) {
        harness.sandbox.control.write('dimagaz.bc', ahead[0] as number, { origin: `page ${page}` });
        harness.sandbox.control.archive('dimagaz.bc', ahead[1] ?? (ahead[0] as number));
      }
      harness.sandbox.control.write('dimagaz.bc', records[0]?.id ?? 1, { origin: 'seen' });
    }
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of before) expect(seen).toContain(id);
    // Created between pages with higher ids: read by a later page, except after the last one.
    for (const id of created.slice(0, -1)) expect(seen).toContain(id);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  it('pages a filtered domain with explicit order and limit on each call', async () => {
    const client = harness.client(protocol);
    harness.sandbox.control.resetCalls();
    const ids: number[] = [];
    for await (const records of client.pages(
      'dimagaz.bc',
      [['state', 'in', ['purchase', 'done']]],
      { fields: ['state'], pageSize: 10, context: { active_test: false } },
    )) {
      for (const record of records) expect(['purchase', 'done']).toContain(record.state);
      ids.push(...records.map((record) => record.id));
    }
    const expected = harness.sandbox.control
      .records('dimagaz.bc', { fields: ['state'] })
      .filter((record) => record.state === 'purchase' || record.state === 'done');
    expect(ids).toEqual(expected.map((record) => record.id));
    expect(harness.sandbox.control.countCalls({ protocol, method: 'search_read' })).toBe(
      Math.floor(ids.length / 10) + 1,
    );
  });
});
