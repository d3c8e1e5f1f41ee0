/**
 * The deployment's own surfaces follow a key's sources (docs/sources.md, "Keys limited to
 * sources"): the API's and the worker's `/metrics`, the API document, why a part of
 * `/health/ready` is down and the Tryton gateway are every source's at once, for keys of every
 * source; a key limited to sources is refused them. Nor does it learn another source's names,
 * families or models from what it is refused: another source's routes are a 403 whether that
 * source exists or not, and the subscriptions it makes are named in its sources' own names, so a
 * 409 never tells it of another's. Probed over HTTP on 127.0.0.1, as an attacker would.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/config/api-keys.js';
import { bcsFamily } from '../../src/families/bcs/family.js';
import { mapRoot } from '../../src/families/map-record.js';
import { createFamilies } from '../../src/families/registry.js';
import type { RecordFamily } from '../../src/families/family.js';
import { placeCodeTables } from '../../src/families/source-tables.js';
import { writeRoots } from '../../src/sync/write-records.js';
import { buildApp, type App } from '../../src/http/app.js';
import { buildWorkerHttp } from '../../workers/worker-http.js';
import { acmeBcs } from '../helpers/acme-source.js';
import { feedCaughtUp } from '../helpers/feed-visible.js';
import { fakeBc } from '../helpers/seed-bcs.js';
import { KEYS, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const acme = {
  reader: generateApiKey('acme-portal', 'reader'),
  operator: generateApiKey('acme-ops', 'operator'),
  admin: generateApiKey('acme-admin', 'admin'),
};
const API_KEYS = [
  ...Object.values(KEYS).map((k) => k.entry),
  ...Object.values(acme).map((k) => `${k.entry}:acme`),
].join(',');

describe("the deployment's own surfaces, to a key limited to sources", () => {
  let db: TestDb;
  let app: App;
  let worker: FastifyInstance;
  let base: string;
  let workerBase: string;
  const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-surfaces-'));
  const config = (env: Record<string, string> = {}) => {
    const file = join(dir, 'sources.yaml');
    writeFileSync(
      file,
      'sources:\n  - { name: acme, odoo: { url: "http://127.0.0.1:9/", database: acme, username: sync, password: { env: ACME_ODOO_PASSWORD } } }\n',
    );
    return testConfig({ SYNC_SOURCES_FILE: file, API_KEYS, ...env });
  };

  beforeAll(async () => {
    db = await createTestDb();
    await placeCodeTables(db.db, 'acme', [bcsFamily]);
    app = await buildApp({
      config: config(),
      logger: memoryLogger('warn').logger,
      db,
      families: createFamilies([bcsFamily, acmeBcs]),
      readinessChecks: [
        {
          name: 'odoo',
          optional: true,
          check: () =>
            Promise.reject(new Error('odoo.internal.example:8069 refused the connection')),
        },
      ],
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    const registry = new Registry();
    worker = await buildWorkerHttp({
      logger: memoryLogger('warn').logger,
      checks: [],
      registry,
      isShuttingDown: () => false,
      deadReason: () => undefined,
      metrics: { keys: config().apiKeys },
    });
    workerBase = await worker.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await worker?.close();
    await app?.close();
    await db?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  const basic = (key: string) => ({
    authorization: `Basic ${Buffer.from(`anyone:${key}`).toString('base64')}`,
  });

  it('refuses it the metrics, the API document and the Tryton gateway, which keys of every source get', async () => {
    const surfaces: [string, string, Record<string, string>][] = [
      ['GET', `${base}/metrics`, bearer(acme.admin.key)],
      ['GET', `${workerBase}/metrics`, bearer(acme.admin.key)],
      ['GET', `${base}/docs/json`, bearer(acme.admin.key)],
      ['GET', `${base}/docs/json`, basic(acme.reader.key)],
      ['GET', `${base}/docs`, basic(acme.reader.key)],
      ['GET', `${base}/api/tryton/ping`, bearer(acme.operator.key)],
      ['POST', `${base}/api/tryton/rpc`, bearer(acme.admin.key)],
    ];
    for (const [method, url, headers] of surfaces) {
      const response = await fetch(url, {
        method,
        headers: { ...headers, 'content-type': 'application/json' },
        ...(method === 'POST'
          ? { body: JSON.stringify({ method: 'common.server.version', params: [] }) }
          : {}),
      });
      expect([url, response.status]).toEqual([url, 403]);
      expect(await response.json()).toMatchObject({
        error: 'FORBIDDEN',
        message: expect.stringMatching(/reads the sources acme only/) as unknown,
      });
    }
    // Keys of every source read them (the gateway answers 503: no Tryton here).
    const unlimited: [string, Record<string, string>, number][] = [
      [`${base}/metrics`, bearer(KEYS.operator.key), 200],
      [`${workerBase}/metrics`, bearer(KEYS.operator.key), 200],
      [`${base}/docs/json`, bearer(KEYS.reader.key), 200],
      [`${base}/api/tryton/ping`, bearer(KEYS.operator.key), 503],
    ];
    for (const [url, headers, status] of unlimited)
      expect([url, (await fetch(url, { headers })).status]).toEqual([url, status]);
  });

  it('warns at boot when API_DOCS=public serves the document to every key, limited ones too', async () => {
    const { lines, logger } = memoryLogger('warn');
    const open = await buildApp({
      config: config({ API_DOCS: 'public' }),
      logger,
      db,
      families: createFamilies([bcsFamily, acmeBcs]),
    });
    await open.close();
    expect(lines.join('')).toContain('API_DOCS=public serves the API document');
  });

  it('tells it why a part is down no more than an anonymous caller', async () => {
    const ready = async (headers: Record<string, string>) =>
      (await (await fetch(`${base}/health/ready`, { headers })).json()) as {
        parts: Record<string, { status: string; error?: string }>;
      };
    for (const key of [acme.operator.key, acme.admin.key])
      expect((await ready(bearer(key))).parts.odoo).toEqual({ status: 'down', optional: true });
    expect((await ready(bearer(KEYS.operator.key))).parts.odoo).toEqual({
      status: 'down',
      optional: true,
      error: 'odoo.internal.example:8069 refused the connection',
    });
  });

  it("answers another source's routes alike whether that source, or that model, exists or not", async () => {
    for (const path of [
      '/api/models/dimagaz.bc/records',
      '/api/models/res.partner/records',
      '/api/models/dimagaz.bc/records/1/fields/notes',
      '/api/sources/globex/models/dimagaz.bc/records',
      '/api/sources/default/models/dimagaz.bc/records',
    ]) {
      const response = await fetch(`${base}${path}`, { headers: bearer(acme.reader.key) });
      expect([path, response.status]).toEqual([path, 403]);
    }
    // Its own source's unknown model, and anyone's unknown route, are unknown routes.
    for (const [path, key] of [
      ['/api/sources/acme/models/res.partner/records', acme.reader.key],
      ['/api/sources/globex/models/dimagaz.bc/records', KEYS.reader.key],
      ['/api/models/res.partner/records', KEYS.reader.key],
    ] as const) {
      const response = await fetch(`${base}${path}`, { headers: bearer(key) });
      expect([path, response.status]).toEqual([path, 404]);
      expect(await response.json()).toMatchObject({ error: 'NOT_FOUND' });
    }
  });

  it("names its subscriptions in its own sources' names: no 409 speaks of another's", async () => {
    const subscribe = (key: string, name: string) =>
      fetch(`${base}/api/changes/subscriptions`, {
        method: 'POST',
        headers: { ...bearer(key), 'content-type': 'application/json' },
        body: JSON.stringify({ name, url: 'https://receiver.example.com/hooks' }),
      });
    expect((await subscribe(KEYS.admin.key, 'portal')).status).toBe(201);
    expect((await subscribe(KEYS.admin.key, 'globex-portal')).status).toBe(201);
    for (const name of ['portal', 'globex-portal', 'other', 'default-portal']) {
      const refused = await subscribe(acme.admin.key, name);
      expect([name, refused.status]).toEqual([name, 400]);
      expect(await refused.json()).toMatchObject({
        error: 'BAD_REQUEST',
        message: expect.stringMatching(/^body\.name: .*acme-/) as unknown,
      });
    }
    expect((await subscribe(acme.admin.key, 'acme-portal')).status).toBe(201);
    expect((await subscribe(acme.admin.key, 'acme-portal')).status).toBe(409);
  });

  it('gives a limited reader ids that count what happened elsewhere: accepted, as docs/sources.md says', async () => {
    const write = (family: RecordFamily, id: number) =>
      writeRoots(
        db.db,
        family,
        [mapRoot(family, { root: fakeBc(id, { line_ids: [] }), children: [[]] })],
        {
          runId: null,
          lease: null,
        },
      );
    const { position: start } = (await (
      await fetch(`${base}/api/changes/head`, { headers: bearer(acme.reader.key) })
    ).json()) as { position: string };
    await write(acmeBcs, 501);
    for (const id of [601, 602, 603]) await write(bcsFamily, id);
    await write(acmeBcs, 502);
    await feedCaughtUp(db.db);
    const page = (await (
      await fetch(`${base}/api/changes?after=${start}`, { headers: bearer(acme.reader.key) })
    ).json()) as { changes: { id: string; source: string; odooId: number }[] };
    expect(page.changes.map((change) => [change.source, change.odooId])).toEqual([
      ['acme', 501],
      ['acme', 502],
    ]);
    // Its two changes' ids are two audit ids apart by the default source's three changes.
    const [first, second] = page.changes.map((change) => Number(change.id.slice('chg_'.length)));
    expect(second! - first! - 1).toBe(3);
  });
});
