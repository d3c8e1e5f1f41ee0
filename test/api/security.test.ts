import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import type { App } from '../../src/http/app.js';
import { createQueues, type Queues } from '../../src/queues/queues.js';
import { redisQueues } from '../../src/stores/queue-store.js';
import { buildApp } from '../../src/http/app.js';
import { bearer, createTestApp, KEYS, memoryLogger, testConfig } from '../helpers/test-app.js';
import { redisAway } from '../helpers/redis-away.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { seedBcs } from '../helpers/seed-bcs.js';

type Method = 'GET' | 'POST';
/** Every authenticated route, with the lowest role that may call it. */
const ROUTES: { method: Method; url: string; role: 'reader' | 'operator' | 'admin' }[] = [
  { method: 'GET', url: '/api/bcs', role: 'reader' },
  { method: 'GET', url: '/api/bcs/1', role: 'reader' },
  { method: 'GET', url: '/api/bcs/1/lines', role: 'reader' },
  { method: 'GET', url: '/api/bcs/1/history', role: 'reader' },
  { method: 'GET', url: '/api/sync/state', role: 'reader' },
  { method: 'GET', url: '/api/sync/runs', role: 'reader' },
  { method: 'GET', url: '/api/sync/failures', role: 'reader' },
  { method: 'GET', url: '/api/sync/webhooks', role: 'reader' },
  { method: 'POST', url: '/api/bcs/1/resync', role: 'operator' },
  { method: 'POST', url: '/api/sync/run', role: 'operator' },
  { method: 'POST', url: '/api/sync/reconcile', role: 'operator' },
  { method: 'POST', url: '/api/tryton/rpc', role: 'operator' },
  { method: 'GET', url: '/api/tryton/ping', role: 'operator' },
  { method: 'GET', url: '/metrics', role: 'operator' },
  { method: 'POST', url: '/api/sync/pause', role: 'admin' },
  { method: 'POST', url: '/api/sync/resume', role: 'admin' },
  { method: 'POST', url: '/api/sync/full-resync', role: 'admin' },
  { method: 'POST', url: '/api/sync/verify', role: 'admin' },
];

