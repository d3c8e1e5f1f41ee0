/**
 * Every route of the OpenAPI document, probed with random, boundary and hostile values for each
 * parameter and body field, under each role and with header tricks (fast-check): no answer is a
 * 5xx, every 4xx is JSON with a stable code, and no key ever reaches the log.
 *
 * Tryton is a stub here: the subject is the API's own handling of input (validation, the
 * gateway policy, the codec), not trytond's.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TrytonClient } from '../../src/clients/tryton/tryton-client.js';
import type { OdooFieldDescription } from '../../src/clients/odoo/odoo-types.js';
import { applyLayouts } from '../../src/families/configured/apply-layouts.js';
import { buildApp, type App } from '../../src/http/app.js';
import { createQueues, type Queues } from '../../src/queues/queues.js';
import { redisQueues } from '../../src/stores/queue-store.js';
import { bearer, KEYS, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { seedBcs } from '../helpers/seed-bcs.js';
import { schemaAnswers, storedField as field } from '../helpers/schema-answers.js';
import {
  AUTHORIZATIONS,
  bodyFor,
  BOUND_BYTES,
  BOUND_VALUES,
  cursorFor,
  HEADER_TRICKS,
  routesOf,
  sortsOf,
  valueFor,
  type Operation,
} from '../helpers/hostile-inputs.js';

const GADGETS = `
families:
  - name: gadgets
    model: x_gadget
    table: x_gadget
    children:
      - model: x_gadget_part
        link: x_gadget_id
        table: x_gadget_part
        api: { filter: [x_qty], sort: [x_qty] }
    api:
      filter: [x_name, x_size, x_price, x_ok, x_day, x_at, x_kind, x_owner_id]
      sort: [x_name, x_size, x_price, x_ok, x_day, x_at, x_kind, x_owner_id]
`;

const GADGET_FIELDS: Record<string, Record<string, OdooFieldDescription>> = {
  x_gadget: {
    id: field('integer'),
    write_date: field('datetime'),
    x_active: field('boolean'),
    x_name: field('char'),
    x_size: field('integer'),
    x_price: field('float', { digits: [12, 2] }),
    x_ok: field('boolean'),
    x_day: field('date'),
    x_at: field('datetime'),
    x_kind: field('selection'),
    x_owner_id: field('many2one', { relation: 'res.partner' }),
    x_tag_ids: field('many2many', { relation: 'res.partner.category' }),
    x_spec: field('json'),
  },
  x_gadget_part: {
    id: field('integer'),
    write_date: field('datetime'),
    x_gadget_id: field('many2one', { relation: 'x_gadget' }),
    x_qty: field('float'),
  },
};

/**
 * Hundreds of requests, each a full pass through the API and PostgreSQL: on a loaded machine (two
 * cores kept busy) a probe took past the suite's 60 s. Nothing here races a clock: it only waits.
 */
const PROBE_TIMEOUT_MS = 300_000;

