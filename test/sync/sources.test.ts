/**
 * Two Odoo databases copied by one runtime (docs/sources.md): the default source's into `public`,
 * acme's into schema `acme`, each read from its own database with its own client. Each copy is
 * its Odoo's, an edit reaches its own source's copy only, and one source's refused credentials
 * fail its runs alone.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rowsOf } from '../../src/db/sql-rows.js';
import { BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import { acmeBcs, WITH_ACME } from '../helpers/acme-source.js';
import { diffCopyWithSandbox } from '../helpers/copy-diff.js';
import { feedCaughtUp } from '../helpers/feed-visible.js';
import { generateApiKey } from '../../src/config/api-keys.js';
import { bearer, createTestApp, KEYS, testConfig } from '../helpers/test-app.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('two sources in one runtime', () => {
  let h: SyncHarness;
  const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-sources-'));
  /** The file that declares acme, its password by reference. */
  const sourcesFile = () => {
    const path = join(dir, 'sources.yaml');
    writeFileSync(
      path,
      `sources:\n  - name: acme\n    odoo: { url: "${h.sandbox.url}", database: acme_db, username: ${h.sandbox.username}, password: { env: ACME_ODOO_PASSWORD } }\n    webhookTokens: { env: ACME_WEBHOOK_TOKENS }\n`,
    );
    return path;
  };
  /**
   * The API over the harness's families, knowing acme from the file as a deployment's does; `keys`
   * are `API_KEYS` entries beside the tests' own, `env` more keys.
   */
  const apiWith = (
    options: { keys?: readonly string[]; env?: Record<string, string>; queues?: boolean } = {},
  ) =>
    createTestApp(h.db, {
      config: testConfig({
        API_KEYS: [...Object.values(KEYS).map((k) => k.entry), ...(options.keys ?? [])].join(','),
        SYNC_SOURCES_FILE: sourcesFile(),
        ACME_ODOO_PASSWORD: h.sandbox.password,
        ACME_WEBHOOK_TOKENS: sha256(randomBytes(32).toString('base64url')),
        ...options.env,
      }),
      families: h.runtime.sync.families,
      ...(options.queues ? { queues: h.runtime.queues } : {}),
    });
  const main = () => h.sandbox.control;
  const other = () => h.sandbox.db('acme_db').control;

  beforeAll(async () => {
    h = await createSyncHarness({
      sandbox: {
        databases: {
          main_db: { orders: 30, linesPerOrder: 2, seed: 3 },
          acme_db: { orders: 20, linesPerOrder: 3, seed: 4 },
        },
      },
      ...WITH_ACME,
    });
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await h?.dispose();
  });

  const rootsIn = async (table: string) =>
    rowsOf<{ n: number }>(
      await h.db.db.execute(sql.raw(`select count(*)::int as n from ${table}`)),
    )[0]!.n;

  it('copies each source from its own database into its own schema', async () => {
    main().resetCalls();
    other().resetCalls();
    expect(await h.run('sync-run', { trigger: 'test' })).toMatchObject({ status: 'succeeded' });
    // The default source's run called its database only.
    expect(other().countCalls({ model: BC_MODEL })).toBe(0);
    expect(await h.run('sync-run', { family: acmeBcs.name, trigger: 'test' })).toMatchObject({
      status: 'succeeded',
    });
    expect(other().countCalls({ model: BC_MODEL })).toBeGreaterThan(0);
    expect(await diffCopyWithSandbox(h.db.db, main(), bcsFamily)).toEqual([]);
    expect(await diffCopyWithSandbox(h.db.db, other(), acmeBcs)).toEqual([]);
    expect([
      await rootsIn('public.scrap_dimagaz_bc'),
      await rootsIn('acme.scrap_dimagaz_bc'),
    ]).toEqual([30, 20]);
  });

  it("the read API serves each source's copy under its own path, and OpenAPI lists both", async () => {
    const app = await createTestApp(h.db, { families: h.runtime.sync.families });
    try {
      const ids = async (url: string) => {
        const response = await app.inject({ url, headers: bearer('reader') });
        expect(response.statusCode, response.body).toBe(200);
        return response.json<{ items: { odooId: number }[] }>().items.map((item) => item.odooId);
      };
      expect(await ids(`/api/models/${BC_MODEL}/records?limit=100`)).toEqual(main().ids(BC_MODEL));
      expect(await ids(`/api/sources/acme/models/${BC_MODEL}/records?limit=100`)).toEqual(
        other().ids(BC_MODEL),
      );
      const id = other().ids(BC_MODEL)[2]!;
      const detail = await app.inject({
        url: `/api/sources/acme/models/${BC_MODEL}/records/${id}`,
        headers: bearer('reader'),
      });
      expect(detail.json()).toMatchObject({
        odooId: id,
        name: other()
          .records(BC_MODEL)
          .find((record) => record.id === id)!.name,
      });
      const unknown = await app.inject({
        url: `/api/sources/globex/models/${BC_MODEL}/records`,
        headers: bearer('reader'),
      });
      expect(unknown.statusCode).toBe(404);
      const openapi = (await app.inject({ url: '/docs/json', headers: bearer('admin') })).json<{
        paths: Record<string, unknown>;
      }>();
      expect(Object.keys(openapi.paths)).toEqual(
        expect.arrayContaining([
          `/api/models/${BC_MODEL}/records`,
          `/api/sources/acme/models/${BC_MODEL}/records`,
          `/api/sources/acme/models/${BC_MODEL}/records/{odooId}`,
        ]),
      );
    } finally {
      await app.close();
    }
  });

  it('a key limited to acme reads its records, history and changes, and nothing of the default source', async () => {
    const acmeReader = generateApiKey('acme-portal', 'reader');
    const app = await apiWith({ keys: [`${acmeReader.entry}:acme`] });
    const get = (url: string) =>
      app.inject({ url, headers: { authorization: `Bearer ${acmeReader.key}` } });
    try {
      const id = other().ids(BC_MODEL)[0]!;
      expect((await get(`/api/sources/acme/models/${BC_MODEL}/records`)).statusCode).toBe(200);
      expect(
        (await get(`/api/sources/acme/models/${BC_MODEL}/records/${id}/history`)).statusCode,
      ).toBe(200);
      for (const url of [
        `/api/models/${BC_MODEL}/records`,
        `/api/models/${BC_MODEL}/records/${main().ids(BC_MODEL)[0]!}/history`,
        '/api/bcs',
        '/api/changes?source=default',
        '/api/changes/stream?source=default',
      ]) {
        const refused = await get(url);
        expect({ url, status: refused.statusCode }).toEqual({ url, status: 403 });
        expect(refused.json()).toMatchObject({ error: 'FORBIDDEN' });
      }
      // Unfiltered, its changes are acme's alone (once the feed gives them all).
      await feedCaughtUp(h.db.db);
      const changes = (await get('/api/changes?limit=1000')).json<{
        changes: { source: string }[];
      }>();
      expect(changes.changes.length).toBeGreaterThan(0);
      expect(new Set(changes.changes.map((change) => change.source))).toEqual(new Set(['acme']));
      // An unlimited key reads the default source's unasked, both when it names them.
      const sourcesOf = async (query: string) =>
        new Set(
          (await app.inject({ url: `/api/changes?limit=1000${query}`, headers: bearer('reader') }))
            .json<{ changes: { source: string }[] }>()
            .changes.map((change) => change.source),
        );
      expect(await sourcesOf('')).toEqual(new Set(['default']));
      expect(await sourcesOf('&source=*')).toEqual(new Set(['default', 'acme']));
      expect(await sourcesOf('&source=default,acme')).toEqual(new Set(['default', 'acme']));
    } finally {
      await app.close();
    }
  });

  it("an admin key limited to acme sees, replays and deletes acme's subscriptions alone", async () => {
    const acmeAdmin = generateApiKey('acme-admin', 'admin');
    const app = await apiWith({ keys: [`${acmeAdmin.entry}:acme`] });
    const call = (method: 'GET' | 'POST' | 'DELETE', url: string, key: string, payload?: object) =>
      app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, payload });
    const names = async (key: string) =>
      (await call('GET', '/api/changes/subscriptions', key))
        .json<{ items: { name: string; sources: string[]; families: string[] }[] }>()
        .items.map((item) => [item.name, item.sources, item.families]);
    try {
      const url = 'http://127.0.0.1:9/hooks';
      expect(
        (await call('POST', '/api/changes/subscriptions', KEYS.admin.key, { name: 'all', url }))
          .statusCode,
      ).toBe(201);
      expect(
        (
          await call('POST', '/api/changes/subscriptions', KEYS.admin.key, {
            name: 'bcs',
            url,
            families: ['bcs'],
          })
        ).statusCode,
      ).toBe(201);
      expect(
        (
          await call('POST', '/api/changes/subscriptions', acmeAdmin.key, {
            name: 'acme-portal',
            url,
          })
        ).statusCode,
      ).toBe(201);
      expect(await names(KEYS.admin.key)).toEqual([
        ['acme-portal', ['acme'], []],
        ['all', ['default'], []],
        ['bcs', ['default'], ['bcs']],
      ]);
      expect(await names(acmeAdmin.key)).toEqual([['acme-portal', ['acme'], []]]);
      for (const [method, path] of [
        ['GET', '/api/changes/subscriptions/all'],
        ['POST', '/api/changes/subscriptions/bcs/replay'],
        ['DELETE', '/api/changes/subscriptions/all'],
      ] as const)
        expect(
          (await call(method, path, acmeAdmin.key, method === 'POST' ? { from: 'now' } : undefined))
            .statusCode,
        ).toBe(404);
      expect(
        (await call('DELETE', '/api/changes/subscriptions/acme-portal', acmeAdmin.key)).statusCode,
      ).toBe(204);
      for (const name of ['all', 'bcs'])
        expect(
          (await call('DELETE', `/api/changes/subscriptions/${name}`, KEYS.admin.key)).statusCode,
        ).toBe(204);
    } finally {
      await app.close();
    }
  });

  it("an edit reaches its own source's copy, not the other's of the same id", async () => {
    const id = other().ids(BC_MODEL)[0]!;
    other().write(BC_MODEL, id, { origin: 'edited in acme' });
    expect(await h.run('sync-run', { trigger: 'test' })).toMatchObject({
      counts: expect.objectContaining({ updated: 0 }),
    });
    expect(await h.run('sync-run', { family: acmeBcs.name, trigger: 'test' })).toMatchObject({
      counts: expect.objectContaining({ updated: 1 }),
    });
    const origin = async (table: string) =>
      rowsOf<{ origin: string | null }>(
        await h.db.db.execute(sql.raw(`select origin from ${table} where odoo_id = ${id}`)),
      )[0]?.origin;
    expect(await origin('acme.scrap_dimagaz_bc')).toBe('edited in acme');
    expect(await origin('public.scrap_dimagaz_bc')).not.toBe('edited in acme');
  });

  it("Odoo's webhook reaches the copy of the source whose token it carries", async () => {
    const [mainToken, acmeToken] = [0, 1].map(() => randomBytes(32).toString('base64url'));
    const app = await apiWith({
      env: {
        ODOO_WEBHOOK_TOKENS: sha256(mainToken!),
        ODOO_WEBHOOK_DEBOUNCE_MS: '0',
        ACME_WEBHOOK_TOKENS: sha256(acmeToken!),
      },
      queues: true,
    });
    try {
      // The same id in both databases, edited in each.
      const id = other().ids(BC_MODEL)[5]!;
      expect(main().ids(BC_MODEL)).toContain(id);
      main().write(BC_MODEL, id, { origin: 'hooked in the default source' });
      other().write(BC_MODEL, id, { origin: 'hooked in acme' });
      for (const token of [mainToken, acmeToken]) {
        const posted = await app.inject({
          method: 'POST',
          url: `/hooks/odoo/${token}`,
          payload: { _model: BC_MODEL, _id: id, _action: 'write' },
        });
        expect(posted.statusCode, posted.body).toBe(202);
      }
      const origin = async (table: string) =>
        rowsOf<{ origin: string | null }>(
          await h.db.db.execute(sql.raw(`select origin from ${table} where odoo_id = ${id}`)),
        )[0]?.origin;
      await vi.waitFor(
        async () => {
          expect(await origin('public.scrap_dimagaz_bc')).toBe('hooked in the default source');
          expect(await origin('acme.scrap_dimagaz_bc')).toBe('hooked in acme');
        },
        { timeout: 20_000, interval: 50 },
      );
      // A model acme does not copy, under acme's token: refused, naming acme's models.
      const refused = await app.inject({
        method: 'POST',
        url: `/hooks/odoo/${acmeToken}`,
        payload: { _model: 'res.partner', _id: 1, _action: 'write' },
      });
      expect(refused.statusCode).toBe(422);
      expect(refused.json()).toMatchObject({
        message:
          'webhooks are taken for the models copied from acme (dimagaz.bc, dimagaz.bc.line), not res.partner',
      });
    } finally {
      await app.close();
    }
  });

  it('resyncs one record of a source through its own route, for an operator key of the source', async () => {
    const acmeOps = generateApiKey('acme-resync', 'operator');
    const app = await apiWith({ keys: [`${acmeOps.entry}:acme`], queues: true });
    try {
      const id = other().ids(BC_MODEL)[2]!;
      other().write(BC_MODEL, id, { origin: 'resynced in acme' });
      const url = `/api/sources/acme/models/${BC_MODEL}/records/${id}/resync`;
      const asked = await app.inject({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${acmeOps.key}` },
      });
      expect(asked.statusCode, asked.body).toBe(202);
      const job = await h.runtime.queues
        .of('acme')
        .sync.getJob(asked.json<{ jobId: string }>().jobId);
      expect(job?.data).toMatchObject({ family: 'acme.bcs', odooId: id });
      await h.wait(job!);
      const origin = rowsOf<{ origin: string | null }>(
        await h.db.db.execute(
          sql.raw(`select origin from acme.scrap_dimagaz_bc where odoo_id = ${id}`),
        ),
      )[0]?.origin;
      expect(origin).toBe('resynced in acme');
      // A reader may not; nor may an operator of another source, nor anyone a child's record.
      const refused = [
        await app.inject({ method: 'POST', url, headers: bearer('reader') }),
        await app.inject({
          method: 'POST',
          url: `/api/models/${BC_MODEL}/records/${id}/resync`,
          headers: { authorization: `Bearer ${acmeOps.key}` },
        }),
        await app.inject({
          method: 'POST',
          url: `/api/sources/acme/models/dimagaz.bc.line/records/1/resync`,
          headers: { authorization: `Bearer ${acmeOps.key}` },
        }),
      ].map((response) => response.statusCode);
      expect(refused).toEqual([403, 403, 404]);
    } finally {
      await app.close();
    }
  });

  it("one source's refused credentials fail its runs alone", async () => {
    other().setPassword('rotated-in-acme');
    await expect(h.run('sync-run', { family: acmeBcs.name, trigger: 'test' })).rejects.toThrow(
      /ODOO_AUTH/,
    );
    const id = main().ids(BC_MODEL)[1]!;
    main().write(BC_MODEL, id, { origin: 'edited in the default source' });
    expect(await h.run('sync-run', { trigger: 'test' })).toMatchObject({
      status: 'succeeded',
      counts: expect.objectContaining({ updated: 1 }),
    });
    expect(await diffCopyWithSandbox(h.db.db, main(), bcsFamily)).toEqual([]);
  });
});