describe('API security and input handling', () => {
  let db: TestDb;
  let app: App;
  let connection: Redis;
  let queues: Queues;
  beforeAll(async () => {
    db = await createTestDb();
    await seedBcs(db.db, [1, 2, 3]);
    connection = new Redis(inject('redisUrl'), {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
    });
    queues = createQueues({
      logger: memoryLogger('warn').logger,
      backend: redisQueues(connection, `test-${randomBytes(5).toString('hex')}`),
      settings: { attempts: 1, backoffMs: 10 },
    });
    app = await createTestApp(db, { queues });
  });
  afterAll(async () => {
    await app.close();
    await Promise.all(queues.all.map((queue) => queue.obliterate({ force: true })));
    await queues.close();
    await connection.quit();
    await db.dispose();
  });

  it.each(ROUTES)(
    '$method $url: 401 without a key, 401 with an unknown key',
    async ({ method, url }) => {
      for (const headers of [
        {},
        { authorization: 'Bearer not-a-key' },
        { authorization: `Basic ${KEYS.admin.key}` },
      ]) {
        const response = await app.inject({
          method,
          url,
          headers,
          payload: method === 'POST' ? {} : undefined,
        });
        expect(response.statusCode).toBe(401);
        expect(response.json()).toMatchObject({ error: 'UNAUTHORIZED' });
      }
    },
  );

  it.each(ROUTES.filter((route) => route.role !== 'reader'))(
    '$method $url: 403 for a reader',
    async ({ method, url }) => {
      const response = await app.inject({
        method,
        url,
        headers: bearer('reader'),
        payload: method === 'POST' ? {} : undefined,
      });
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ error: 'FORBIDDEN' });
    },
  );

  it.each(ROUTES.filter((route) => route.role === 'admin'))(
    '$method $url: 403 for an operator',
    async ({ method, url }) => {
      const response = await app.inject({ method, url, headers: bearer('operator'), payload: {} });
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ error: 'FORBIDDEN' });
    },
  );

  it('health needs no key', async () => {
    expect((await app.inject({ url: '/health/live' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/health/ready' })).statusCode).toBe(200);
  });

  it('bull-board: 401 without admin basic auth, 403 for an operator, its page and a static asset with an admin key', async () => {
    const basic = (key: string) => ({
      authorization: `Basic ${Buffer.from(`anyone:${key}`).toString('base64')}`,
    });
    const anonymous = await app.inject({ url: '/admin/queues' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic/);
    expect((await app.inject({ url: '/admin/queues', headers: bearer('admin') })).statusCode).toBe(
      401,
    );
    expect(
      (await app.inject({ url: '/admin/queues', headers: basic(KEYS.operator.key) })).statusCode,
    ).toBe(403);

    const page = await app.inject({ url: '/admin/queues', headers: basic(KEYS.admin.key) });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    // Asset links are relative to the page's <base href>.
    const href = /<link href="([^"]+\.css)"/.exec(page.body)?.[1];
    expect(href).toBeDefined();
    const asset = new URL(href!, 'http://erp-bridge/admin/queues/').pathname;
    const assetResponse = await app.inject({ url: asset, headers: basic(KEYS.admin.key) });
    expect(assetResponse.statusCode).toBe(200);
    expect(assetResponse.body.length).toBeGreaterThan(1_000);
    expect((await app.inject({ url: asset })).statusCode).toBe(401);

    const api = await app.inject({
      url: '/admin/queues/api/queues',
      headers: basic(KEYS.admin.key),
    });
    expect(api.statusCode).toBe(200);
    expect(
      api
        .json<{ queues: { name: string }[] }>()
        .queues.map((q) => q.name)
        .sort(),
    ).toEqual(['feed', 'sync', 'sync-page', 'sync-reconcile', 'sync-record', 'sync-webhook']);
  });

  const r = (role: 'reader' | 'operator') => bearer(role);
  const big = 'x'.repeat(1_100_000);
  const BAD: {
    name: string;
    method: Method;
    url: string;
    headers?: Record<string, string>;
    payload?: string | object;
  }[] = [
    { name: 'limit not a number', method: 'GET', url: '/api/bcs?limit=abc' },
    { name: 'limit zero', method: 'GET', url: '/api/bcs?limit=0' },
    { name: 'negative limit', method: 'GET', url: '/api/bcs?limit=-5' },
    { name: 'huge limit', method: 'GET', url: '/api/bcs?limit=100000000' },
    { name: 'fractional limit', method: 'GET', url: '/api/bcs?limit=2.5' },
    { name: 'unknown sort field', method: 'GET', url: '/api/bcs?sort=password' },
    { name: 'sort by raw column', method: 'GET', url: '/api/bcs?sort=amount_total' },
    {
      name: 'SQL in sort',
      method: 'GET',
      url: `/api/bcs?sort=${encodeURIComponent('name; drop table scrap_dimagaz_bc')}`,
    },
    { name: 'unknown parameter', method: 'GET', url: '/api/bcs?colour=red' },
    { name: 'bad cursor', method: 'GET', url: '/api/bcs?cursor=not-a-cursor' },
    {
      name: 'cursor of another sort',
      method: 'GET',
      url: `/api/bcs?cursor=${Buffer.from(JSON.stringify(['name', 'x', 1])).toString('base64url')}`,
    },
    {
      name: 'forged cursor value',
      method: 'GET',
      url: `/api/bcs?sort=dateOrder&cursor=${Buffer.from(JSON.stringify(['dateOrder', "'; select 1 --", 1])).toString('base64url')}`,
    },
    {
      name: 'forged numeric cursor',
      method: 'GET',
      url: `/api/bcs?sort=amountTotal&cursor=${Buffer.from(JSON.stringify(['amountTotal', '1e999999', 1])).toString('base64url')}`,
    },
    { name: 'oversized cursor', method: 'GET', url: `/api/bcs?cursor=${'a'.repeat(600)}` },
    { name: 'partnerId text', method: 'GET', url: '/api/bcs?partnerId=acme' },
    { name: 'partnerId negative', method: 'GET', url: '/api/bcs?partnerId=-1' },
    { name: 'partnerId beyond int4', method: 'GET', url: '/api/bcs?partnerId=99999999999' },
    { name: 'orderedFrom not a date', method: 'GET', url: '/api/bcs?orderedFrom=yesterday' },
    { name: 'orderedTo impossible date', method: 'GET', url: '/api/bcs?orderedTo=2026-02-31' },
    {
      name: 'updatedSince without zone',
      method: 'GET',
      url: '/api/bcs?updatedSince=2026-01-01T00:00:00',
    },
    {
      name: 'state with SQL',
      method: 'GET',
      url: `/api/bcs?state=${encodeURIComponent("draft' or '1'='1")}`,
    },
    {
      name: 'state with script',
      method: 'GET',
      url: `/api/bcs?state=${encodeURIComponent('<script>alert(1)</script>')}`,
    },
    { name: 'empty q', method: 'GET', url: '/api/bcs?q=' },
    { name: 'overlong q', method: 'GET', url: `/api/bcs?q=${'a'.repeat(101)}` },
    { name: 'includeArchived not boolean', method: 'GET', url: '/api/bcs?includeArchived=yes' },
    { name: 'active not boolean', method: 'GET', url: '/api/bcs?active=2' },
    { name: 'odooId text', method: 'GET', url: '/api/bcs/abc' },
    { name: 'odooId zero', method: 'GET', url: '/api/bcs/0' },
    { name: 'odooId negative', method: 'GET', url: '/api/bcs/-3/lines' },
    { name: 'odooId beyond int4', method: 'GET', url: '/api/bcs/99999999999' },
    { name: 'odooId with SQL', method: 'GET', url: `/api/bcs/${encodeURIComponent('1 or 1=1')}` },
    { name: 'history limit too big', method: 'GET', url: '/api/bcs/1/history?limit=5000' },
    { name: 'history before text', method: 'GET', url: '/api/bcs/1/history?before=last' },
    { name: 'runs limit negative', method: 'GET', url: '/api/sync/runs?limit=-1' },
    { name: 'runs unknown parameter', method: 'GET', url: '/api/sync/runs?status=failed' },
    { name: 'runs cursor beyond int4', method: 'GET', url: '/api/sync/runs?before=9999999999' },
    { name: 'runs cursor 1e300', method: 'GET', url: '/api/sync/runs?before=1e300' },
    { name: 'failures cursor with NUL', method: 'GET', url: '/api/sync/failures?after=1%00' },
    { name: 'failures limit too big', method: 'GET', url: '/api/sync/failures?limit=501' },
    { name: 'resync bad id', method: 'POST', url: '/api/bcs/xyz/resync', headers: r('operator') },
    {
      name: 'tryton rpc bad JSON',
      method: 'POST',
      url: '/api/tryton/rpc',
      headers: { ...r('operator'), 'content-type': 'application/json' },
      payload: '{"method": ',
    },
    {
      name: 'tryton rpc no method',
      method: 'POST',
      url: '/api/tryton/rpc',
      headers: r('operator'),
      payload: { params: [] },
    },
    {
      name: 'tryton rpc method not a string',
      method: 'POST',
      url: '/api/tryton/rpc',
      headers: r('operator'),
      payload: { method: 42, params: [] },
    },
    {
      name: 'tryton rpc params not a list',
      method: 'POST',
      url: '/api/tryton/rpc',
      headers: r('operator'),
      payload: { method: 'model.party.party.search', params: 'all' },
    },
    {
      name: 'tryton rpc text body',
      method: 'POST',
      url: '/api/tryton/rpc',
      headers: { ...r('operator'), 'content-type': 'text/plain' },
      payload: 'model.party.party.search',
    },
    {
      name: 'oversized body',
      method: 'POST',
      url: '/api/tryton/rpc',
      headers: { ...r('operator'), 'content-type': 'application/json' },
      payload: JSON.stringify({ method: 'x', params: [big] }),
    },
    { name: 'unknown route', method: 'GET', url: '/api/bcs/1/invoices' },
    { name: 'wrong method', method: 'POST', url: '/api/bcs' },
  ];

  it(`${BAD.length} malformed requests each get a 4xx JSON error, never a 5xx`, async () => {
    expect(BAD.length).toBeGreaterThanOrEqual(40);
    for (const bad of BAD) {
      const response = await app.inject({
        method: bad.method,
        url: bad.url,
        headers: bad.headers ?? r('reader'),
        payload: bad.payload,
      });
      expect(
        response.statusCode,
        `${bad.name}: ${response.statusCode} ${response.body.slice(0, 200)}`,
      ).toBeGreaterThanOrEqual(400);
      expect(response.statusCode, bad.name).toBeLessThan(500);
      const body = response.json<{ error: string; message: string }>();
      expect(typeof body.error, bad.name).toBe('string');
      expect(typeof body.message, bad.name).toBe('string');
    }
  });

  it('POST /api/sync/run twice at once: both accepted, collapsed into one queued run', async () => {
    const [a, b] = await Promise.all([
      app.inject({ method: 'POST', url: '/api/sync/run', headers: bearer('operator') }),
      app.inject({ method: 'POST', url: '/api/sync/run', headers: bearer('operator') }),
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([202, 202]);
    expect(a.json<{ jobId: string }>().jobId).toBe(b.json<{ jobId: string }>().jobId);
    expect(
      await queues.byName.sync.getJobCountByTypes('waiting', 'active', 'delayed', 'prioritized'),
    ).toBe(1);
  });

  it('POST /api/sync/run while a run holds the lease: 409', async () => {
    await db.sql!`insert into sync_state (key, is_syncing, lease_owner, lease_expires_at, current_run_id)
      values ('bcs', true, 'run-42', now() + interval '1 minute', 42)
      on conflict (key) do update set is_syncing = true, lease_owner = 'run-42', lease_expires_at = now() + interval '1 minute', current_run_id = 42`;
    const response = await app.inject({
      method: 'POST',
      url: '/api/sync/run',
      headers: bearer('operator'),
    });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({
      error: 'SYNC_RUNNING',
      message: expect.stringContaining('run 42'),
    });
    await db.sql!`update sync_state set is_syncing = false, lease_owner = null, lease_expires_at = null`;
  });

  it('with Redis away, BC reads and /metrics still answer; routes that need the queue answer 503', async () => {
    const away = redisAway();
    const cutLog = memoryLogger('error');
    const cut = await buildApp({
      config: testConfig(),
      logger: cutLog.logger,
      db,
      queues: away.queues,
      rateLimitRedis: away.redis,
    });
    try {
      const list = await cut.inject({ url: '/api/bcs', headers: bearer('reader') });
      expect(list.statusCode, cutLog.lines.join('')).toBe(200);
      expect(list.json<{ items: unknown[] }>().items).toHaveLength(3);
      expect((await cut.inject({ url: '/api/bcs/1', headers: bearer('reader') })).statusCode).toBe(
        200,
      );
      const run = await cut.inject({
        method: 'POST',
        url: '/api/sync/run',
        headers: bearer('operator'),
      });
      expect(run.statusCode).toBe(503);
      expect(run.json()).toMatchObject({
        error: 'QUEUE_UNAVAILABLE',
        requestId: expect.any(String),
      });
      const metrics = await cut.inject({ url: '/metrics', headers: bearer('operator') });
      expect(metrics.statusCode).toBe(200);
      expect(metrics.body).toContain('erp_bridge_http_request_duration_seconds');
      expect(metrics.body).toMatch(/^erp_bridge_queue_reachable 0$/m);
    } finally {
      await cut.close();
      await away.close();
    }
  });

  it("keeps a client's x-request-id only when it is a short plain id; any other gets an id of ours", async () => {
    const captured = memoryLogger('info');
    const logged = await buildApp({ config: testConfig(), logger: captured.logger, db });
    try {
      const sent = [
        'trace-7f3a:01.2',
        'a'.repeat(10_000),
        'x\n{"level":60,"msg":"forged"}',
        '../',
        'é',
        '<script>',
        ' ',
      ];
      for (const id of sent)
        await logged.inject({
          url: '/api/bcs?limit=1',
          headers: { ...bearer('reader'), 'x-request-id': id },
        });
      const ids = captured.lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line.msg === 'request completed')
        .map((line) => line.reqId as string);
      expect(ids).toHaveLength(sent.length);
      expect(ids[0]).toBe('trace-7f3a:01.2');
      for (const id of ids.slice(1)) {
        expect(id).toMatch(/^[A-Za-z0-9._:=+-]{1,64}$/);
        expect(sent).not.toContain(id);
      }
      expect(new Set(ids).size).toBe(ids.length);
      expect(captured.lines.join('')).not.toContain('forged');
    } finally {
      await logged.close();
    }
  });

  it('every request log line names the calling key, never the key itself', async () => {
    const captured = memoryLogger('info');
    const logged = await buildApp({ config: testConfig(), logger: captured.logger, db });
    try {
      await logged.inject({ url: '/api/bcs?limit=1', headers: bearer('reader') });
      await logged.inject({ url: '/api/bcs', headers: { authorization: 'Bearer wrong-key' } });
      const lines = captured.lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line.msg === 'request completed');
      expect(lines).toEqual([
        expect.objectContaining({ url: '/api/bcs?limit=1', statusCode: 200, caller: 'front' }),
        expect.objectContaining({ url: '/api/bcs', statusCode: 401, caller: null }),
      ]);
      expect(captured.lines.join('')).not.toContain(KEYS.reader.key);
    } finally {
      await logged.close();
    }
  });
});
