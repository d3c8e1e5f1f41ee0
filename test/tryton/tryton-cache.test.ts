/**
 * The Redis cache of Tryton answers on a real Redis and a real trytond:
 * one Tryton call for two cachedCalls, expiry after the TTL, the server's X-Tryton-Cache hint,
 * exact values from the cache, and calls that go on when Redis is gone.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TrytonConfig } from '../../src/config/config.js';
import {
  createTrytonCache,
  type TrytonCache,
  type TrytonCacheOptions,
} from '../../src/clients/tryton/tryton-cache.js';
import { createTrytonClient } from '../../src/clients/tryton/tryton-client.js';
import { TrytonDateTime } from '../../src/clients/tryton/tryton-codec.js';
import { startLocalRedis } from '../helpers/local-services.js';
import {
  startTrytond,
  TRYTOND_SERIES,
  TRYTOND_START_TIMEOUT_MS,
  trytonConfigFor,
  type Trytond,
} from '../helpers/trytond.js';
import { createCapturedLogger } from './capture-logger.js';
import { createRecordingDispatcher } from './recording-dispatcher.js';

describe.each(TRYTOND_SERIES)('the Tryton cache against trytond %s', (series) => {
  let trytond: Trytond;
  let redis: Redis;
  const keyPrefix = `test:tryton-cache:${randomUUID()}:`;
  const opened: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    trytond = await startTrytond({ series });
    redis = new Redis(inject('redisUrl'));
  }, TRYTOND_START_TIMEOUT_MS);

  afterAll(async () => {
    for (const resource of opened.reverse()) await resource.close();
    if (redis) {
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
    await trytond?.stop();
  });

  function config(overrides: Partial<TrytonConfig> = {}): TrytonConfig {
    return trytonConfigFor(trytond, overrides);
  }

  function newClient(
    redisUrl = inject('redisUrl'),
    overrides: Partial<TrytonConfig> = {},
    cacheOptions: Partial<Omit<TrytonCacheOptions, 'redisUrl' | 'logger'>> = {},
  ) {
    const log = createCapturedLogger();
    const cache = createTrytonCache({
      redisUrl,
      keyPrefix,
      logger: log.logger,
      // Out of reach of a loaded machine's pauses; the outage test sets a short one.
      commandTimeoutMs: 10_000,
      // The test Redis is the queues' (noeviction); the tests on that rule say otherwise.
      allowNoEviction: true,
      ...cacheOptions,
    });
    const recorder = createRecordingDispatcher();
    const client = createTrytonClient(config(overrides), {
      logger: log.logger,
      dispatcher: recorder.dispatcher,
      cache,
    });
    opened.push(cache, recorder, client);
    return { client, cache, recorder, log };
  }

  /** Resolves once Redis no longer holds `key`, polling its remaining TTL (bounded). */
  async function expired(key: string): Promise<void> {
    for (let attempt = 0; attempt < 400; attempt++) {
      const pttl = await redis.pttl(key);
      if (pttl === -2) return;
      await new Promise((resolve) => setTimeout(resolve, Math.max(10, Math.min(pttl, 100))));
    }
    throw new Error(`${key} did not expire`);
  }

  function keyOf(cache: TrytonCache, method: string, params: unknown[]): string {
    return cache.keyFor({
      server: trytond.url,
      database: trytond.database,
      user: trytond.user,
      method,
      params,
    });
  }

  const FIELDS = ['name', 'code', 'create_date'];
  const PARAMS = [[], 0, null, [['id', 'ASC']], FIELDS, {}];

  describe('cachedCall', () => {
    it('calls Tryton once for two identical calls; the second answer comes from Redis, exactly', async () => {
      const { client, cache, recorder } = newClient();
      const first = await client.cachedCallDetailed<Record<string, unknown>[]>(
        'model.party.party.search_read',
        PARAMS,
        30,
      );
      const second = await client.cachedCallDetailed<Record<string, unknown>[]>(
        'model.party.party.search_read',
        PARAMS,
        30,
      );
      expect(first.cache).toBe('miss');
      expect(second.cache).toBe('hit');
      expect(recorder.count('model.party.party.search_read')).toBe(1);
      expect(second.result).toEqual(first.result);
      expect(second.result.map((party) => party.name)).toEqual(
        trytond.parties.map((party) => party.name),
      );
      // The datetime from Redis is the same exact value, microseconds included.
      expect(second.result[0]?.create_date).toBeInstanceOf(TrytonDateTime);
      expect(
        (second.result[0]?.create_date as TrytonDateTime).equals(first.result[0]?.create_date),
      ).toBe(true);
      expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, errors: 0, writes: 1 });
      expect(await redis.exists(keyOf(cache, 'model.party.party.search_read', PARAMS))).toBe(1);
    });

    it('serves but never keeps an answer larger than cacheMaxBytes', async () => {
      const { client, cache, recorder } = newClient(inject('redisUrl'), { cacheMaxBytes: 64 });
      const params = [[], 0, null, [['id', 'DESC']], FIELDS, {}];
      const first = await client.cachedCallDetailed('model.party.party.search_read', params, 30);
      const second = await client.cachedCallDetailed('model.party.party.search_read', params, 30);
      expect([first.cache, second.cache]).toEqual(['miss', 'miss']);
      expect(second.result).toEqual(first.result);
      expect(recorder.count('model.party.party.search_read')).toBe(2);
      expect(await redis.exists(keyOf(cache, 'model.party.party.search_read', params))).toBe(0);
    });

    it('keys on canonical params: key order in the context does not matter, its values do', async () => {
      const { client, recorder } = newClient();
      const domain = [['code', '=', 'ACME']];
      await client.cachedCall(
        'model.party.party.search_count',
        [domain, { language: 'en', active_test: true }],
        30,
      );
      await client.cachedCall(
        'model.party.party.search_count',
        [domain, { active_test: true, language: 'en' }],
        30,
      );
      expect(recorder.count('model.party.party.search_count')).toBe(1);
      await client.cachedCall(
        'model.party.party.search_count',
        [domain, { active_test: false, language: 'en' }],
        30,
      );
      expect(recorder.count('model.party.party.search_count')).toBe(2);
    });

    it('calls Tryton again once the TTL has run out', async () => {
      const { client, cache, recorder } = newClient();
      const params = [[['code', '=', 'GLOBEX']], 0, null, null, ['name'], {}];
      await client.cachedCall('model.party.party.search_read', params, 1);
      expect(recorder.count('model.party.party.search_read')).toBe(1);
      // Kept for the second asked, no longer (a hit within a TTL: the tests above); on a loaded
      // machine it may be gone already (-2), so no second call is timed against it.
      const key = keyOf(cache, 'model.party.party.search_read', params);
      const keptMs = await redis.pttl(key);
      expect(keptMs).not.toBe(-1);
      expect(keptMs).toBeLessThanOrEqual(1_000);
      await expired(key);
      const again = await client.cachedCallDetailed('model.party.party.search_read', params, 1);
      expect(again.cache).toBe('miss');
      expect(recorder.count('model.party.party.search_read')).toBe(2);
    });

    it("keeps an answer for the server's X-Tryton-Cache seconds when it sends the header, up to the cap", async () => {
      const { client, cache } = newClient(inject('redisUrl'), {}, { maxTtlSeconds: 86_400 });
      const params = [['name'], {}];
      await client.cachedCall('model.party.party.fields_get', params, 5);
      const ttlSeconds = await redis.ttl(keyOf(cache, 'model.party.party.fields_get', params));
      expect(ttlSeconds).toBeGreaterThan(86_000);
      // trytond asks 86,400 s for fields_get; the cache keeps nothing longer than its cap.
      const capped = newClient(inject('redisUrl'), {}, { maxTtlSeconds: 600 });
      const cappedParams = [['code'], {}];
      await capped.client.cachedCall('model.party.party.fields_get', cappedParams, 5);
      const cappedMs = await redis.pttl(
        keyOf(capped.cache, 'model.party.party.fields_get', cappedParams),
      );
      expect(cappedMs).toBeGreaterThan(590_000);
      expect(cappedMs).toBeLessThanOrEqual(600_000);
      await capped.cache.set(`${keyPrefix}long`, '[1]', 86_400);
      expect(await redis.pttl(`${keyPrefix}long`)).toBeLessThanOrEqual(600_000);
    });

    it('refuses to cache a method that may change data', async () => {
      const { client } = newClient();
      await expect(
        client.cachedCall('model.party.party.create', [[{ name: 'x' }], {}], 30),
      ).rejects.toMatchObject({
        code: 'TRYTON_NOT_CACHEABLE',
      });
    });
  });

  describe('Redis outage', () => {
    it('calls still succeed, uncached, with a warning instead of an error, and never hang', async () => {
      const ownRedis = await startLocalRedis();
      let stopped = false;
      try {
        // Redis alone: the first level would answer these calls from memory (tested below).
        const { client, cache, recorder, log } = newClient(
          ownRedis.url,
          {},
          { local: false, commandTimeoutMs: 300 },
        );
        const params = [[], {}];
        expect(await client.cachedCall('model.party.party.search_count', params, 30)).toBe(
          trytond.parties.length,
        );
        expect(await client.cachedCall('model.party.party.search_count', params, 30)).toBe(
          trytond.parties.length,
        );
        expect(recorder.count('model.party.party.search_count')).toBe(1);

        await ownRedis.stop();
        stopped = true;
        for (let i = 0; i < 3; i++) {
          const answer = await client.cachedCallDetailed(
            'model.party.party.search_count',
            params,
            30,
          );
          expect(answer).toEqual({ result: trytond.parties.length, cache: 'miss' });
        }
        expect(recorder.count('model.party.party.search_count')).toBe(4);
        expect(cache.stats().errors).toBeGreaterThanOrEqual(3);
        const warnings = log.lines.filter((line) => line.includes('tryton cache'));
        expect(warnings.length).toBeGreaterThanOrEqual(1);
        // Rate-limited: not one warning per failed command.
        expect(warnings.length).toBeLessThan(cache.stats().errors);
      } finally {
        if (!stopped) await ownRedis.stop();
      }
    });
  });

  describe('the in-process first level', () => {
    function cacheWithClock(redisUrl = inject('redisUrl')) {
      const clock = { nowMs: 1_000 };
      const log = createCapturedLogger();
      const cache = createTrytonCache({
        redisUrl,
        keyPrefix,
        logger: log.logger,
        commandTimeoutMs: 10_000,
        allowNoEviction: true,
        local: { nowMs: () => clock.nowMs },
      });
      opened.push(cache);
      return { cache, clock, log };
    }

    it('keeps an entry read from Redis no longer than its remaining TTL there', async () => {
      const { cache, clock } = cacheWithClock();
      const key = `${keyPrefix}read-${randomUUID()}`;
      await redis.set(key, '[1]', 'PX', 5_000);
      expect(await cache.get(key)).toBe('[1]');
      // Gone from Redis early (eviction): the copy is still served until Redis's expiry time.
      await redis.del(key);
      expect(await cache.get(key)).toBe('[1]');
      expect(cache.stats()).toMatchObject({ hits: 2, localHits: 1, localEntries: 1 });
      clock.nowMs += 5_000;
      expect(await cache.get(key)).toBeUndefined();
      expect(cache.stats()).toMatchObject({ hits: 2, localHits: 1, misses: 1, localEntries: 0 });
    });

    it('keeps an entry it wrote no longer than the TTL Redis got', async () => {
      const { cache, clock } = cacheWithClock();
      const key = `${keyPrefix}write-${randomUUID()}`;
      await cache.set(key, '{"a":1}', 2);
      const redisTtlMs = await redis.pttl(key);
      // An expiry, of at most the TTL (-2: already reached, on a loaded machine).
      expect(redisTtlMs).not.toBe(-1);
      expect(redisTtlMs).toBeLessThanOrEqual(2_000);
      await redis.del(key);
      clock.nowMs += 1_999;
      expect(await cache.get(key)).toBe('{"a":1}');
      clock.nowMs += 1;
      expect(await cache.get(key)).toBeUndefined();
    });

    it('treats an unreadable Redis entry as a miss, and a call then replaces it', async () => {
      const { cache, log } = cacheWithClock();
      const key = `${keyPrefix}bad-${randomUUID()}`;
      await redis.set(key, '{"__class__":"Decimal","decimal":"x"}', 'EX', 30);
      expect(await cache.get(key)).toBeUndefined();
      expect(cache.stats()).toMatchObject({ hits: 0, misses: 1, localEntries: 0 });
      expect(log.text()).toContain('unreadable entry ignored');
    });

    it('serves the answer text as stored, and the same text on a miss', async () => {
      const { client, recorder } = newClient();
      const params = [[], 0, 2, [['id', 'ASC']], FIELDS, {}];
      const first = await client.cachedCallJson('model.party.party.search_read', params, 30);
      const second = await client.cachedCallJson('model.party.party.search_read', params, 30);
      expect([first.cache, second.cache]).toEqual(['miss', 'hit']);
      expect(second.json).toBe(first.json);
      expect(recorder.count('model.party.party.search_read')).toBe(1);
      const parties = JSON.parse(first.json) as { create_date: { __class__: string } }[];
      expect(parties[0]?.create_date.__class__).toBe('datetime');
    });

    it('still serves its unexpired entries while Redis is away; anything else is a miss', async () => {
      const ownRedis = await startLocalRedis();
      let stopped = false;
      try {
        const { cache } = cacheWithClock(ownRedis.url);
        await cache.set(`${keyPrefix}kept`, '[1]', 30);
        await ownRedis.stop();
        stopped = true;
        expect(await cache.get(`${keyPrefix}kept`)).toBe('[1]');
        expect(await cache.get(`${keyPrefix}other`)).toBeUndefined();
        await cache.set(`${keyPrefix}other`, '[2]', 30);
        // A write Redis did not take is not kept locally either.
        expect(await cache.get(`${keyPrefix}other`)).toBeUndefined();
        expect(cache.stats().errors).toBeGreaterThanOrEqual(2);
      } finally {
        if (!stopped) await ownRedis.stop();
      }
    });
  });

  describe('bounds: callers choose the keys, the cache keeps its budget', () => {
    /** The entries of `keys` Redis still holds, and their bytes. */
    async function held(keys: string[]): Promise<{ keys: string[]; bytes: number }> {
      const lengths = await Promise.all(keys.map((key) => redis.strlen(key)));
      return {
        keys: keys.filter((_, index) => lengths[index]! > 0),
        bytes: lengths.reduce((sum, length) => sum + length, 0),
      };
    }

    it('holds at most its budget of entries in Redis, the soonest to expire going first', async () => {
      const prefix = `${keyPrefix}entries-${randomUUID()}:`;
      const { client, cache } = newClient(
        inject('redisUrl'),
        {},
        { keyPrefix: prefix, maxEntries: 5, maxTotalBytes: 1_000_000, local: false },
      );
      const keys: string[] = [];
      for (let i = 0; i < 40; i += 1) {
        // A context key of the caller's choosing makes a new cache key each time.
        const params = [[], { caller_choice: i }];
        await client.cachedCall('model.party.party.search_count', params, 60);
        keys.push(keyOf(cache, 'model.party.party.search_count', params));
      }
      expect((await held(keys)).keys).toEqual(keys.slice(-5));
      const all = await redis.keys(`${prefix}*`);
      // The five entries and the cache's own bookkeeping, which expires too.
      expect(all.length).toBeLessThanOrEqual(5 + 3);
      for (const key of all) expect(await redis.pttl(key), key).toBeGreaterThan(0);
    });

    it('holds at most its budget of bytes in Redis', async () => {
      const prefix = `${keyPrefix}bytes-${randomUUID()}:`;
      const { client, cache } = newClient(
        inject('redisUrl'),
        {},
        { keyPrefix: prefix, maxEntries: 1_000, maxTotalBytes: 1_000, local: false },
      );
      const keys: string[] = [];
      for (let i = 0; i < 30; i += 1) {
        const params = [[], 0, null, [['id', 'ASC']], FIELDS, { caller_choice: i }];
        await client.cachedCall('model.party.party.search_read', params, 60);
        keys.push(keyOf(cache, 'model.party.party.search_read', params));
      }
      const { keys: kept, bytes } = await held(keys);
      expect(bytes).toBeLessThanOrEqual(1_000);
      expect(kept.length).toBeGreaterThan(0);
      expect(kept).toEqual(keys.slice(-kept.length));
      expect(cache.stats().writes).toBe(30);
    });

    it('caches nothing on a noeviction Redis unless told to, and says why', async () => {
      // The test Redis runs with Redis's default policy, noeviction, as a queue's must.
      const refused = newClient(inject('redisUrl'), {}, { allowNoEviction: false });
      const params = [[['code', '=', 'INITECH']], {}];
      for (let i = 0; i < 2; i += 1)
        expect(
          await refused.client.cachedCallDetailed('model.party.party.search_count', params, 60),
        ).toEqual({ result: 1, cache: 'miss' });
      expect(refused.recorder.count('model.party.party.search_count')).toBe(2);
      expect(refused.cache.stats()).toMatchObject({ writes: 0, errors: 0 });
      expect(
        await redis.exists(keyOf(refused.cache, 'model.party.party.search_count', params)),
      ).toBe(0);
      expect(refused.log.text()).toContain('noeviction');
      expect(refused.log.text()).toContain('TRYTON_CACHE_ALLOW_NOEVICTION');

      const allowed = newClient(inject('redisUrl'), {}, { allowNoEviction: true });
      await allowed.client.cachedCall('model.party.party.search_count', params, 60);
      await allowed.client.cachedCall('model.party.party.search_count', params, 60);
      expect(allowed.recorder.count('model.party.party.search_count')).toBe(1);
    });

    it('caches on an evicting Redis without being told', async () => {
      const ownRedis = await startLocalRedis();
      const admin = new Redis(ownRedis.url);
      try {
        await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
        const { client, recorder, log } = newClient(ownRedis.url, {}, { allowNoEviction: false });
        await client.cachedCall('model.party.party.search_count', [[], {}], 60);
        await client.cachedCall('model.party.party.search_count', [[], {}], 60);
        expect(recorder.count('model.party.party.search_count')).toBe(1);
        expect(log.text()).not.toContain('noeviction');
      } finally {
        await admin.quit();
        await ownRedis.stop();
      }
    });
  });
});
