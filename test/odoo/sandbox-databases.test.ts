/**
 * One sandbox process serving several databases, as one Odoo serves many: each with its own
 * records, schema, clock, user and keys, call log and faults, every request routed by the
 * database it names — XML-RPC and JSON-RPC by their parameters, JSON-2 and `/doc-bearer` by
 * `X-Odoo-Database` — and a database that does not exist answered as Odoo answers it
 * (docs/odoo.md, "Several databases on one Odoo"). The series is the process's: two series are
 * two sandboxes.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOdooClient, type OdooClient } from '../../src/clients/odoo/index.js';
import type { OdooProtocol } from '../../src/clients/odoo/odoo-types.js';
import { decodeMethodResponse } from '../../src/clients/odoo/xmlrpc-decoder.js';
import { serializeMethodCall } from '../../src/clients/odoo/xmlrpc-transport.js';
import {
  createManualClock,
  createOdooSandbox,
  type OdooSandbox,
  type OdooSandboxDatabase,
  type OdooSandboxOptions,
} from '../../dev/sandbox/odoo-sandbox.js';
import { expectOdooError, PROTOCOLS, rejectionOf, silentLogger } from './sandbox-harness.js';

const NORTH_KEY = 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1';
const SOUTH_KEY = 'b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2';
const EAST_KEY = 'c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3';
const NORTH_START = new Date('2025-01-15T09:00:00.000Z');
const SOUTH_START = new Date('2026-07-01T18:30:00.000Z');
const northClock = createManualClock(NORTH_START);
const southClock = createManualClock(SOUTH_START);

/** Three databases, their users, sizes, seeds and clocks apart; the series shared. */
const OPTIONS: OdooSandboxOptions = {
  loginCooldown: false,
  databases: {
    north: {
      orders: 5,
      linesPerOrder: 2,
      seed: 1,
      clock: northClock.source,
      username: 'sync@north.example',
      password: 'north-secret',
      apiKeys: [{ key: NORTH_KEY }],
    },
    south: {
      orders: 3,
      cylinders: 4,
      seed: 2,
      clock: southClock.source,
      username: 'sync@south.example',
      password: 'south-secret',
      apiKeys: [{ key: SOUTH_KEY }],
    },
    east: {
      partners: 7,
      seed: 3,
      password: 'east-secret',
      apiKeys: [{ key: EAST_KEY }],
      passwordAsApiKey: false,
    },
  },
};
const KEYS: Record<string, string> = { north: NORTH_KEY, south: SOUTH_KEY, east: EAST_KEY };

let sandbox: OdooSandbox;
const clients: OdooClient[] = [];
beforeAll(async () => {
  sandbox = createOdooSandbox(OPTIONS);
  await sandbox.start();
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await sandbox.stop();
});

/** erp-bridge's client for one database (JSON-2 with its key, the others with its password). */
function clientOf(
  database: OdooSandboxDatabase,
  protocol: OdooProtocol,
  secret: { password?: string; apiKey?: string } = {},
): OdooClient {
  const client = createOdooClient(
    {
      url: sandbox.url,
      database: database.database,
      username: database.username,
      password: secret.password ?? database.password,
      ...(protocol === 'json2' ? { apiKey: secret.apiKey ?? KEYS[database.database] } : {}),
      timeoutMs: 10_000,
      retries: 0,
      protocol,
      authCooldownMs: 0,
    },
    { logger: silentLogger },
  );
  clients.push(client);
  return client;
}

async function post(path: string, body: string, headers: Record<string, string>) {
  const response = await request(`${sandbox.url}${path}`, { method: 'POST', body, headers });
  return {
    status: response.statusCode,
    type: String(response.headers['content-type']),
    date: String(response.headers.date),
    body: await response.body.text(),
  };
}

/** A raw XML-RPC call (to `url`, default the sandbox's): its value, or its fault. */
async function xmlrpc(
  service: string,
  method: string,
  params: unknown[],
  url: string = sandbox.url,
): Promise<{ value?: unknown; faultCode?: unknown; faultString?: string }> {
  const answer = await request(`${url}/xmlrpc/2/${service}`, {
    method: 'POST',
    body: serializeMethodCall(method, params),
    headers: { 'content-type': 'text/xml' },
  });
  const decoded = decodeMethodResponse(await answer.body.text());
  return decoded.fault
    ? { faultCode: decoded.faultCode, faultString: String(decoded.faultString) }
    : { value: decoded.value };
}

