/**
 * Rate limits that count: per key once the key is known, per address otherwise and for every
 * refused key, before the route's own check, in Redis across replicas, X-Forwarded-For believed
 * only with TRUST_PROXY.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp, type App } from '../../src/http/app.js';
import { bearer, KEYS, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

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
