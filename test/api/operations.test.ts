import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { createDb } from '../../src/db/create-db.js';
import { buildApp, type App } from '../../src/http/app.js';
import { bearer, memoryLogger, testConfig } from '../helpers/test-app.js';
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
    const response = await app.inject({ url: '/docs/json' });
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
        'GET /api/bcs/{odooId}/history',
        'POST /api/bcs/{odooId}/resync',
        'GET /api/sync/state',
        'GET /api/sync/runs',
        'GET /api/sync/failures',
        'POST /api/sync/run',
        'POST /api/sync/reconcile',
        'POST /api/sync/pause',
        'POST /api/sync/resume',
        'POST /api/sync/full-resync',
        'POST /api/tryton/rpc',
        'GET /api/tryton/ping',
        'GET /health/live',
        'GET /health/ready',
        'GET /metrics',
      ].sort(),
    );
    expect((await app.inject({ url: '/docs' })).statusCode).toBeLessThan(400);
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
    const after = await scrape();
    expect(value(after, 'erp_bridge_sync_runs', { kind: 'sync', status: 'succeeded' })).toBe(1);
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
      expect(down.json()).toMatchObject({
        status: 'unready',
        parts: { postgres: { status: 'down', error: expect.any(String) } },
      });
      expect((await broken.inject({ url: '/health/live' })).statusCode).toBe(200);
    } finally {
      await broken.close();
      await deadDb.close();
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