/** A raw JSON-RPC call: its result, or its error. */
async function jsonrpc(service: string, method: string, args: unknown[]) {
  const answer = await post(
    '/jsonrpc',
    JSON.stringify({ jsonrpc: '2.0', method: 'call', id: 1, params: { service, method, args } }),
    { 'content-type': 'application/json' },
  );
  return JSON.parse(answer.body) as {
    result?: unknown;
    error?: { data: { name: string; message: string } };
  };
}

/** A raw JSON-2 call, with `X-Odoo-Database` when `database` is given. */
function json2(
  path: string,
  body: Record<string, unknown>,
  key: string,
  database: string | undefined,
) {
  return post(path, JSON.stringify(body), {
    'content-type': 'application/json',
    authorization: `bearer ${key}`,
    ...(database === undefined ? {} : { 'x-odoo-database': database }),
  });
}

const countBcs = (client: OdooClient) =>
  client.searchCount('dimagaz.bc', [], { context: { active_test: false } });

describe('several databases in one sandbox', () => {
  it('names its databases, the first one the default: the top-level members are its', () => {
    expect(sandbox.databases).toEqual(['north', 'south', 'east']);
    expect(sandbox.database).toBe('north');
    expect(sandbox.username).toBe('sync@north.example');
    expect(sandbox.password).toBe('north-secret');
    expect(sandbox.control).toBe(sandbox.db('north').control);
    expect(sandbox.db('south').username).toBe('sync@south.example');
    expect(() => sandbox.db('west')).toThrow(/no database west \(it has north, south, east\)/);
    expect(() => createOdooSandbox({ database: 'a', databases: { b: {} } })).toThrow(
      /either database or databases/,
    );
  });

  it.each(PROTOCOLS)(
    'each database holds its own records, read and written over %s',
    async (protocol) => {
      const expected = { north: 5, south: 3, east: 0 };
      for (const name of sandbox.databases) {
        const database = sandbox.db(name);
        const client = clientOf(database, protocol);
        expect(await countBcs(client), name).toBe(expected[name as keyof typeof expected]);
        const [first] = await client.search('res.partner', [], { limit: 1, order: 'id asc' });
        await client.executeKw('res.partner', 'write', [[first], { city: `${protocol} ${name}` }]);
        expect(
          database.control.records('res.partner', { ids: [first!], fields: ['city'] }),
        ).toEqual([{ id: first, city: `${protocol} ${name}` }]);
      }
      // Each write stayed in its own database.
      const cities = sandbox.databases.map((name) =>
        sandbox
          .db(name)
          .control.records('res.partner', { fields: ['city'] })
          .filter(
            (partner) => typeof partner.city === 'string' && partner.city.startsWith(protocol),
          )
          .map((partner) => partner.city),
      );
      expect(cities).toEqual([[`${protocol} north`], [`${protocol} south`], [`${protocol} east`]]);
      // Their own sizes: east has 7 contacts beyond the vendors, north and south none.
      const contacts = (name: string) => sandbox.db(name).control.ids('res.partner').length;
      expect(contacts('east') - contacts('north')).toBe(7);
      expect(sandbox.db('south').control.ids('x_cylinder')).toHaveLength(4);
      expect(sandbox.db('north').control.ids('x_cylinder')).toHaveLength(0);
    },
  );

  it('a field added to one database is unknown to the others', async () => {
    const south = sandbox.db('south');
    south.control.addField(
      'x_cylinder',
      { name: 'x_studio_pressure', type: 'integer', string: 'Pressure', store: true },
      { default: 200 },
    );
    const described = (name: string) =>
      clientOf(sandbox.db(name), 'json2').fieldsGet('x_cylinder', ['type'], {
        allfields: ['x_studio_pressure'],
      });
    expect(await described('south')).toEqual({ x_studio_pressure: { type: 'integer' } });
    expect(await described('north')).toEqual({});
    const southCylinders = await clientOf(south, 'jsonrpc').searchRead('x_cylinder', [], {
      fields: ['x_studio_pressure'],
      order: 'id',
      context: { active_test: false },
    });
    expect(southCylinders.map((cylinder) => cylinder.x_studio_pressure)).toEqual([
      200, 200, 200, 200,
    ]);
    const north = await xmlrpc('object', 'execute_kw', [
      'north',
      2,
      'north-secret',
      'x_cylinder',
      'search_read',
      [[]],
      { fields: ['x_studio_pressure'] },
    ]);
    expect(north.faultString).toContain("Invalid field 'x_studio_pressure'");
  });

  it("stamps each database's records and answers with its own clock", async () => {
    northClock.advanceMs(1_000);
    southClock.advanceMs(1_000);
    const stampOf = async (name: string, clock: typeof northClock) => {
      const created = await json2(
        '/json/2/res.partner/create',
        { vals_list: [{ name: `Stamped in ${name}` }] },
        KEYS[name]!,
        name,
      );
      const [id] = JSON.parse(created.body) as number[];
      const [record] = await clientOf(sandbox.db(name), 'json2').read<{
        id: number;
        write_date: string;
      }>('res.partner', [id!], ['write_date']);
      return {
        written: record!.write_date,
        date: Date.parse(created.date),
        clock: Math.floor(clock.nowMicros() / 1_000_000) * 1_000,
      };
    };
    const north = await stampOf('north', northClock);
    const south = await stampOf('south', southClock);
    expect(north.written).toBe('2025-01-15 09:00:01');
    expect(south.written).toBe('2026-07-01 18:30:01');
    expect(north.date).toBe(north.clock);
    expect(south.date).toBe(south.clock);
    // A route that names no database is dated by the server's clock: the first database's.
    const version = await request(`${sandbox.url}/web/version`);
    await version.body.text();
    expect(Date.parse(String(version.headers.date))).toBe(north.clock);
  });

  it("refuses one database's password and key on another", async () => {
    // Its own key on its own database.
    for (const name of sandbox.databases) {
      const answer = await json2('/json/2/res.users/context_get', {}, KEYS[name]!, name);
      expect(answer.status, name).toBe(200);
    }
    const refused = await json2('/json/2/res.users/context_get', {}, NORTH_KEY, 'south');
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({ message: 'Invalid apikey' });
    expectOdooError(
      await rejectionOf(
        clientOf(sandbox.db('south'), 'json2', { apiKey: NORTH_KEY }).authenticate(),
      ),
      'ODOO_AUTH',
      false,
    );
    // Over XML-RPC and JSON-RPC the other database's password logs in nowhere, and its key
    // runs nothing.
    expect(
      (await xmlrpc('common', 'authenticate', ['south', 'sync@south.example', 'north-secret', {}]))
        .value,
    ).toBe(false);
    expect(
      (await jsonrpc('common', 'login', ['north', 'sync@north.example', 'north-secret'])).result,
    ).toBe(2);
    const withKey = await xmlrpc('object', 'execute_kw', [
      'east',
      2,
      SOUTH_KEY,
      'res.partner',
      'search_count',
      [[]],
    ]);
    expect(withKey.faultCode).toBe(3);
    expectOdooError(
      await rejectionOf(
        clientOf(sandbox.db('east'), 'jsonrpc', { password: 'north-secret' }).authenticate(),
      ),
      'ODOO_AUTH',
      false,
    );
    // A password changed in one database leaves the others' as they were.
    sandbox.db('south').control.setPassword('south-secret-2');
    try {
      expect(
        (await jsonrpc('common', 'login', ['south', 'sync@south.example', 'south-secret-2']))
          .result,
      ).toBe(2);
      expect(sandbox.db('north').password).toBe('north-secret');
    } finally {
      sandbox.db('south').control.setPassword('south-secret');
    }
  });

  it('keeps a call log and fault rules per database, and one for the calls that reach none', async () => {
    for (const name of sandbox.databases) sandbox.db(name).control.resetCalls();
    sandbox.serverCalls.resetCalls();
    const north = sandbox.db('north');
    const south = sandbox.db('south');
    const broken = north.control.injectFault({ kind: 'html', status: 502, times: Infinity });
    try {
      const failed = await json2(
        '/json/2/dimagaz.bc/search_count',
        { domain: [] },
        NORTH_KEY,
        'north',
      );
      expect(failed.status).toBe(502);
      expect(await countBcs(clientOf(south, 'json2'))).toBe(3);
      expect(await countBcs(clientOf(south, 'xmlrpc'))).toBe(3);
    } finally {
      broken.remove();
    }
    expect(north.control.countCalls({ method: 'search_count' })).toBe(1);
    expect(south.control.countCalls({ method: 'search_count' })).toBe(2);
    expect(south.control.countCalls({ protocol: 'xmlrpc', method: 'authenticate' })).toBe(1);
    expect(sandbox.db('east').control.calls()).toEqual([]);
    // The version, the db service, a database that does not exist: the server's own log.
    await (await request(`${sandbox.url}/web/version`)).body.text();
    await xmlrpc('db', 'list', []);
    await jsonrpc('common', 'login', ['nowhere', 'x', 'y']);
    expect(sandbox.serverCalls.calls()).toEqual([
      { protocol: 'json2', service: 'web', method: 'version', count: 1 },
      { protocol: 'xmlrpc', service: 'db', method: 'list', count: 1 },
      { protocol: 'jsonrpc', service: 'common', method: 'login', count: 1 },
    ]);
    expect(north.control.countCalls({ service: 'web' })).toBe(0);
  });

  it('lists its databases by name, and says which exist', async () => {
    expect((await xmlrpc('db', 'list', [])).value).toEqual(['east', 'north', 'south']);
    expect((await jsonrpc('db', 'db_exist', ['south'])).result).toBe(true);
    expect((await jsonrpc('db', 'db_exist', ['west'])).result).toBe(false);
  });
});

