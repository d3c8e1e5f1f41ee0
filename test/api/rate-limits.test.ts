/**
 * Rate limits that count: per key once the key is known, per address otherwise and for every
 * refused key, before the route's own check, in Redis across replicas, X-Forwarded-For believed
 * only with TRUST_PROXY.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp, type App } from '../../src/http/app.js';
import { bearer, KEYS, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

/** A GET sent byte for byte as written: no client normalizes `..` or `%2e` away. */
async function rawAnswer(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; head: string; body: string }> {
  const text = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: api\r\n${Object.entries(headers)
          .map(([name, value]) => `${name}: ${value}\r\n`)
          .join('')}Connection: close\r\n\r\n`,
      ),
    );
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
  const [head = '', body = ''] = text.split('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), head, body };
}

const rawGet = async (port: number, path: string) => (await rawAnswer(port, path)).status;

describe('rate limits', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db.dispose();
  });

  it('limits requests per key with a 429 JSON answer, and never limits health probes', async () => {
    const limited = await buildApp({
      config: testConfig({ RATE_LIMIT_PER_MINUTE: '2' }),
      logger: memoryLogger('fatal').logger,
      db,
    });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i += 1)
        statuses.push(
          (await limited.inject({ url: '/api/sync/state', headers: bearer('reader') })).statusCode,
        );
      expect(statuses).toEqual([200, 200, 429]);
      const refused = await limited.inject({ url: '/api/sync/state', headers: bearer('reader') });
      expect(refused.json()).toMatchObject({
        error: expect.any(String),
        message: expect.stringMatching(/rate limit/i),
      });
      // Another key has its own budget.
      expect(
        (await limited.inject({ url: '/api/sync/state', headers: bearer('operator') })).statusCode,
      ).toBe(200);
      for (let i = 0; i < 5; i += 1)
        expect((await limited.inject({ url: '/health/live' })).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });

  const limitedApp = (env: Record<string, string>, rateLimitRedis?: Redis) =>
    buildApp({
      config: testConfig({ QUEUE_PREFIX: `rl-${randomBytes(5).toString('hex')}`, ...env }),
      logger: memoryLogger('fatal').logger,
      db,
      rateLimitRedis,
    });

  it('counts refused keys per client address, before the key check: the next try is a 429', async () => {
    const limited = await limitedApp({ RATE_LIMIT_ANONYMOUS_PER_MINUTE: '3' });
    try {
      const statuses = [];
      for (const key of ['guess-1', 'guess-2', 'guess-3', 'guess-4', KEYS.reader.key.slice(1)])
        statuses.push(
          (
            await limited.inject({
              url: '/api/sync/state',
              headers: { authorization: `Bearer ${key}` },
            })
          ).statusCode,
        );
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      // Unknown routes count too: probing for URLs is not free.
      expect((await limited.inject({ url: '/wp-admin' })).statusCode).toBe(429);
      // Another address has its own budget; a known key its own.
      expect(
        (await limited.inject({ url: '/api/sync/state', remoteAddress: '10.0.0.9' })).statusCode,
      ).toBe(401);
      expect(
        (await limited.inject({ url: '/api/sync/state', headers: bearer('reader') })).statusCode,
      ).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('one bucket per key, whatever the spelling of the header; a 403 counts against the key', async () => {
    const limited = await limitedApp({ RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const statuses = [];
      for (const authorization of [
        `Bearer ${KEYS.reader.key}`,
        `bearer   ${KEYS.reader.key}  `,
        `BEARER ${KEYS.reader.key}`,
        `Bearer ${KEYS.reader.key}`,
      ])
        statuses.push(
          (await limited.inject({ url: '/api/sync/state', headers: { authorization } })).statusCode,
        );
      expect(statuses).toEqual([200, 200, 200, 429]);
      const forbidden = [];
      for (let i = 0; i < 4; i += 1)
        forbidden.push(
          (
            await limited.inject({
              method: 'POST',
              url: '/api/sync/run',
              headers: bearer('operator'),
            })
          ).statusCode,
        );
      expect(forbidden.slice(3)).toEqual([429]);
    } finally {
      await limited.close();
    }
  });

  it('exempts the health routes themselves, not every path that starts like them', async () => {
    const limited = await limitedApp({ RATE_LIMIT_ANONYMOUS_PER_MINUTE: '2' });
    try {
      await limited.listen({ host: '127.0.0.1', port: 0 });
      const { port } = limited.server.address() as { port: number };
      const statuses = [];
      for (const path of [
        '/health/../api/sync/state',
        '/health/%2e%2e/api/sync/state',
        '/health/live/../../wp-admin',
        '/health/anything',
        '/health%2F..%2Fapi%2Fsync%2Fstate',
      ])
        statuses.push(await rawGet(port, path));
      expect(statuses).toEqual([404, 404, 429, 429, 429]);
      // The probes themselves, with any query, still answer: the bucket is spent, they are exempt.
      for (const path of ['/health/live', '/health/ready', '/health/live?probe=1'])
        expect(await rawGet(port, path), path).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('refuses an anonymous client over its limit before routing: Fastify never sees it, no line is logged', async () => {
    const log = memoryLogger('info');
    const limited = await buildApp({
      config: testConfig({
        QUEUE_PREFIX: `rl-${randomBytes(5).toString('hex')}`,
        RATE_LIMIT_ANONYMOUS_PER_MINUTE: '2',
        LOG_LEVEL: 'info',
      }),
      logger: log.logger,
      db,
    });
    // Every answer Fastify gives passes here, its refusals included.
    let seen = 0;
    limited.addHook('onResponse', (_request, _reply, done) => {
      seen += 1;
      done();
    });
    try {
      await limited.listen({ host: '127.0.0.1', port: 0 });
      const { port } = limited.server.address() as { port: number };
      // A crafted URL of a kilobyte: parsing it, matching it and logging it are what is spared.
      const crafted = `/api/models/x/records?${'a.b-'.repeat(250)}`;
      const statuses = [];
      for (let i = 0; i < 3; i += 1) statuses.push(await rawGet(port, crafted));
      // Under /api/models/, a path no model has asks for a key as a copied model's does (401).
      expect(statuses).toEqual([401, 401, 429]);
      expect(seen).toBe(3);
      const logged = log.lines.length;

      for (let i = 0; i < 20; i += 1) {
        const answer = await rawAnswer(port, crafted, { authorization: 'Bearer guess' });
        expect(answer.status).toBe(429);
        expect(answer.head).toMatch(/\r\nretry-after: \d+\r\n/i);
        expect(JSON.parse(answer.body)).toMatchObject({
          error: 'RATE_LIMITED',
          message: expect.stringMatching(/rate limit/i),
        });
      }
      expect(seen).toBe(3);
      expect(log.lines.length).toBe(logged);

      // A valid key from the same address, and the health probes, are never refused there.
      expect(
        (await rawAnswer(port, '/api/sync/state', { authorization: `Bearer ${KEYS.reader.key}` }))
          .status,
      ).toBe(200);
      expect(await rawGet(port, '/health/live')).toBe(200);
      const metrics = await rawAnswer(port, '/metrics', {
        authorization: `Bearer ${KEYS.operator.key}`,
      });
      expect(metrics.body).toMatch(/^erp_bridge_http_refused_early_total 20$/m);
    } finally {
      await limited.close();
    }
  });

  it('counts IPv6 clients per /64 network, and IPv4-mapped addresses as the IPv4 address', async () => {
    const limited = await limitedApp({ RATE_LIMIT_ANONYMOUS_PER_MINUTE: '2' });
    try {
      const from = async (remoteAddress: string) =>
        (await limited.inject({ url: '/api/sync/state', remoteAddress })).statusCode;
      // One /64 is one client: its 2^64 addresses share a budget.
      expect(await from('2001:db8:1:2::1')).toBe(401);
      expect(await from('2001:db8:1:2:ffff:ffff:ffff:fffe')).toBe(401);
      expect(await from('2001:0db8:0001:0002:0000:0000:0000:abcd')).toBe(429);
      expect(await from('2001:db8:1:3::1')).toBe(401);
      expect(await from('192.0.2.7')).toBe(401);
      expect(await from('::ffff:192.0.2.7')).toBe(401);
      expect(await from('::ffff:c000:207')).toBe(429);
      expect(await from('192.0.2.8')).toBe(401);
    } finally {
      await limited.close();
    }
  });

  it('holds across API replicas through Redis', async () => {
    const prefix = `rl-${randomBytes(5).toString('hex')}`;
    const env = { QUEUE_PREFIX: prefix, RATE_LIMIT_PER_MINUTE: '2' };
    const store = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
    const [first, second] = await Promise.all([limitedApp(env, store), limitedApp(env, store)]);
    try {
      const ask = (target: App) =>
        target.inject({ url: '/api/sync/state', headers: bearer('reader') });
      expect((await ask(first)).statusCode).toBe(200);
      expect((await ask(second)).statusCode).toBe(200);
      expect((await ask(first)).statusCode).toBe(429);
      expect((await ask(second)).statusCode).toBe(429);
    } finally {
      await first.close();
      await second.close();
      const keys = await store.keys(`${prefix}:rate-limit:*`);
      if (keys.length > 0) await store.del(...keys);
      await store.quit();
    }
  });

  it('believes X-Forwarded-For only with TRUST_PROXY', async () => {
    const spoofed = (target: App, address: string) =>
      target.inject({
        url: '/api/sync/state',
        remoteAddress: '192.0.2.1',
        headers: { 'x-forwarded-for': address },
      });
    const strict = await limitedApp({ RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1' });
    const behindProxy = await limitedApp({
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1',
      TRUST_PROXY: '192.0.2.1',
    });
    try {
      expect((await spoofed(strict, '198.51.100.1')).statusCode).toBe(401);
      expect((await spoofed(strict, '198.51.100.2')).statusCode).toBe(429);
      expect((await spoofed(behindProxy, '198.51.100.1')).statusCode).toBe(401);
      expect((await spoofed(behindProxy, '198.51.100.2')).statusCode).toBe(401);
      expect((await spoofed(behindProxy, '198.51.100.2')).statusCode).toBe(429);
    } finally {
      await strict.close();
      await behindProxy.close();
    }
  });
});
