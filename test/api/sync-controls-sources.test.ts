/**
 * The API's sync controls reach every source's families (docs/sources.md): a family by its key
 * (`acme.bcs`) or by its name with `source=`, or every family of a source; the state says each
 * family's source and own name. A key limited to sources sees and controls theirs alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/config/api-keys.js';
import { syncFailure } from '../../src/db/schema/index.js';
import { BC_MODEL } from '../../src/families/bcs/family.js';
import type { App } from '../../src/http/app.js';
import { ACME_SANDBOX, acmeSourceEnv, WITH_ACME } from '../helpers/acme-source.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';
import { createTestApp, KEYS, testConfig } from '../helpers/test-app.js';

const acmeAdmin = generateApiKey('acme-ops', 'admin');

describe("the sync controls of another source's families", () => {
  let h: SyncHarness;
  let app: App;
  const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-sync-controls-'));
  beforeAll(async () => {
    h = await createSyncHarness({
      sandbox: ACME_SANDBOX,
      ...WITH_ACME,
    });
    app = await createTestApp(h.db, {
      config: testConfig({
        API_KEYS: [...Object.values(KEYS).map((k) => k.entry), `${acmeAdmin.entry}:acme`].join(','),
        ...acmeSourceEnv(dir, h.sandbox),
      }),
      families: h.runtime.sync.families,
      queues: h.runtime.queues,
    });
  });
  afterAll(async () => {
    await app?.close();
    await h?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (method: 'GET' | 'POST', url: string, key = KEYS.admin.key) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${key}` } });
  const familiesOf = async (url: string, key?: string) => {
    const response = await call(url.includes('/state') ? 'GET' : 'POST', url, key);
    expect(response.statusCode, response.body).toBe(200);
    return response.json<{ families: { family: string; source: string; name: string }[] }>()
      .families;
  };
  const jobsOf = async (url: string, key?: string) => {
    const response = await call('POST', url, key);
    expect(response.statusCode, response.body).toBe(202);
    return response.json<{ jobs: { family: string; jobId: string }[] }>().jobs;
  };

  it('lists every family with its source and its own name, the family keeping its key', async () => {
    expect(await familiesOf('/api/sync/state')).toEqual([
      expect.objectContaining({ family: 'bcs', source: 'default', name: 'bcs' }),
      expect.objectContaining({ family: 'acme.bcs', source: 'acme', name: 'bcs' }),
    ]);
    for (const query of ['family=acme.bcs', 'source=acme', 'source=acme&family=bcs'])
      expect((await familiesOf(`/api/sync/state?${query}`)).map((family) => family.family)).toEqual(
        ['acme.bcs'],
      );
    expect(
      (await familiesOf('/api/sync/state?source=default')).map((family) => family.family),
    ).toEqual(['bcs']);
  });

  it("runs another source's family from its own Odoo, and pauses a source's families alone", async () => {
    const acme = h.sandbox.db('acme_db').control;
    acme.resetCalls();
    const [job] = await jobsOf('/api/sync/run?family=acme.bcs');
    expect(job).toMatchObject({ family: 'acme.bcs' });
    const queued = await h.runtime.queues.ofFamily('sync', 'acme.bcs').getJob(job!.jobId);
    expect(await h.wait(queued!)).toMatchObject({
      status: 'succeeded',
      counts: expect.objectContaining({ created: acme.ids(BC_MODEL).length }),
    });
    expect(acme.countCalls({ model: BC_MODEL })).toBeGreaterThan(0);

    const paused = await familiesOf('/api/sync/pause?source=acme');
    expect(paused).toEqual([expect.objectContaining({ family: 'acme.bcs', paused: true })]);
    expect(await familiesOf('/api/sync/state')).toEqual([
      expect.objectContaining({ family: 'bcs', paused: false }),
      expect.objectContaining({ family: 'acme.bcs', paused: true }),
    ]);
    expect(await familiesOf('/api/sync/resume?source=acme&family=bcs')).toEqual([
      expect.objectContaining({ family: 'acme.bcs', paused: false }),
    ]);
    const runs = (await call('GET', '/api/sync/runs?family=acme.bcs')).json<{
      items: { family: string; source: string }[];
    }>().items;
    expect(runs).toEqual([expect.objectContaining({ family: 'acme.bcs', source: 'acme' })]);
  });

  it('queues a reconcile and a verify of a family named within its source', async () => {
    for (const path of ['reconcile', 'verify']) {
      const [job] = await jobsOf(`/api/sync/${path}?source=acme&family=bcs`);
      expect(job).toMatchObject({ family: 'acme.bcs' });
      const queued = await h.runtime.queues
        .ofFamily('sync-reconcile', 'acme.bcs')
        .getJob(job!.jobId);
      expect(await h.wait(queued!)).toMatchObject({ status: 'succeeded' });
    }
  });

  it('refuses a family or a source not copied here, and a key of another source than source=', async () => {
    for (const [url, status, error] of [
      ['/api/sync/state?source=globex', 404, 'UNKNOWN_SOURCE'],
      ['/api/sync/state?family=acme.partners', 404, 'UNKNOWN_FAMILY'],
      ['/api/sync/state?family=acme.bcs&source=default', 400, 'BAD_REQUEST'],
      ['/api/sync/state?family=Acme.bcs', 400, 'BAD_REQUEST'],
    ] as const) {
      const response = await call('GET', url);
      expect([url, response.statusCode, response.json()]).toEqual([
        url,
        status,
        expect.objectContaining({ error }),
      ]);
    }
  });

  it("gives a key limited to acme acme's families alone, and 403 on the default source's", async () => {
    const now = new Date();
    await h.db.db.insert(syncFailure).values(
      ['bcs', 'acme.bcs'].map((family) => ({
        family,
        odooId: 3,
        errorCode: 'SYNC_DATA',
        error: 'cannot be mapped',
        firstFailedAt: now,
        lastFailedAt: now,
        nextAttemptAt: now,
      })),
    );
    try {
      const key = acmeAdmin.key;
      const state = await call('GET', '/api/sync/state', key);
      expect(state.json()).toMatchObject({
        families: [{ family: 'acme.bcs', source: 'acme' }],
        odoo: null,
        odooCallPause: null,
      });
      const runs = (await call('GET', '/api/sync/runs', key)).json<{
        items: { family: string }[];
      }>().items;
      expect(runs.length).toBeGreaterThan(0);
      expect(new Set(runs.map((run) => run.family))).toEqual(new Set(['acme.bcs']));
      expect((await call('GET', '/api/sync/failures', key)).json()).toMatchObject({
        items: [{ family: 'acme.bcs', source: 'acme', odooId: 3 }],
        total: 1,
      });
      // Every source's, to a key that reads them all: paged across the families.
      const page = (await call('GET', '/api/sync/failures?limit=1')).json<{ nextAfter: string }>();
      expect(page).toMatchObject({ total: 2, nextAfter: 'acme.bcs/3' });
      expect(
        (await call('GET', `/api/sync/failures?after=${page.nextAfter}`)).json(),
      ).toMatchObject({ items: [{ family: 'bcs' }] });

      expect(await familiesOf('/api/sync/pause', key)).toEqual([
        expect.objectContaining({ family: 'acme.bcs', paused: true }),
      ]);
      expect(await familiesOf('/api/sync/resume', key)).toEqual([
        expect.objectContaining({ family: 'acme.bcs', paused: false }),
      ]);
      // Refused whether the family or the source is copied here or not: the key learns nothing.
      for (const [method, url] of [
        ['GET', '/api/sync/state?family=bcs'],
        ['GET', '/api/sync/state?source=default'],
        ['GET', '/api/sync/runs?family=globex.bcs'],
        ['GET', '/api/sync/failures?source=globex'],
        ['GET', '/api/sync/webhooks?family=bcs'],
        ['POST', '/api/sync/pause?family=bcs'],
        ['POST', '/api/sync/run?source=default&family=bcs'],
        ['POST', '/api/sync/full-resync?family=bcs'],
        ['POST', '/api/sync/reconcile?family=bcs'],
        ['POST', '/api/sync/verify?source=default'],
      ] as const) {
        const refused = await call(method, url, key);
        expect([url, refused.statusCode]).toEqual([url, 403]);
        expect(refused.json()).toMatchObject({
          error: 'FORBIDDEN',
          message: expect.stringMatching(/reads the sources acme only/) as unknown,
        });
      }
      expect((await familiesOf('/api/sync/state')).find((f) => f.family === 'bcs')).toMatchObject({
        paused: false,
      });
      // A family of its own source that is not copied: the 404 lists the key's families alone.
      const missing = await call('GET', '/api/sync/state?source=acme&family=partners', key);
      expect(missing.statusCode).toBe(404);
      expect(missing.json()).toEqual({
        error: 'UNKNOWN_FAMILY',
        message: 'family: "acme.partners" is not copied here (copied: acme.bcs)',
      });
    } finally {
      await h.db.db.delete(syncFailure);
    }
  });
});