describe('a database the server does not have', () => {
  it('over XML-RPC and JSON-RPC: PostgreSQL refuses the connection, a server error', async () => {
    const login = await xmlrpc('common', 'login', ['west', 'sync@north.example', 'north-secret']);
    expect(login.faultCode).toBe(1);
    expect(login.faultString).toMatch(
      /\npsycopg2\.OperationalError: connection to server .* failed: FATAL: {2}database "west" does not exist\n/,
    );
    for (const call of [
      jsonrpc('common', 'authenticate', ['west', 'sync@north.example', 'north-secret', {}]),
      jsonrpc('object', 'execute_kw', ['west', 2, 'north-secret', 'res.partner', 'search', [[]]]),
    ]) {
      const { error } = await call;
      expect(error?.data.name).toBe('psycopg2.OperationalError');
      expect(error?.data.message).toMatch(/ database "west" does not exist\n$/);
    }
    // Odoo 19 refuses an empty password before it opens the database.
    const empty = await xmlrpc('object', 'execute_kw', [
      'west',
      2,
      '',
      'res.partner',
      'search',
      [[]],
    ]);
    expect(empty.faultCode).toBe(3);
    // erp-bridge's client: a server fault, not refused credentials.
    const client = clientOf({ ...sandbox.db('north'), database: 'west' }, 'jsonrpc');
    expectOdooError(await rejectionOf(client.authenticate()), 'ODOO_SERVER_FAULT', false);
  });

  it("over JSON-2 and /doc-bearer: Odoo's 404 page, with no database chosen, whatever the key", async () => {
    const noDatabase = {
      status: 404,
      type: 'text/html; charset=utf-8',
      body: expect.stringContaining(
        '<p>No database is selected and the requested URL was not found in the server-wide controllers.</p>',
      ) as unknown,
    };
    const page = (answer: { status: number; type: string; body: string }) => ({
      status: answer.status,
      type: answer.type,
      body: answer.body,
    });
    const search = (key: string, database: string | undefined) =>
      json2('/json/2/res.partner/search_count', { domain: [] }, key, database);
    // Unknown, whatever the key; none named while there are several.
    expect(page(await search(NORTH_KEY, 'west'))).toEqual(noDatabase);
    expect(page(await search('not-a-key', 'west'))).toEqual(noDatabase);
    expect(page(await search(NORTH_KEY, undefined))).toEqual(noDatabase);
    const doc = await request(`${sandbox.url}/doc-bearer/res.partner.json`, {
      headers: { authorization: `bearer ${NORTH_KEY}`, 'x-odoo-database': 'west' },
    });
    expect({ status: doc.statusCode, body: await doc.body.text() }).toEqual({
      status: 404,
      body: noDatabase.body,
    });
    const client = clientOf({ ...sandbox.db('north'), database: 'west' }, 'json2', {
      apiKey: NORTH_KEY,
    });
    expect(await rejectionOf(client.authenticate())).toMatchObject({
      code: 'ODOO_HTTP',
      httpStatus: 404,
      retryable: false,
    });
  });

  it('with one database, JSON-2 takes it without X-Odoo-Database, and no other name', async () => {
    const single = createOdooSandbox({ orders: 2, database: 'only', loginCooldown: false });
    await single.start();
    try {
      const call = (database?: string) =>
        request(`${single.url}/json/2/dimagaz.bc/search_count`, {
          method: 'POST',
          body: JSON.stringify({ domain: [], context: { active_test: false } }),
          headers: {
            'content-type': 'application/json',
            authorization: `bearer ${single.password}`,
            ...(database === undefined ? {} : { 'x-odoo-database': database }),
          },
        });
      for (const [database, status] of [
        [undefined, 200],
        ['only', 200],
        ['', 200],
        ['other', 404],
      ] as const) {
        const answer = await call(database);
        await answer.body.text();
        expect(answer.statusCode, String(database)).toBe(status);
      }
      expect(single.serverCalls.countCalls()).toBe(single.control.countCalls());
    } finally {
      await single.stop();
    }
  });
});

