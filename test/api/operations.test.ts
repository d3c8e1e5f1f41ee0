import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { createDb } from '../../src/db/create-db.js';
import { buildApp, type App } from '../../src/http/app.js';
import { bearer, KEYS, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

describe('operations: OpenAPI, metrics, health, a real socket', () => {
  let h: SyncHarness;
  let app: App;
  beforeAll(async () => {
    h = await createSyncHarness({ sandbox: { orders: 30, linesPerOrder: 2 } });
    app = await buildApp({
      config: testConfig(),
      logger: memoryLogger('warn').logger,
      db: h.db,
      queues: h.runtime.queues,
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await h.dispose();
  });

  it('/docs/json is a valid OpenAPI 3 document listing every route', async () => {
    expect((await app.inject({ url: '/docs/json' })).statusCode).toBe(401);
    const response = await app.inject({ url: '/docs/json', headers: bearer('reader') });
    expect(response.statusCode).toBe(200);
    const document = response.json<{
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    }>();
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toMatch(/^3\./);
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      [
        'GET /api/bcs',
        'GET /api/bcs/{odooId}',
        'GET /api/bcs/{odooId}/lines',
        'GET /api/models/dimagaz.bc.line/records',
        'GET /api/models/dimagaz.bc.line/records/{odooId}',
        'GET /api/models/dimagaz.bc.line/records/{odooId}/fields/{field}',
        'GET /api/models/dimagaz.bc.line/records/{odooId}/history',
        'GET /api/models/dimagaz.bc/records',
        'GET /api/models/dimagaz.bc/records/{odooId}',
        'GET /api/models/dimagaz.bc/records/{odooId}/fields/{field}',
        'GET /api/models/dimagaz.bc/records/{odooId}/history',
        'POST /api/models/dimagaz.bc/records/{odooId}/resync',
        'GET /api/bcs/{odooId}/history',
        'POST /api/bcs/{odooId}/resync',
        'GET /api/sync/state',
        'GET /api/sync/runs',
        'GET /api/sync/check',
        'GET /api/sync/failures',
        'GET /api/sync/webhooks',
        'POST /api/sync/run',
        'POST /api/sync/reconcile',
        'POST /api/sync/pause',
        'POST /api/sync/resume',
        'POST /api/sync/full-resync',
        'POST /api/sync/verify',
        'GET /api/changes',
        'GET /api/changes/head',
        'GET /api/changes/stream',
        'GET /api/changes/subscriptions',
        'POST /api/changes/subscriptions',
        'GET /api/changes/subscriptions/{name}',
        'DELETE /api/changes/subscriptions/{name}',
        'POST /api/changes/subscriptions/{name}/replay',
        'POST /hooks/odoo/{token}',
        'POST /api/tryton/rpc',
        'GET /api/tryton/ping',
        'GET /health/live',
        'GET /health/ready',
        'GET /metrics',
      ].sort(),
    );
    const basic = `Basic ${Buffer.from(`me:${KEYS.reader.key}`).toString('base64')}`;
    expect(
      (await app.inject({ url: '/docs', headers: { authorization: basic } })).statusCode,
    ).toBeLessThan(400);
  });

  it('API_DOCS decides who reads the docs: public, protected (a key), off', async () => {
    for (const [access, anonymous, withKey] of [
      ['public', 200, 200],
      ['protected', 401, 200],
      ['off', 404, 404],
    ] as const) {
      const docsApp = await buildApp({
        config: testConfig({ API_DOCS: access }),
        logger: memoryLogger('warn').logger,
        db: h.db,
      });
      try {
        expect((await docsApp.inject({ url: '/docs/json' })).statusCode, access).toBe(anonymous);
        expect(
          (await docsApp.inject({ url: '/docs/json', headers: bearer('reader') })).statusCode,
          access,
        ).toBe(withKey);
      } finally {
        await docsApp.close();
      }
    }
  });

  it('/metrics parses as Prometheus text and moves after a sync run', async () => {
    const scrape = async () => {
      const response = await app.inject({ url: '/metrics', headers: bearer('operator') });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      return parsePrometheusTextFormat(response.body);
    };
    const value = (
      families: ReturnType<typeof parsePrometheusTextFormat>,
      name: string,
      labels: Record<string, string>,
    ) =>
      Number(
        families
          .find((f) => f.name === name)
          ?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
          ?.value ?? 0,
      );
    await app.inject({ url: '/api/bcs', headers: bearer('reader') });
    const before = await scrape();
    expect(before.map((f) => f.name)).toEqual(
      expect.arrayContaining([
        'erp_bridge_http_request_duration_seconds',
        'erp_bridge_queue_jobs',
        'erp_bridge_process_cpu_seconds_total',
      ]),
    );
    expect(value(before, 'erp_bridge_sync_runs', { kind: 'sync', status: 'succeeded' })).toBe(0);

    await h.run('sync-run', { trigger: 'test' });
    // The run log is read once for the scrapes of a few seconds (src/lib/scrape-reading.ts).
    const after = await vi.waitFor(
      async () => {
        const scraped = await scrape();
        expect(value(scraped, 'erp_bridge_sync_runs', { kind: 'sync', status: 'succeeded' })).toBe(
          1,
        );
        return scraped;
      },
      { timeout: 15_000, interval: 200 },
    );
    expect(value(after, 'erp_bridge_sync_records', { action: 'created' })).toBe(30);
    expect(value(after, 'erp_bridge_queue_jobs', { queue: 'sync-page', state: 'completed' })).toBe(
      1,
    );
    expect(value(after, 'erp_bridge_queue_jobs', { queue: 'sync', state: 'completed' })).toBe(1);
    expect(value(after, 'erp_bridge_sync_last_run_duration_seconds', {})).toBeGreaterThan(0);
  });

  it('/health/ready answers 503 naming PostgreSQL when the database is unreachable, 200 when all is up', async () => {
    const up = await app.inject({ url: '/health/ready' });
    expect(up.statusCode).toBe(200);
    expect(up.json()).toMatchObject({ status: 'ready', parts: { postgres: { status: 'up' } } });

    const deadDb = await createDb({ url: 'postgres://nobody@127.0.0.1:1/none', poolMax: 1 });
    const broken = await buildApp({
      config: testConfig(),
      logger: memoryLogger('fatal').logger,
      db: deadDb,
    });
    try {
      const down = await broken.inject({ url: '/health/ready' });
      expect(down.statusCode).toBe(503);
      // Anonymous callers learn what is down, not why (the why names hosts and drivers).
      expect(down.json()).toEqual({
        status: 'unready',
        parts: { postgres: { status: 'down', optional: false } },
      });
      const detailed = await broken.inject({ url: '/health/ready', headers: bearer('operator') });
      expect(detailed.json()).toMatchObject({
        parts: { postgres: { status: 'down', error: expect.any(String) } },
      });
      expect(
        (await broken.inject({ url: '/health/ready', headers: bearer('reader') })).json(),
      ).toEqual(down.json());
      expect((await broken.inject({ url: '/health/live' })).statusCode).toBe(200);
    } finally {
      await broken.close();
      await deadDb.close();
    }
  });

  it('/health/live answers 503 with the reason once the pool lost a query with its connection', async () => {
    const reason =
      'a database query has been pending for 61 s, 60 s after its pool lost a connection (select 1)';
    const lost = await buildApp({
      config: testConfig(),
      logger: memoryLogger('fatal').logger,
      db: { ...h.db, stuckQuery: () => reason },
    });
    try {
      const live = await lost.inject({ url: '/health/live' });
      expect(live.statusCode).toBe(503);
      expect(live.json()).toEqual({ status: 'dead', reason });
    } finally {
      await lost.close();
    }
  });

  it('/health/ready probes at most once a second, however many callers ask', async () => {
    let probes = 0;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const probed = await buildApp({
      config: testConfig(),
      logger: memoryLogger('warn').logger,
      db: h.db,
      readinessChecks: [
        {
          name: 'counted',
          check: async () => {
            probes += 1;
            await held;
          },
        },
      ],
    });
    try {
      const answers = Array.from({ length: 50 }, () => probed.inject({ url: '/health/ready' }));
      release();
      const statuses = (await Promise.all(answers)).map((answer) => answer.statusCode);
      expect(statuses.every((status) => status === 200)).toBe(true);
      expect((await probed.inject({ url: '/health/ready' })).statusCode).toBe(200);
      expect(probes).toBe(1);
    } finally {
      await probed.close();
    }
  });

  it('serves over a real socket', async () => {
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const response = await fetch(`${address}/api/bcs?limit=5`, { headers: bearer('reader') });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const body = (await response.json()) as { items: unknown[]; nextCursor: string | null };
    expect(body.items).toHaveLength(5);
    expect(body.nextCursor).not.toBeNull();
  });
});