describe('hostile probe of every route', { timeout: PROBE_TIMEOUT_MS }, () => {
  let db: TestDb;
  let dir: string;
  let familiesEnv: Record<string, string>;
  let connection: Redis;
  let queues: Queues;
  let app: App;
  const log = memoryLogger('info');
  const stubTryton = {
    database: 'stub',
    user: 'stub',
    call: () => Promise.resolve([]),
    cachedCall: () => Promise.resolve([]),
    cachedCallDetailed: () => Promise.resolve({ result: [], cache: 'miss' as const }),
    cachedCallJson: () => Promise.resolve({ json: '[]', cache: 'miss' as const }),
    ping: () => Promise.resolve({ version: '7.0.0', latencyMs: 1 }),
    stats: () => ({}),
    close: () => Promise.resolve(),
  } as unknown as TrytonClient;

  beforeAll(async () => {
    db = await createTestDb();
    await seedBcs(db.db, [1, 2, 3]);
    // A family configured in a file, its tables from a fields_get answer, so the routes its
    // declaration generates are probed too.
    dir = mkdtempSync(join(tmpdir(), 'erp-bridge-probe-'));
    writeFileSync(join(dir, 'families.yaml'), GADGETS);
    familiesEnv = { SYNC_FAMILIES_FILE: join(dir, 'families.yaml'), SYNC_FAMILIES: 'bcs,gadgets' };
    const { configured } = testConfig(familiesEnv).sync.families;
    await applyLayouts(db.db, schemaAnswers(GADGET_FIELDS), configured);
    await db.db.execute(
      sql.raw(`insert into x_gadget (odoo_id, odoo_write_date, data, x_name, x_size, x_price, x_ok, x_day, x_at, x_kind)
        values (1, now(), '{}', 'one', 1, 1.50, false, '2026-01-01', now(), 'a'),
               (2, now(), '{}', null, null, null, true, null, null, null)`),
    );
    connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
    const prefix = `probe-${randomBytes(5).toString('hex')}`;
    queues = createQueues({
      logger: log.logger,
      backend: redisQueues(connection, prefix),
      settings: { attempts: 1, backoffMs: 10 },
    });
    app = await buildApp({
      config: testConfig({
        ...familiesEnv,
        QUEUE_PREFIX: prefix,
        RATE_LIMIT_PER_MINUTE: '1000000',
        RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000000',
        TRYTON_RPC_URL: 'http://tryton.invalid:8000',
        TRYTON_DATABASE: 'stub',
        TRYTON_USER: 'stub',
        TRYTON_PASSWORD: 'stub-password',
        TRYTON_MODELS: 'party.party,product.product:name|code',
        TRYTON_ALLOWED_METHODS: 'common.server.version,model.*.*.search_count',
      }),
      logger: log.logger,
      db,
      queues,
      tryton: stubTryton,
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await Promise.all(queues.all.map((queue) => queue.obliterate({ force: true })));
    await queues.close();
    await connection.quit();
    await db.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers no 5xx and a JSON code on every 4xx, over at least 120 hostile requests per route kind, leaking no key', async () => {
    const document = (await app.inject({ url: '/docs/json', headers: bearer('admin') })).json<{
      paths: Record<string, Record<string, Operation>>;
    }>();
    const routes = routesOf(document);
    expect(routes.length).toBeGreaterThan(15);

    const request = fc.constantFrom(...routes).chain((route) =>
      fc.record({
        route: fc.constant(route),
        params: fc.record(
          Object.fromEntries(
            (route.operation.parameters ?? []).map((parameter) => [
              `${parameter.in}:${parameter.name}`,
              parameter.in === 'path'
                ? valueFor(parameter.schema, parameter.name)
                : fc.option(valueFor(parameter.schema, parameter.name)),
            ]),
          ),
        ),
        // A cursor for the sort the request asks for (or the default), so its value reaches the
        // decoder of that sort's type instead of stopping at "another sort's cursor".
        cursor:
          sortsOf(route).length === 0
            ? fc.constant(null)
            : fc.option(
                fc
                  .constantFrom(...sortsOf(route))
                  .chain((sort) => cursorFor(sort).map((cursor) => ({ sort, cursor }))),
              ),
        unknownQuery: fc.option(fc.constantFrom('x=1', 'limit=1&limit=2', '__proto__[a]=1', '%zz')),
        body: bodyFor(route.operation),
        authorization: AUTHORIZATIONS,
        headers: HEADER_TRICKS,
      }),
    );

    let probes = 0;
    let cursorProbes = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (probe) => {
        let path = probe.route.path;
        const query: string[] = [];
        for (const [key, value] of Object.entries(probe.params)) {
          const [where, name] = key.split(':') as ['query' | 'path', string];
          if (where === 'path') path = path.replace(`{${name}}`, encodeURIComponent(String(value)));
          else if (value !== null) query.push(`${name}=${encodeURIComponent(String(value))}`);
        }
        if (probe.cursor) {
          const { sort, cursor } = probe.cursor;
          const others = query.filter(
            (item) => !item.startsWith('sort=') && !item.startsWith('cursor='),
          );
          query.splice(
            0,
            query.length,
            ...others,
            `sort=${encodeURIComponent(sort)}`,
            `cursor=${cursor}`,
          );
          cursorProbes += 1;
        }
        if (probe.unknownQuery) query.push(probe.unknownQuery);
        const response = await app.inject({
          method: probe.route.method,
          url: query.length > 0 ? `${path}?${query.join('&')}` : path,
          headers: {
            ...probe.headers,
            ...(probe.authorization === undefined ? {} : { authorization: probe.authorization }),
          },
          ...(probe.route.method === 'POST' && probe.body !== undefined
            ? { payload: probe.body }
            : {}),
        });
        probes += 1;
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        const where = `${probe.route.method} ${path} → ${response.statusCode} ${response.body.slice(0, 300)}`;
        expect(response.statusCode, where).toBeLessThan(500);
        if (response.statusCode >= 400) {
          const body = response.json<{ error?: unknown; message?: unknown }>();
          expect(body.error, where).toMatch(/^[A-Z][A-Z0-9_]*$/);
          expect(typeof body.message, where).toBe('string');
        }
      }),
      { numRuns: 600, seed: 20261122 },
    );
    expect(probes).toBeGreaterThanOrEqual(120 * 5);
    expect(cursorProbes).toBeGreaterThanOrEqual(10);
    const output = log.lines.join('');
    for (const key of Object.values(KEYS)) expect(output).not.toContain(key.key);
    expect(output).not.toContain('stub-password');
    // The probe reached past validation too, not only 400s.
    expect([...statuses.keys()].some((status) => status < 300)).toBe(true);
  });

  it('answers no 5xx to any filter of any configured model given values at and past PostgreSQL’s bounds', async () => {
    const document = (await app.inject({ url: '/docs/json', headers: bearer('admin') })).json<{
      paths: Record<string, Record<string, Operation>>;
    }>();
    const lists = routesOf(document).filter((route) =>
      /^\/api\/models\/x_gadget(_part)?\/records$/.test(route.path),
    );
    expect(lists.map((route) => route.path).sort()).toEqual([
      '/api/models/x_gadget/records',
      '/api/models/x_gadget_part/records',
    ]);
    const own = new Set(['sort', 'limit', 'cursor', 'fields']);
    const answered = new Map<number, number>();
    for (const list of lists) {
      const filters = (list.operation.parameters ?? [])
        .map((parameter) => parameter.name)
        .filter((name) => !own.has(name));
      // Each kind of filter, and the list's own date parameter, are among them.
      expect(filters).toEqual(
        expect.arrayContaining(
          list.path.includes('_part')
            ? ['xQty', 'xQty.gte', 'xGadgetId.in', 'updatedSince']
            : ['xDay.gte', 'xAt.lt', 'xPrice', 'xSize.in', 'xName.contains', 'xOk', 'updatedSince'],
        ),
      );
      for (const name of filters)
        for (const value of [...BOUND_VALUES, ...BOUND_BYTES]) {
          const response = await app.inject({
            url: `${list.path}?${name}=${value}`,
            // An operator's: includeArchived is probed too, a reader would be refused it.
            headers: bearer('operator'),
          });
          const where = `${list.path}?${name}=${value.slice(0, 60)} → ${response.statusCode} ${response.body.slice(0, 200)}`;
          expect(response.statusCode, where).toBeLessThan(500);
          if (response.statusCode >= 400)
            expect(response.json<{ error: string }>().error, where).toMatch(/^[A-Z][A-Z0-9_]*$/);
          answered.set(response.statusCode, (answered.get(response.statusCode) ?? 0) + 1);
        }
    }
    // Bounds PostgreSQL takes are answered, the others refused.
    expect([...answered.keys()].sort()).toEqual([200, 400]);
  });

  it.each([
    ['/api/bcs', 10],
    ['/api/models/x_gadget/records', 12],
  ])(
    'answers no 5xx to cursors carrying values of every type, for every sort of %s',
    async (path, sortCount) => {
      const document = (await app.inject({ url: '/docs/json', headers: bearer('admin') })).json<{
        paths: Record<string, Record<string, Operation>>;
      }>();
      const list = routesOf(document).find((route) => route.path === path)!;
      const sorts = sortsOf(list);
      expect(sorts.length).toBeGreaterThanOrEqual(sortCount);
      const seen = new Map<string, Set<number>>();
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...sorts).chain((sort) => fc.tuple(fc.constant(sort), cursorFor(sort))),
          async ([sort, cursor]) => {
            const response = await app.inject({
              url: `${path}?sort=${encodeURIComponent(sort)}&cursor=${cursor}`,
              headers: bearer('reader'),
            });
            const where = `${sort} ${Buffer.from(cursor, 'base64url').toString()} → ${response.statusCode} ${response.body.slice(0, 200)}`;
            expect(response.statusCode, where).toBeLessThan(500);
            if (response.statusCode >= 400)
              expect(response.json(), where).toMatchObject({ error: 'BAD_CURSOR' });
            seen.set(sort, (seen.get(sort) ?? new Set()).add(response.statusCode));
          },
        ),
        { numRuns: 1_000, seed: 20261123 },
      );
      // Every sort was probed, and its cursors reached both answers: a page and a refusal.
      for (const sort of sorts)
        expect([...(seen.get(sort) ?? [])].sort(), sort).toEqual([200, 400]);
    },
  );
});