describe('the series is the server process', () => {
  let odoo17: OdooSandbox;
  let odoo19: OdooSandbox;
  beforeAll(async () => {
    odoo17 = createOdooSandbox({
      serverVersion: '17.0',
      loginCooldown: false,
      listDatabases: false,
      databases: { alpha: { orders: 4, password: 'alpha-secret' }, beta: { orders: 1 } },
    });
    odoo19 = createOdooSandbox({
      loginCooldown: false,
      databases: { gamma: { orders: 6, apiKeys: [{ key: NORTH_KEY }], passwordAsApiKey: false } },
    });
    await Promise.all([odoo17.start(), odoo19.start()]);
  });
  afterAll(async () => {
    await Promise.all([odoo17?.stop(), odoo19?.stop()]);
  });

  it('an Odoo 17 over JSON-RPC with a password and an Odoo 19 over JSON-2 with a key', async () => {
    const auto = (
      server: OdooSandbox,
      name: string,
      secret: { password: string; apiKey?: string },
    ) => {
      const database = server.db(name);
      const client = createOdooClient(
        {
          url: server.url,
          database: name,
          username: database.username,
          timeoutMs: 10_000,
          retries: 0,
          protocol: 'auto',
          ...secret,
        },
        { logger: silentLogger },
      );
      clients.push(client);
      return client;
    };
    const alpha = auto(odoo17, 'alpha', { password: 'alpha-secret' });
    const gamma = auto(odoo19, 'gamma', { password: 'unused', apiKey: NORTH_KEY });
    expect([await countBcs(alpha), await countBcs(gamma)]).toEqual([4, 6]);
    expect(alpha.chosenTransport()).toMatchObject({ protocol: 'jsonrpc', serverVersion: '17.0' });
    expect(gamma.chosenTransport()).toMatchObject({ protocol: 'json2', serverVersion: '19.0' });
    expect(await countBcs(auto(odoo17, 'beta', { password: 'sandbox-secret' }))).toBe(1);
  });

  it('17 opens the database before it looks at the password; list_db off refuses db.list', async () => {
    const call = (params: unknown[]) => xmlrpc('object', 'execute_kw', params, odoo17.url);
    const empty = await call(['west', 2, '', 'res.partner', 'search', [[]]]);
    expect(empty.faultCode).toBe(1);
    expect(empty.faultString).toContain('database "west" does not exist');
    expect((await call(['alpha', 2, '', 'res.partner', 'search', [[]]])).faultCode).toBe(3);
    expect(await xmlrpc('db', 'list', [], odoo17.url)).toEqual({
      faultCode: 3,
      faultString: 'Access Denied',
    });
  });
});
