/**
 * One conformance table for Odoo 19 and 20, run against three rows: the sandbox playing Odoo 19.0
 * (what the rest of the suite tests against), a real Odoo 19.0 (Debian's `odoo-19`, started by
 * test/helpers/odoo19.ts) and the sandbox playing 20.0 as its code shows it (no real 20.0 runs
 * here: docs/odoo.md, "Odoo 20.0"). The same checks for all, over JSON-2 with the sync user's API key,
 * through erp-bridge's client and on the raw wire: the transport `auto` picks, the key as login,
 * `/web/version`, `fields_get`'s attributes, `/doc-bearer`, keyset pages, reads of ids that are
 * gone, faults by kind, `write_date`'s precision and time zone, archived and deleted records,
 * access rights, a database the server does not have. Each row's setup is its own (the sandbox's control, Odoo's administrator over
 * JSON-2): the checks are not.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createOdooClient,
  type OdooClient,
  type OdooClientOptions,
} from '../../src/clients/odoo/index.js';
import { json2, json2Value, ODOO19_START_TIMEOUT_MS, type Json2Answer } from '../helpers/odoo19.js';
import {
  EXPECTED_ATTRIBUTES,
  EXPECTED_VALUES,
  ROWS,
  type Target,
} from '../helpers/odoo19-conformance-rows.js';
import { expectOdooError, rejectionOf, silentLogger } from './sandbox-harness.js';

/** `YYYY-MM-DD HH:MM:SS` (naive UTC) as an instant. */
const utc = (stamp: string): number => Date.parse(`${stamp.replace(' ', 'T')}Z`);

