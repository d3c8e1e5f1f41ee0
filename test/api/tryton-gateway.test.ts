import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createTrytonCache, type TrytonCache } from '../../src/clients/tryton/tryton-cache.js';
import { createTrytonClient, type TrytonClient } from '../../src/clients/tryton/tryton-client.js';
import { createApi } from '../../src/create-api.js';
import { buildApp, type App } from '../../src/http/app.js';
import { createShutdown } from '../../src/lib/shutdown.js';
import { bearer, KEYS, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import {
  startTrytond,
  TRYTOND_SERIES,
  TRYTOND_START_TIMEOUT_MS,
  type Trytond,
} from '../helpers/trytond.js';

describe.each(TRYTOND_SERIES)(
  'the Tryton gateway through the API, with real API keys and a real trytond %s',
  (series) => {
    let trytond: Trytond;
    let db: TestDb;
    let client: TrytonClient;
    let cache: TrytonCache;
    let app: App;
    const trytonEnv = () => ({
      TRYTON_RPC_URL: trytond.url,
      TRYTON_DATABASE: trytond.database,
      TRYTON_USER: trytond.user,
      TRYTON_PASSWORD: trytond.password,
    });
    beforeAll(async () => {
      trytond = await startTrytond({ series });
      db = await createTestDb();
      const config = testConfig({ ...trytonEnv(), TRYTON_MODELS: 'party.party' });
      const { logger } = memoryLogger('warn');
      cache = createTrytonCache({
        redisUrl: inject('redisUrl'),
        keyPrefix: `test-${db.name}:`,
        logger,
        // The test Redis is the queues' (noeviction): allowed here, as an operator may.
        allowNoEviction: true,
      });
      client = createTrytonClient(config.tryton!, { logger, cache });
      app = await buildApp({ config, logger, db, tryton: client });
      await app.ready();
    }, TRYTOND_START_TIMEOUT_MS);
    afterAll(async () => {
      await app.close();
      await client.close();
      await cache.close();
      await db.dispose();
      await trytond.stop();
    });

    const rpc = (
      method: string,
      params: unknown[],
      role: 'reader' | 'operator' | null = 'operator',
    ) =>
      app.inject({
        method: 'POST',
        url: '/api/tryton/rpc',
        headers: role ? bearer(role) : {},
        payload: { method, params },
      });

    it('forwards an allowed method, cached on the second call', async () => {
      const params = [[], 0, null, [['id', 'ASC']], ['name'], {}];
      const first = await rpc('model.party.party.search_read', params);
      expect(first.statusCode, first.body).toBe(200);
      expect(first.headers['x-cache']).toBe('miss');
      const names = first.json<{ result: { name: string }[] }>().result.map((p) => p.name);
      expect(names).toEqual(trytond.parties.map((p) => p.name));
      const second = await rpc('model.party.party.search_read', params);
      expect(second.headers['x-cache']).toBe('hit');
      expect(second.json()).toEqual(first.json());
    });

    it('refuses a method outside the allowlist with 403, a missing key with 401, a reader with 403', async () => {
      const write = await rpc('model.party.party.write', [[1], { name: 'x' }, {}]);
      expect(write.statusCode).toBe(403);
      expect(write.json()).toMatchObject({ error: 'TRYTON_METHOD_NOT_ALLOWED' });
      expect((await rpc('model.party.party.search', [[], {}], null)).statusCode).toBe(401);
      expect((await rpc('model.party.party.search', [[], {}], 'reader')).statusCode).toBe(403);
    });

    it('answers 400 for params nested deeper than any call needs, at every depth, never a 5xx', async () => {
      for (const depth of [100, 1_000, 3_000, 5_000, 10_000, 100_000]) {
        const nested = `${'['.repeat(depth)}${']'.repeat(depth)}`;
        for (const [method, params] of [
          ['common.server.version', `[${nested}]`],
          ['model.party.party.search_count', `[${nested},{}]`],
          ['model.party.party.search_count', `[[], {"a":${nested}}]`],
        ] as const) {
          const response = await app.inject({
            method: 'POST',
            url: '/api/tryton/rpc',
            headers: { ...bearer('operator'), 'content-type': 'application/json' },
            payload: `{"method":"${method}","params":${params}}`,
          });
          expect(response.statusCode, `${method} at depth ${depth}: ${response.body}`).toBe(400);
          expect(response.json()).toMatchObject({ error: expect.stringMatching(/^TRYTON_BAD_/) });
        }
      }
    });

    it('/api/tryton/ping answers the server version and latency', async () => {
      const response = await app.inject({ url: '/api/tryton/ping', headers: bearer('operator') });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({
        version: expect.stringMatching(/^\d+\.\d+/),
        latencyMs: expect.any(Number),
      });
    });

    it('answers 503 JSON when Tryton is not configured', async () => {
      const bare = await buildApp({
        config: testConfig(),
        logger: memoryLogger('warn').logger,
        db,
      });
      try {
        const response = await bare.inject({
          url: '/api/tryton/ping',
          headers: bearer('operator'),
        });
        expect(response.statusCode).toBe(503);
        expect(response.json()).toMatchObject({ error: 'TRYTON_NOT_CONFIGURED' });
      } finally {
        await bare.close();
      }
    });

    it('warns at boot when the Tryton cache shares the queue Redis, and only then', async () => {
      for (const [cacheRedisUrl, shared] of [
        [undefined, true],
        ['redis://cache.invalid:6379', false],
      ] as const) {
        const { logger, lines } = memoryLogger('warn');
        const shutdown = createShutdown(logger, 10_000);
        try {
          await createApi({
            config: testConfig({
              ...trytonEnv(),
              REDIS_URL: inject('redisUrl'),
              ...(cacheRedisUrl ? { CACHE_REDIS_URL: cacheRedisUrl } : {}),
            }),
            logger,
            db,
            shutdown,
          });
        } finally {
          await shutdown.run('test');
        }
        expect(
          lines.some((line) => line.includes('the Tryton cache shares the queue Redis')),
          lines.join(''),
        ).toBe(shared);
      }
    });

    it("names a wrong TRYTON_DATABASE: a typed error and a readable message, not trytond's text", async () => {
      const { logger } = memoryLogger('warn');
      const config = testConfig({
        ...trytonEnv(),
        TRYTON_DATABASE: 'no_such_database',
        TRYTON_MODELS: 'party.party',
        TRYTON_CACHE_TTL_SECONDS: '0',
      });
      const wrong = createTrytonClient(config.tryton!, { logger });
      const wrongApp = await buildApp({ config, logger, db, tryton: wrong });
      try {
        const response = await wrongApp.inject({
          method: 'POST',
          url: '/api/tryton/rpc',
          headers: bearer('operator'),
          payload: { method: 'model.party.party.search_count', params: [[], {}] },
        });
        expect(response.statusCode, response.body).toBe(502);
        expect(response.json()).toMatchObject({
          error: 'TRYTON_UNKNOWN_DATABASE',
          message: expect.stringContaining('TRYTON_DATABASE'),
        });
        expect(response.body).not.toMatch(/put_connection|sqlite|no_such_database/);
      } finally {
        await wrongApp.close();
        await wrong.close();
      }
    });

    describe('least privilege', () => {
      const RESET = 'Temp-Reset-Password-7391';
      const IDENTIFIER = 'SECRET-ID-5521';
      const EMAIL = 'hidden-4410@example.invalid';
      const STREET = '12 Hidden Lane';
      const warningsIn = (logged: string[]) =>
        logged
          .map((line) => JSON.parse(line) as { level: number; msg: string })
          .filter((line) => line.level === 40)
          .map((line) => line.msg);
      let adminId: number;
      const gateway = async (
        env: Record<string, string>,
        run: (app: App, logged: string[]) => Promise<void>,
      ) => {
        const { logger, lines } = memoryLogger('info');
        const gatewayApp = await buildApp({
          config: testConfig({ ...trytonEnv(), TRYTON_CACHE_TTL_SECONDS: '0', ...env }),
          logger,
          db,
          tryton: client,
        });
        try {
          await run(gatewayApp, lines);
        } finally {
          await gatewayApp.close();
        }
      };
      const call = (target: App, method: string, params: unknown[]) =>
        target.inject({
          method: 'POST',
          url: '/api/tryton/rpc',
          headers: bearer('operator'),
          payload: { method, params },
        });
      beforeAll(async () => {
        const [found] = await client.call<number[]>('model.res.user.search', [
          [['login', '=', trytond.user]],
          0,
          1,
          null,
          {},
        ]);
        adminId = found!;
        await client.call('model.res.user.write', [
          [adminId],
          { password_reset: RESET, password_reset_expire: new Date(Date.now() + 86_400_000) },
          {},
        ]);
        expect(
          await client.call<{ password_reset: string }[]>('model.res.user.read', [
            [adminId],
            ['password_reset'],
            {},
          ]),
        ).toEqual([expect.objectContaining({ password_reset: RESET })]);
        // Records of models the gateway never exposes, reachable only through party's relations.
        await client.call('model.party.party.write', [
          [trytond.parties[1]!.id],
          {
            identifiers: [['create', [{ code: IDENTIFIER }]]],
            contact_mechanisms: [['create', [{ type: 'email', value: EMAIL }]]],
            addresses: [['create', [{ street: STREET }]]],
          },
          {},
        ]);
      });

      it('the default configuration reaches no model: a reset password is never readable', async () => {
        await gateway({}, async (target) => {
          for (const [method, params] of [
            ['model.res.user.read', [[adminId], ['password_reset'], {}]],
            ['model.res.user.search_read', [[], 0, 10, null, ['password_reset'], {}]],
            ['model.res.user.search_read', [[], 0, 10, null, null, {}]],
            ['model.res.user.application.search_read', [[], 0, 10, null, null, {}]],
            [
              'model.party.party.read',
              [[trytond.parties[0]!.id], ['create_uid.password_reset'], {}],
            ],
            ['model.party.party.search', [[], {}]],
          ] as const) {
            const response = await call(target, method, [...params]);
            expect(response.statusCode, `${method}: ${response.body}`).toBe(403);
            expect(response.json()).toMatchObject({ error: 'TRYTON_METHOD_NOT_ALLOWED' });
            expect(response.body).not.toContain(RESET);
          }
          expect((await call(target, 'common.server.version', [])).statusCode).toBe(200);
        });
      });

      it('a wildcard never reaches res.* or ir.*, and matches exactly one segment', async () => {
        await gateway(
          { TRYTON_ALLOWED_METHODS: 'model.*.*.read,model.*.*.search_read,model.party.*' },
          async (target) => {
            for (const [method, params] of [
              ['model.res.user.read', [[adminId], ['password_reset'], {}]],
              ['model.ir.session.search_read', [[], 0, 10, null, null, {}]],
              // `model.party.*` names no method of party.party: `*` is one segment.
              ['model.party.party.write', [[trytond.parties[0]!.id], { name: 'x' }, {}]],
            ] as const) {
              const response = await call(target, method, [...params]);
              expect(response.statusCode, `${method}: ${response.body}`).toBe(403);
              expect(response.body).not.toContain(RESET);
            }
            const parties = await call(target, 'model.party.party.read', [
              [trytond.parties[0]!.id],
              ['name'],
              {},
            ]);
            expect(parties.statusCode).toBe(200);
            const related = await call(target, 'model.party.party.read', [
              [trytond.parties[0]!.id],
              ['create_uid.password_reset'],
              {},
            ]);
            expect(related.statusCode).toBe(403);
            expect(related.json()).toMatchObject({ error: 'TRYTON_FIELD_NOT_ALLOWED' });
          },
        );
      });

      it('a model listed with fields is read, searched and sorted on those fields only', async () => {
        await gateway({ TRYTON_MODELS: 'party.party:name|code' }, async (target) => {
          const all = await call(target, 'model.party.party.search_read', [
            [],
            0,
            null,
            null,
            null,
            {},
          ]);
          expect(all.statusCode, all.body).toBe(200);
          const rows = all.json<{ result: Record<string, unknown>[] }>().result;
          expect(rows.length).toBe(trytond.parties.length);
          for (const row of rows) expect(Object.keys(row).sort()).toEqual(['code', 'id', 'name']);
          for (const params of [
            [[], 0, 10, null, ['name', 'create_date'], {}],
            [[['create_uid.password_reset', '=', RESET]], 0, 10, null, ['name'], {}],
            [
              [['create_uid', 'where', [['password_reset', '=', RESET]]]],
              0,
              10,
              null,
              ['name'],
              {},
            ],
            [[], 0, 10, [['create_date', 'DESC']], ['name'], {}],
          ]) {
            const refused = await call(target, 'model.party.party.search_read', params);
            expect(refused.statusCode, JSON.stringify(params)).toBe(403);
            expect(refused.json()).toMatchObject({ error: 'TRYTON_FIELD_NOT_ALLOWED' });
          }
        });
      });

      it('reads domains as trytond does: no group head trytond accepts, at any depth, smuggles a relation path', async () => {
        // What trytond evaluates as a group's first element without failing: AND, OR, and the
        // empty text (an AND); null, false, 0, [] and {} are elements it takes as true, where
        // 8.0 fails the call on null, false and 0 ("'NoneType' object is not iterable").
        const heads: unknown[] = ['', 'AND', 'OR', null, false, 0, [], {}];
        const failsStraight = (head: unknown) =>
          series === '8.0' && (head === null || head === false || head === 0);
        const clause = (prefix: string) => ['create_uid.password_reset', 'like', `${prefix}%`];
        const placements: [string, (group: unknown[]) => unknown[]][] = [
          ['top level', (group) => group],
          ['inside AND', (group) => ['AND', group]],
          ['inside OR', (group) => ['OR', [['name', '=', 'nobody']], group]],
          ['three levels down', (group) => [[[group]]]],
        ];
        const count = (domain: unknown[]) =>
          client.call<number>('model.party.party.search_count', [domain, {}]);
        await gateway({ TRYTON_MODELS: 'party.party' }, async (target) => {
          for (const head of heads)
            for (const [where, place] of placements) {
              const domain = (prefix: string) => place([head, clause(prefix)]);
              const shape = `${JSON.stringify(head)} ${where}`;
              if (failsStraight(head)) {
                await expect(count(domain(RESET.slice(0, 5))), shape).rejects.toMatchObject({
                  code: 'TRYTON_SERVER_ERROR',
                });
              } else {
                // Sent straight to trytond, the clause is evaluated: an oracle on the reset password.
                expect(await count(domain(RESET.slice(0, 5))), shape).toBe(trytond.parties.length);
                expect(await count(domain('zzz')), shape).toBe(0);
              }
              const response = await call(target, 'model.party.party.search_count', [
                domain(RESET.slice(0, 5)),
                {},
              ]);
              expect([400, 403], `${shape}: ${response.body}`).toContain(response.statusCode);
              expect(response.json(), shape).toMatchObject({
                error: expect.stringMatching(/^TRYTON_(FIELD_NOT_ALLOWED|BAD_DOMAIN)$/),
              });
            }
          // The issue's own request, word for word.
          const issue = await call(target, 'model.party.party.search_count', [
            ['', ['create_uid.password_reset', 'like', 'zq7%']],
            {},
          ]);
          expect(issue.statusCode, issue.body).toBe(400);
          expect(issue.json()).toMatchObject({ error: 'TRYTON_BAD_DOMAIN' });
        });
      });

      it('refuses every other place a field name reaches another model: where, child_of targets, order, field lists', async () => {
        const id = trytond.parties[0]!.id;
        await gateway({ TRYTON_MODELS: 'party.party' }, async (target) => {
          for (const [method, params] of [
            [
              'model.party.party.search_count',
              [[['create_uid', 'where', [['password_reset', 'like', 'T%']]]], {}],
            ],
            [
              'model.party.party.search_count',
              [[['create_uid', 'not where', [['password_reset', 'like', 'T%']]]], {}],
            ],
            [
              'model.party.party.search_count',
              [[['create_uid', 'child_of', [1], 'create_uid']], {}],
            ],
            ['model.party.party.search_count', [[['create_uid', 'parent_of', 'x', 'login']], {}]],
            ['model.party.party.search', [[], 0, 10, [['create_uid.password_reset', 'ASC']], {}]],
            ['model.party.party.search_read', [[], 0, 10, null, ['create_uid.password_reset'], {}]],
            ['model.party.party.search_read', [[], 0, 10, null, ['create_uid/password_reset'], {}]],
            ['model.party.party.read', [[id], ['create_uid.password_hash'], {}]],
            ['model.party.party.read', [[id], ['create_uid.rec_name'], {}]],
            ['model.party.party.read', [[id], ['addresses/city'], {}]],
          ] as const) {
            const response = await call(target, method, [...params]);
            expect(
              response.statusCode,
              `${method} ${JSON.stringify(params)}: ${response.body}`,
            ).toBe(403);
            expect(response.json()).toMatchObject({ error: 'TRYTON_FIELD_NOT_ALLOWED' });
            expect(response.body).not.toContain(RESET);
          }
          // What stays allowed: plain fields, nested groups, sorts with a null ordering.
          const allowed = await call(target, 'model.party.party.search', [
            ['OR', [['name', '=', 'Globex']], ['AND', [['code', 'ilike', 'ACM%']], []]],
            0,
            10,
            [
              ['name', 'desc nulls last'],
              ['id', null],
            ],
            {},
          ]);
          expect(allowed.statusCode, allowed.body).toBe(200);
          expect(allowed.json<{ result: number[] }>().result).toHaveLength(2);
        });
      });

      it('no method pattern reaches a method that reads fields or renders records outside the field policy', async () => {
        const id = trytond.parties[0]!.id;
        const patterns = 'model.party.party.*,report.*.*.*.execute,wizard.*.*.*';
        // Straight to trytond, these read the reset password: what the gateway must never forward.
        const exported = await client.call<string[][]>('model.party.party.export_data', [
          [id],
          ['name', 'create_uid/password_reset'],
          {},
        ]);
        expect(exported[0]).toContain(RESET);
        const report = await client.call<unknown[]>(
          'report.res.user.email_reset_password.execute',
          [[adminId], {}, {}],
        );
        expect(JSON.stringify(report)).toContain(RESET);
        await gateway({ TRYTON_ALLOWED_METHODS: patterns }, async (target, logged) => {
          for (const [method, params] of [
            ['model.party.party.export_data', [[id], ['name', 'create_uid/password_reset'], {}]],
            ['model.party.party.export_data_domain', [[], ['create_uid/password_reset'], {}]],
            ['report.res.user.email_reset_password.execute', [[adminId], {}, {}]],
            ['model.party.party.fields_view_get', [null, 'form', {}]],
            ['model.party.party.default_get', [['create_uid'], true, {}]],
            ['model.party.party.on_change_with', [{ id }, ['rec_name'], {}]],
            ['wizard.party.replace.create', [{}]],
          ] as const) {
            const response = await call(target, method, [...params]);
            expect(response.statusCode, `${method}: ${response.body}`).toBe(403);
            expect(response.json()).toMatchObject({ error: 'TRYTON_METHOD_NOT_ALLOWED' });
            expect(response.body).not.toContain(RESET);
          }
          // Read methods a pattern matches go through the field policy.
          const path = await call(target, 'model.party.party.search_read', [
            [],
            0,
            10,
            null,
            ['create_uid.password_reset'],
            {},
          ]);
          expect(path.statusCode).toBe(403);
          expect(path.json()).toMatchObject({ error: 'TRYTON_FIELD_NOT_ALLOWED' });
          const count = await call(target, 'model.party.party.search_count', [[], {}]);
          expect(count.json()).toEqual({ result: trytond.parties.length });
          const warnings = logged
            .map((line) => JSON.parse(line) as { level: number; msg: string })
            .filter((line) => line.level === 40)
            .map((line) => line.msg);
          for (const pattern of patterns.split(','))
            expect(
              warnings.some((warning) => warning.includes(`"${pattern}"`)),
              `${pattern}: ${warnings.join(' | ')}`,
            ).toBe(true);
        });
      });

      it("refuses 7.0's autocomplete, on_scan_code and on_change_notify whatever the pattern, and says so at boot", async () => {
        const id = trytond.parties[0]!.id;
        const oracle = (prefix: string) => [
          '',
          [['create_uid.password_reset', 'like', `${prefix}%`]],
          10,
          null,
          {},
        ];
        if (series !== '6.0') {
          // Straight to trytond 7.0 and later, autocomplete searches a domain nobody checked and answers
          // each record's rec_name: an oracle on the reset password, and names past a field list.
          const found = await client.call<{ name: string }[]>(
            'model.party.party.autocomplete',
            oracle(RESET.slice(0, 5)),
          );
          expect(found.map((row) => row.name).sort()).toEqual(
            trytond.parties.map((party) => party.name).sort(),
          );
          expect(await client.call('model.party.party.autocomplete', oracle('zq7'))).toEqual([]);
        }
        const named = [
          'model.party.party.autocomplete',
          'model.party.party.on_scan_code',
          'model.party.party.on_change_notify',
        ];
        await gateway(
          {
            TRYTON_MODELS: 'party.party:code',
            TRYTON_ALLOWED_METHODS: ['model.party.party.*', ...named].join(','),
          },
          async (target, logged) => {
            for (const [method, params] of [
              // The issue's own request, word for word, then one whose clause matches.
              ['model.party.party.autocomplete', oracle('zq7')],
              ['model.party.party.autocomplete', oracle(RESET.slice(0, 5))],
              ['model.party.party.autocomplete', ['Acme', [], 10, null, {}]],
              ['model.party.party.on_scan_code', [{ id, name: 'x' }, 'ACME', {}]],
              ['model.party.party.on_change_notify', [{ id, name: 'x' }, {}]],
            ] as const) {
              const response = await call(target, method, [...params]);
              expect(response.statusCode, `${method}: ${response.body}`).toBe(403);
              expect(response.json()).toMatchObject({ error: 'TRYTON_METHOD_NOT_ALLOWED' });
              expect(response.body).not.toContain('Acme Corp');
            }
            const warnings = warningsIn(logged);
            for (const pattern of named)
              expect(
                warnings.find((warning) => warning.includes(`"${pattern}"`)),
                pattern,
              ).toContain('the gateway never forwards them');
          },
        );
      });

      it('refuses text compared with a relation, and searches on rec_name, unless TRYTON_MODELS lists the names they search', async () => {
        const probes: [string, (value: string) => unknown[], string][] = [
          [
            'identifiers',
            (value) => [['identifiers', 'ilike', value]],
            `${IDENTIFIER.slice(0, 9)}%`,
          ],
          [
            'contact_mechanisms',
            (value) => [['contact_mechanisms', 'like', value]],
            `%${EMAIL.slice(-18)}`,
          ],
          ['addresses', (value) => [['addresses', 'ilike', value]], `%${STREET.slice(3)}%`],
          // A many2one compared with text: the users' names and logins.
          ['create_uid', (value) => [['create_uid', 'ilike', value]], 'adm%'],
          // party's own name search also searches its contact mechanisms.
          ['rec_name', (value) => [['rec_name', 'ilike', value]], `%${EMAIL.slice(-18)}`],
          [
            'identifiers, nested',
            (value) => ['OR', [['name', '=', 'nobody']], [[['identifiers', '=', value]]]],
            IDENTIFIER,
          ],
        ];
        const straight = (domain: unknown[]) =>
          client.call<number>('model.party.party.search_count', [domain, {}]);
        for (const [name, domain, match] of probes) {
          // Straight to trytond, each is an oracle on records of a model nobody exposed.
          expect(await straight(domain(match)), name).toBeGreaterThan(0);
          expect(await straight(domain('zz-no-match')), name).toBe(0);
        }
        await gateway({ TRYTON_MODELS: 'party.party' }, async (target) => {
          for (const [name, domain, match] of probes) {
            const response = await call(target, 'model.party.party.search_count', [
              domain(match),
              {},
            ]);
            expect(response.statusCode, `${name}: ${response.body}`).toBe(403);
            expect(response.json()).toMatchObject({
              error: 'TRYTON_FIELD_NOT_ALLOWED',
              message: expect.stringContaining(name.split(',')[0]!),
            });
          }
          // Ids on a relation, and text on a field that is not one, stay allowed.
          for (const [domain, expected] of [
            [[['create_uid', '=', adminId]], trytond.parties.length],
            [[['identifiers', '=', null]], trytond.parties.length - 1],
            [[['name', 'ilike', 'Glob%']], 1],
          ] as const) {
            const response = await call(target, 'model.party.party.search_count', [domain, {}]);
            expect(response.statusCode, `${JSON.stringify(domain)}: ${response.body}`).toBe(200);
            expect(response.json()).toEqual({ result: expected });
          }
        });
        const byIdentifier = [[['identifiers', 'ilike', `${IDENTIFIER.slice(0, 9)}%`]], {}];
        // The relation in party's field list, the related model listed, but not naming rec_name:
        // its name search is its own code, forwarded only where an operator named it.
        await gateway(
          { TRYTON_MODELS: 'party.party:name|identifiers,party.identifier' },
          async (target) => {
            const response = await call(target, 'model.party.party.search_count', byIdentifier);
            expect(response.statusCode, response.body).toBe(403);
            expect(response.json()).toMatchObject({ error: 'TRYTON_FIELD_NOT_ALLOWED' });
          },
        );
        // Listed naming rec_name, the related model could be searched by name directly anyway.
        await gateway(
          { TRYTON_MODELS: 'party.party,party.identifier:code|rec_name' },
          async (target) => {
            const response = await call(target, 'model.party.party.search_count', byIdentifier);
            expect(response.statusCode, response.body).toBe(200);
            expect(response.json()).toEqual({ result: 1 });
          },
        );
      });

      it('naming a user model is possible, with a warning at boot, and its field list still holds', async () => {
        await gateway({ TRYTON_MODELS: 'res.user:name|login' }, async (target, logged) => {
          expect(logged.join('')).toContain('exposes res.user');
          const names = await call(target, 'model.res.user.read', [
            [adminId],
            ['name', 'login'],
            {},
          ]);
          expect(names.statusCode).toBe(200);
          const secret = await call(target, 'model.res.user.read', [
            [adminId],
            ['password_reset'],
            {},
          ]);
          expect(secret.statusCode).toBe(403);
          expect(secret.body).not.toContain(RESET);
        });
      });

      it('searches are bounded: no limit gets the maximum, a larger one is a 400', async () => {
        await gateway(
          { TRYTON_MODELS: 'party.party', TRYTON_MAX_SEARCH_LIMIT: '2' },
          async (target) => {
            const capped = await call(target, 'model.party.party.search', [[], {}]);
            expect(capped.statusCode, capped.body).toBe(200);
            expect(capped.json<{ result: number[] }>().result).toHaveLength(2);
            const tooMany = await call(target, 'model.party.party.search', [[], 0, 3, null, {}]);
            expect(tooMany.statusCode).toBe(400);
            expect(tooMany.json()).toMatchObject({ error: 'TRYTON_LIMIT_TOO_LARGE' });
            const ids = trytond.parties.map((party) => party.id);
            const read = await call(target, 'model.party.party.read', [ids, ['name'], {}]);
            expect(read.statusCode).toBe(400);
          },
        );
      });

      it('every forwarded call is logged with the calling key, the model and the method', async () => {
        await gateway({ TRYTON_MODELS: 'party.party' }, async (target, logged) => {
          await call(target, 'model.party.party.search_count', [[], {}]);
          const line = logged
            .map((text) => JSON.parse(text) as Record<string, unknown>)
            .find((entry) => entry.msg === 'tryton call');
          expect(line).toMatchObject({
            caller: 'ops',
            tryton: { method: 'model.party.party.search_count', allowed: true },
          });
          expect(JSON.stringify(logged)).not.toContain(KEYS.operator.key);
        });
      });
    });
  },
);