describe.each(ROWS)('Odoo conformance: $name', (row) => {
  let t: Target;
  const clients: OdooClient[] = [];
  beforeAll(async () => {
    t = await row.start();
  }, ODOO19_START_TIMEOUT_MS);
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await t?.stop();
  });

  /** erp-bridge's client for the row: `auto` with the sync user's key unless told otherwise. */
  const clientOf = (overrides: Partial<OdooClientOptions> = {}): OdooClient => {
    const client = createOdooClient(
      {
        url: t.url,
        database: t.database,
        username: t.username,
        password: t.password,
        apiKey: t.apiKey,
        timeoutMs: 30_000,
        retries: 0,
        protocol: 'auto',
        ...overrides,
      },
      { logger: silentLogger },
    );
    clients.push(client);
    return client;
  };
  const sync = (model: string, method: string, body: Record<string, unknown>) =>
    json2(t, t.apiKey, model, method, body);
  const admin = <T = unknown>(model: string, method: string, body: Record<string, unknown>) =>
    json2Value<T>(t, t.adminKey, model, method, body);
  const createPartners = (names: readonly string[], extra: Record<string, unknown> = {}) =>
    admin<number[]>('res.partner', 'create', {
      vals_list: names.map((name) => ({ name, ...extra })),
    });
  /** A call on `/jsonrpc`, its answer as Odoo wrote it. */
  const jsonrpc = async (service: string, method: string, args: unknown[]) => {
    const answer = await request(`${t.url}/jsonrpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        method: 'call',
        id: 1,
        params: { service, method, args },
      }),
    });
    return (await answer.body.json()) as {
      result?: unknown;
      error?: { data: { name: string; message: string } };
    };
  };
  /** `check_access_rights` of `res.partner` by `execute_kw` on `/jsonrpc`, as the sync user. */
  const checkAccessRightsOverJsonRpc = async (kwargs?: Record<string, unknown>) => {
    const uid = await clientOf().authenticate();
    return jsonrpc('object', 'execute_kw', [
      t.database,
      uid,
      t.password,
      'res.partner',
      'check_access_rights',
      ['read'],
      ...(kwargs === undefined ? [] : [kwargs]),
    ]);
  };
  /** The answer's status and, for an error, the exception as Odoo serialized it. */
  const fault = (answer: Json2Answer) => {
    const body = answer.body as { name?: string; message?: string; arguments?: unknown[] };
    return { status: answer.status, name: body.name, message: body.message };
  };

  it(`GET /web/version answers without credentials: ${row.series}`, async () => {
    const response = await request(`${t.url}/web/version`);
    expect(response.statusCode).toBe(200);
    expect(await response.body.json()).toEqual({
      version_info: [Number.parseInt(row.series, 10), 0, 0, 'final', 0, ''],
      version: row.series,
    });
    expect((await clientOf().version()).serverVersion).toBe(row.series);
  });

  it('auto picks JSON-2 with a key, JSON-RPC with a password only', async () => {
    expect(await clientOf().transport()).toMatchObject({
      protocol: 'json2',
      serverVersion: row.series,
    });
    const passwordOnly = await clientOf({ apiKey: undefined }).transport();
    expect(passwordOnly).toMatchObject({ protocol: 'jsonrpc', serverVersion: row.series });
    expect(passwordOnly.deprecationWarning).toBeDefined();
  });

  it('the key is the login: it names its user; a wrong key, or the password, is a 401', async () => {
    const context = await sync('res.users', 'context_get', {});
    expect(context.status).toBe(200);
    const { uid } = context.body as { uid: number };
    expect(await clientOf().authenticate()).toBe(uid);

    for (const wrong of ['0123456789abcdef0123456789abcdef01234567', t.password]) {
      const refused = await json2(t, wrong, 'res.partner', 'search', { domain: [] });
      expect(fault(refused)).toEqual({
        status: 401,
        name: 'werkzeug.exceptions.Unauthorized',
        message: 'Invalid apikey',
      });
      expect((refused.body as { arguments: unknown[] }).arguments).toEqual(['Invalid apikey', 401]);
      expect(String(refused.headers['www-authenticate'])).toMatch(/^Bearer/);
      expectOdooError(
        await rejectionOf(clientOf({ apiKey: wrong }).authenticate()),
        'ODOO_AUTH',
        false,
      );
    }
  });

  it("fields_get describes each field type with Odoo 19's attributes", async () => {
    const names = Object.keys(EXPECTED_ATTRIBUTES);
    const answer = await sync('res.partner', 'fields_get', { allfields: names });
    expect(answer.status).toBe(200);
    const described = answer.body as Record<string, Record<string, unknown>>;
    for (const name of names) {
      expect(Object.keys(described[name] ?? {}).sort(), name).toEqual(
        [...(EXPECTED_ATTRIBUTES[name] ?? [])].sort(),
      );
      expect(described[name], name).toMatchObject(EXPECTED_VALUES[name] ?? {});
    }
    // `attributes` keeps exactly the attributes asked for.
    const client = clientOf();
    expect(
      await client.fieldsGet('res.partner', ['type', 'store', 'relation'], {
        allfields: ['parent_id', 'name'],
      }),
    ).toEqual({
      parent_id: { type: 'many2one', store: true, relation: 'res.partner' },
      name: { type: 'char', store: true },
    });
    const stored = await client.storedFields('res.partner');
    expect(stored).toEqual(
      expect.arrayContaining([
        { name: 'name', type: 'char' },
        { name: 'parent_id', type: 'many2one', relation: 'res.partner' },
        { name: 'write_date', type: 'datetime' },
      ]),
    );
    expect(stored.map((field) => field.name)).not.toContain('display_name');
  });

  it('/doc-bearer: 200 and an ETag in Technical Documentation, 304 when it matches, 403 outside', async () => {
    const doc = (etag?: string) =>
      request(`${t.url}/doc-bearer/res.partner.json`, {
        headers: {
          authorization: `bearer ${t.apiKey}`,
          ...(etag === undefined ? {} : { 'if-none-match': etag }),
        },
      });
    const first = await doc();
    expect(first.statusCode).toBe(200);
    const etag = first.headers.etag;
    expect(typeof etag).toBe('string');
    const body = (await first.body.json()) as {
      model: string;
      fields: Record<string, { type: string; store: boolean }>;
    };
    expect(body.model).toBe('res.partner');
    expect(body.fields.name).toMatchObject({ type: 'char', store: true });
    const again = await doc(etag as string);
    expect(again.statusCode).toBe(304);
    await again.body.text();

    await t.setDocAccess(false);
    try {
      const refused = await doc();
      expect(refused.statusCode).toBe(403);
      expect(await refused.body.json()).toMatchObject({ name: 'odoo.exceptions.AccessError' });
    } finally {
      await t.setDocAccess(true);
    }
    const back = await doc();
    expect(back.statusCode).toBe(200);
    await back.body.text();
  });

  it('search_read pages by keyset: id > last, ordered by id', async () => {
    const ids = await createPartners(['Keyset G', 'Keyset A', 'Keyset E', 'Keyset B', 'Keyset F']);
    const sorted = [...ids].sort((a, b) => a - b);
    const pages: number[][] = [];
    for await (const page of clientOf().pages('res.partner', [['id', 'in', ids]], {
      fields: ['name'],
      pageSize: 2,
      context: { active_test: false },
    }))
      pages.push(page.map((record) => record.id));
    expect(pages).toEqual([sorted.slice(0, 2), sorted.slice(2, 4), sorted.slice(4)]);
    const after = await sync('res.partner', 'search_read', {
      domain: [
        ['id', 'in', ids],
        ['id', '>', sorted[1]],
      ],
      fields: ['name'],
      order: 'id asc',
      limit: 2,
    });
    expect((after.body as Array<{ id: number }>).map((record) => record.id)).toEqual(
      sorted.slice(2, 4),
    );
  });

  it('read drops the ids that do not exist, silently, and keeps the order asked', async () => {
    const [first, second] = await createPartners(['Read first', 'Read second']);
    const answer = await sync('res.partner', 'read', {
      ids: [second, 2_000_000_000, first],
      fields: ['name'],
    });
    expect(answer).toMatchObject({
      status: 200,
      body: [
        { id: second, name: 'Read second' },
        { id: first, name: 'Read first' },
      ],
    });
    const read = await clientOf().read('res.partner', [first!, 2_000_000_001], ['name']);
    expect(read).toEqual([{ id: first, name: 'Read first' }]);
  });

  it('faults by kind: their status, their exception, and the error the client makes of them', async () => {
    const [partner] = await createPartners(['Faulty']);
    const [gone] = await createPartners(['Gone']);
    await admin('res.partner', 'unlink', { ids: [gone] });
    const cases: Array<{
      call: [string, string, Record<string, unknown>];
      status: number;
      name: string;
      message?: RegExp;
      /** The client's error code; absent where execute_kw's shape cannot make the call. */
      code?: string;
    }> = [
      {
        call: [t.unreadable, 'search_read', { domain: [], fields: ['id'] }],
        status: 403,
        name: 'odoo.exceptions.AccessError',
        message: new RegExp(`^You are not allowed to access '.+' \\(${t.unreadable}\\) records\\.`),
        code: 'ODOO_ACCESS',
      },
      {
        call: ['res.partner', 'write', { ids: [gone], vals: { name: 'x' } }],
        status: 404,
        name: 'odoo.exceptions.MissingError',
        message: /^Record does not exist or has been deleted\./,
        code: 'ODOO_USER_ERROR',
      },
      {
        call: ['res.partner', 'write', { ids: [partner], vals: { parent_id: partner } }],
        status: 422,
        name: 'odoo.exceptions.ValidationError',
        message: /^You cannot create recursive Partner hierarchies\.$/,
        code: 'ODOO_USER_ERROR',
      },
      {
        // Positional arguments: JSON-2 has none; the method's own are then missing...
        call: ['res.partner', 'search', { args: [[]] }],
        status: 422,
        name: 'werkzeug.exceptions.UnprocessableEntity',
        message: /^missing a required argument: 'domain'$/,
        code: 'ODOO_USER_ERROR',
      },
      {
        // ...and `args` is an argument the method lacks.
        call: ['res.partner', 'read', { ids: [partner], args: [['name']] }],
        status: 422,
        name: 'werkzeug.exceptions.UnprocessableEntity',
        message: /^got an unexpected keyword argument 'args'$/,
        code: 'ODOO_USER_ERROR',
      },
      {
        call: ['res.partner', 'search', { ids: [partner], domain: [] }],
        status: 422,
        name: 'werkzeug.exceptions.UnprocessableEntity',
        message: /^cannot call res\.partner\.search with ids$/,
      },
      {
        call: ['x.nowhere', 'search', { domain: [] }],
        status: 404,
        name: 'werkzeug.exceptions.NotFound',
        message: /^the model 'x\.nowhere' does not exist$/,
        code: 'ODOO_USER_ERROR',
      },
      {
        call: ['res.partner', 'frobnicate', {}],
        status: 404,
        name: 'werkzeug.exceptions.NotFound',
        message: /^The method 'res\.partner\.frobnicate' does not exist$/,
        code: 'ODOO_USER_ERROR',
      },
      {
        call: ['res.partner', '_read_group', {}],
        status: 403,
        name: 'odoo.exceptions.AccessError',
        message:
          /^Private methods \(such as 'res\.partner\._read_group'\) cannot be called remotely\.$/,
        code: 'ODOO_ACCESS',
      },
      {
        call: ['res.partner', 'search', { domain: [['bogus', '=', 1]] }],
        status: 500,
        name: 'builtins.ValueError',
        code: 'ODOO_SERVER_FAULT',
      },
    ];
    const client = clientOf();
    for (const { call, status, name, message, code } of cases) {
      const [model, method, body] = call;
      const answer = fault(await sync(model, method, body));
      expect({ status: answer.status, name: answer.name }, `${model}.${method}`).toEqual({
        status,
        name,
      });
      if (message) expect(answer.message, `${model}.${method}`).toMatch(message);
      if (code === undefined) continue;
      const { ids, ...named } = body;
      const args = ids === undefined ? [] : [ids];
      expectOdooError(await rejectionOf(client.executeKw(model, method, args, named)), code, false);
    }
  });

  it('write_date: UTC whatever the time zone, whole seconds on the wire and in domains', async () => {
    const created = await json2(t, t.adminKey, 'res.partner', 'create', {
      vals_list: [{ name: 'Stamped' }],
    });
    const [id] = created.body as number[];
    const serverNow = Date.parse(String(created.headers.date));
    const readIn = async (tz?: string) => {
      const answer = await sync('res.partner', 'read', {
        ids: [id],
        fields: ['write_date'],
        ...(tz === undefined ? {} : { context: { tz } }),
      });
      return (answer.body as Array<{ write_date: string }>)[0]!.write_date;
    };
    const stamp = await readIn();
    expect(stamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(await readIn('Pacific/Auckland')).toBe(stamp);
    expect(await readIn('America/Los_Angeles')).toBe(stamp);
    // The answer's Date is Odoo's clock in UTC, to the second: the stamp is that same clock.
    expect(Math.abs(utc(stamp) - serverNow)).toBeLessThanOrEqual(2_000);
    // Stored to the microsecond, sent cut, and compared in domains to the whole second: the
    // record is not after its own stamp, and is at or before it.
    const count = async (operator: string, value: unknown = stamp) =>
      (
        await sync('res.partner', 'search_count', {
          domain: [
            ['id', '=', id],
            ['write_date', operator, value],
          ],
        })
      ).body;
    const operators = ['>', '>=', '<', '<=', '=', '!=', 'in', 'not in'] as const;
    const counts: Record<string, unknown> = {};
    for (const operator of operators)
      counts[operator] = await count(operator, operator.includes('in') ? [stamp] : stamp);
    expect(counts).toEqual({
      '>': 0,
      '>=': 1,
      '<': 0,
      '<=': 1,
      '=': 1,
      '!=': 0,
      in: 1,
      'not in': 0,
    });
  });

  it('archived records: listed with active_test off only; read keeps archived x2many targets when it is off, search_read never', async () => {
    const [kept, archivedTag] = await admin<number[]>('res.partner.category', 'create', {
      vals_list: [{ name: 'Conformance kept' }, { name: 'Conformance archived' }],
    });
    const [live, archived] = await createPartners(['Archive live', 'Archive gone'], {
      category_id: [[6, 0, [kept, archivedTag]]],
    });
    await admin('res.partner.category', 'action_archive', { ids: [archivedTag] });
    await admin('res.partner', 'action_archive', { ids: [archived] });
    const both = [['id', 'in', [live, archived]]];
    const off = { active_test: false };
    expect((await sync('res.partner', 'search', { domain: both, order: 'id' })).body).toEqual([
      live,
    ]);
    expect(
      (await sync('res.partner', 'search', { domain: both, order: 'id', context: off })).body,
    ).toEqual([live, archived]);
    expect((await sync('res.partner', 'search_count', { domain: both })).body).toBe(1);
    const tags = async (method: 'read' | 'search_read', context?: Record<string, unknown>) => {
      const body =
        method === 'read'
          ? { ids: [live], fields: ['category_id'] }
          : { domain: [['id', '=', live]], fields: ['category_id'] };
      const answer = await sync('res.partner', method, context ? { ...body, context } : body);
      return (answer.body as Array<{ category_id: number[] }>)[0]!.category_id;
    };
    // In the comodel's order (by name).
    expect(await tags('read', off)).toEqual([archivedTag, kept]);
    expect(await tags('read')).toEqual([kept]);
    expect(await tags('search_read', off)).toEqual([kept]);
    // A record archived by id is still read, as archived.
    expect(
      (await sync('res.partner', 'read', { ids: [archived], fields: ['active'] })).body,
    ).toEqual([{ id: archived, active: false }]);
  });

  it('web_read: roots and the records their one2many lists, in one call, as read gives them; a deleted root fails the call', async () => {
    const [tag] = await admin<number[]>('res.partner.category', 'create', {
      vals_list: [{ name: 'Conformance tree' }],
    });
    const [company] = await createPartners(['Tree company'], { is_company: true });
    const contacts = await createPartners(['Tree contact A', 'Tree contact B'], {
      parent_id: company,
      category_id: [[6, 0, [tag]]],
    });
    await admin('res.partner.category', 'action_archive', { ids: [tag] });
    const off = { active_test: false };
    const fields = ['name', 'parent_id', 'category_id', 'write_date'];
    const client = clientOf();
    const tree = await client.readTree(
      'res.partner',
      [company!],
      {
        fields: [...fields, 'child_ids'],
        many2one: ['parent_id'],
        branches: [{ field: 'child_ids', fields, many2one: ['parent_id'] }],
      },
      { context: off },
    );
    const roots = await client.read('res.partner', [company!], [...fields, 'child_ids'], {
      context: off,
    });
    const children = await client.read('res.partner', contacts, fields, { context: off });
    expect(tree).toEqual({ records: roots, branches: [children] });
    // The archived tag stays on the contacts, as read keeps it with active_test off.
    expect(children[0]!.category_id).toEqual([tag]);
    expect(children[0]!.parent_id).toEqual([company, 'Tree company']);

    const [doomed] = await createPartners(['Tree deleted']);
    await admin('res.partner', 'unlink', { ids: [doomed] });
    const tried = await rejectionOf(
      client.readTree(
        'res.partner',
        [company!, doomed!],
        {
          fields: ['name', 'child_ids'],
          many2one: [],
          branches: [{ field: 'child_ids', fields: ['name'], many2one: [] }],
        },
        { context: off },
      ),
    );
    expectOdooError(tried, 'ODOO_USER_ERROR', false);
    expect(String((tried as Error).message)).toContain('Record does not exist or has been deleted');
  });

  it('deleted records: gone from read, search and search_count, archived or not', async () => {
    const [doomed] = await createPartners(['Deleted soon']);
    await admin('res.partner', 'unlink', { ids: [doomed] });
    const off = { active_test: false };
    expect(
      (await sync('res.partner', 'read', { ids: [doomed], fields: ['name'], context: off })).body,
    ).toEqual([]);
    expect(
      (await sync('res.partner', 'search', { domain: [['id', '=', doomed]], context: off })).body,
    ).toEqual([]);
    expect(
      (await sync('res.partner', 'search_count', { domain: [['id', '=', doomed]], context: off }))
        .body,
    ).toBe(0);
    expect(await clientOf().search('res.partner', [['id', '=', doomed!]])).toEqual([]);
  });

  it('a database the server does not have: the 404 page over JSON-2 whatever the key, PostgreSQL refusing it over JSON-RPC', async () => {
    const nowhere = 'erp_bridge_nowhere';
    const searchIn = (database: string, key: string) =>
      request(`${t.url}/json/2/res.partner/search_count`, {
        method: 'POST',
        headers: {
          authorization: `bearer ${key}`,
          'content-type': 'application/json',
          'x-odoo-database': database,
        },
        body: JSON.stringify({ domain: [] }),
      });
    const own = await searchIn(t.database, t.apiKey);
    expect(own.statusCode).toBe(200);
    await own.body.text();
    const noDatabase = async (answer: Awaited<ReturnType<typeof request>>) => ({
      status: answer.statusCode,
      type: answer.headers['content-type'],
      body: await answer.body.text(),
    });
    const page = {
      status: 404,
      type: 'text/html; charset=utf-8',
      body: expect.stringContaining(
        'No database is selected and the requested URL was not found in the server-wide controllers.',
      ) as unknown,
    };
    expect(await noDatabase(await searchIn(nowhere, t.apiKey))).toEqual(page);
    expect(
      await noDatabase(await searchIn(nowhere, '0123456789abcdef0123456789abcdef01234567')),
    ).toEqual(page);
    const doc = await request(`${t.url}/doc-bearer/res.partner.json`, {
      headers: { authorization: `bearer ${t.apiKey}`, 'x-odoo-database': nowhere },
    });
    expect(await noDatabase(doc)).toEqual(page);
    expect(await rejectionOf(clientOf({ database: nowhere }).authenticate())).toMatchObject({
      code: 'ODOO_HTTP',
      httpStatus: 404,
    });

    for (const [service, method, args] of [
      ['common', 'login', [nowhere, t.username, t.password]],
      ['object', 'execute_kw', [nowhere, 2, t.password, 'res.partner', 'search_count', [[]]]],
    ] as const) {
      const { error } = await jsonrpc(service, method, [...args]);
      expect(error?.data, method).toMatchObject({
        name: 'psycopg2.OperationalError',
        message: expect.stringMatching(
          /^connection to server .* failed: FATAL: {2}database "erp_bridge_nowhere" does not exist\n$/,
        ) as unknown,
      });
    }
    expectOdooError(
      await rejectionOf(clientOf({ database: nowhere, apiKey: undefined }).authenticate()),
      'ODOO_SERVER_FAULT',
      false,
    );
    // An empty password is refused before the database is opened.
    const empty = await jsonrpc('object', 'execute_kw', [
      nowhere,
      2,
      '',
      'res.partner',
      'search_count',
      [[]],
    ]);
    expect(empty.error?.data.name).toBe('odoo.exceptions.AccessDenied');
    // list_db off: no list; db_exist still answers.
    expect((await jsonrpc('db', 'list', [])).error?.data.name).toBe('odoo.exceptions.AccessDenied');
    expect((await jsonrpc('db', 'db_exist', [t.database])).result).toBe(true);
    expect((await jsonrpc('db', 'db_exist', [nowhere])).result).toBe(false);
  });

  it('access rights: has_access says yes or no, and the client asks it', async () => {
    const hasAccess = async (model: string) =>
      (await sync(model, 'has_access', { ids: [], operation: 'read' })).body;
    expect(await hasAccess('res.partner')).toBe(true);
    expect(await hasAccess(t.unreadable)).toBe(false);
    const client = clientOf();
    expect(await client.canRead('res.partner')).toBe(true);
    expect(await client.canRead(t.unreadable)).toBe(false);
  });

  if (row.series === '19.0') {
    it('check_access_rights: without raising it says yes or no; raising, it answers nothing when allowed, 403 when not', async () => {
      const checks = async (model: string) =>
        (await sync(model, 'check_access_rights', { operation: 'read', raise_exception: false }))
          .body;
      expect(await checks('res.partner')).toBe(true);
      expect(await checks(t.unreadable)).toBe(false);
      // Raising, it answers nothing when allowed (it is check_access since 18), 403 when not.
      expect(await sync('res.partner', 'check_access_rights', { operation: 'read' })).toMatchObject(
        { status: 200, body: null },
      );
      expect(
        fault(await sync(t.unreadable, 'check_access_rights', { operation: 'read' })),
      ).toMatchObject({ status: 403, name: 'odoo.exceptions.AccessError' });
    });

    it('a method that returns None: JSON-2 answers null, JSON-RPC leaves result out, XML-RPC cannot marshal it', async () => {
      // check_access_rights raising, allowed: check_access's None since 18.
      expect(await checkAccessRightsOverJsonRpc()).toEqual({ jsonrpc: '2.0', id: 1 });
      const none = (protocol: 'json2' | 'jsonrpc' | 'xmlrpc') =>
        clientOf(protocol === 'json2' ? { protocol } : { protocol, apiKey: undefined }).executeKw(
          'res.partner',
          'check_access_rights',
          ['read'],
        );
      expect(await none('json2')).toBeNull();
      expect(await none('jsonrpc')).toBeNull();
      const marshalled = expectOdooError(
        await rejectionOf(none('xmlrpc')),
        'ODOO_SERVER_FAULT',
        false,
      );
      expect(marshalled.message).toContain('cannot marshal None unless allow_none is enabled');
    });
  } else {
    it('check_access_rights is gone: 404 over JSON-2, AttributeError over JSON-RPC', async () => {
      expect(
        fault(await sync('res.partner', 'check_access_rights', { operation: 'read' })),
      ).toEqual({
        status: 404,
        name: 'werkzeug.exceptions.NotFound',
        message: "The method 'res.partner.check_access_rights' does not exist",
      });
      const { error } = await checkAccessRightsOverJsonRpc({ raise_exception: false });
      expect(error?.data).toMatchObject({
        name: 'builtins.AttributeError',
        message: "The method 'res.partner.check_access_rights' does not exist",
      });
    });
  }
});
