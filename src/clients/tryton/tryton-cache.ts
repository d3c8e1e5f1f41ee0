/**
 * The Redis cache of Tryton answers, on its own ioredis connection (a cache wants an evicting
 * Redis; BullMQ's must be `noeviction`, so the two never share a connection).
 *
 * A cache must never make a call fail or hang: every command has a short timeout, nothing is
 * queued while Redis is away (`enableOfflineQueue: false`), and every Redis failure turns into
 * a miss (or a skipped write) plus a rate-limited warning. Hits, misses and errors are counted
 * for metrics.
 *
 * Not here: what to cache and for how long (the client's `cachedCall` decides), and the key's
 * contents beyond hashing them (see {@link TrytonCache.keyFor}).
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../../lib/logger.js';
import { encodeTrytonValue, parseTrytonJson, stringifyTrytonJson } from './tryton-codec.js';

export interface TrytonCacheOptions {
  /** Redis URL (`CACHE_REDIS_URL`). Never logged: it may hold a password. */
  redisUrl: string;
  /** Prefix of every key, e.g. `erp-bridge:tryton:`. */
  keyPrefix?: string;
  logger: Logger;
  /** Upper bound of one Redis command; past it the call goes on uncached. */
  commandTimeoutMs?: number;
  /** At most one warning per this interval while Redis keeps failing. */
  warnIntervalMs?: number;
}

export interface TrytonCacheStats {
  hits: number;
  misses: number;
  /** Redis commands that failed or timed out (each degraded to an uncached call). */
  errors: number;
  writes: number;
}

/** What a cache key is made of. */
export interface TrytonCacheKeyParts {
  /** The Tryton server's base URL: two servers may host databases of the same name. */
  server: string;
  database: string;
  user: string;
  method: string;
  params: readonly unknown[];
}

export interface TrytonCache {
  readonly keyPrefix: string;
  /** A stable key: a hash of the parts, with params in canonical form (object keys sorted). */
  keyFor(parts: TrytonCacheKeyParts): string;
  /** The cached text, or undefined on a miss or when Redis fails. Never rejects. */
  get(key: string): Promise<string | undefined>;
  /** Stores the text for `ttlSeconds`. Never rejects; a failure is counted and warned about. */
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  stats(): TrytonCacheStats;
  close(): Promise<void>;
}

/** JSON with object keys sorted at every level, so equal params give equal keys. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(encodeTrytonValue(value)));
}

function sortKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sortKeys);
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort())
    sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  return sorted;
}

const KEY_VERSION = 'v1';

export function createTrytonCache(options: TrytonCacheOptions): TrytonCache {
  const keyPrefix = options.keyPrefix ?? 'erp-bridge:tryton-cache:';
  const commandTimeoutMs = options.commandTimeoutMs ?? 500;
  const warnIntervalMs = options.warnIntervalMs ?? 30_000;
  const log = options.logger;
  const counters: TrytonCacheStats = { hits: 0, misses: 0, errors: 0, writes: 0 };
  let lastWarnAtMs = Number.NEGATIVE_INFINITY;
  let suppressedWarnings = 0;
  let everReady = false;

  const redis = new Redis(options.redisUrl, {
    enableOfflineQueue: false,
    // Every proxied read is a GET: concurrent ones share a write instead of one syscall each.
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(commandTimeoutMs, 2_000),
    // Keep reconnecting in the background, never faster than every few seconds.
    retryStrategy: (times) => Math.min(times * 250, 5_000),
  });

  const warn = (what: string, error: unknown) => {
    const nowMs = Date.now();
    if (nowMs - lastWarnAtMs < warnIntervalMs) {
      suppressedWarnings += 1;
      return;
    }
    log.warn(
      { err: error, suppressedWarnings },
      `tryton cache: ${what} failed; calls go on uncached until Redis answers again`,
    );
    lastWarnAtMs = nowMs;
    suppressedWarnings = 0;
  };

  // Without a listener ioredis reports connection errors as unhandled 'error' events.
  redis.on('error', (error: unknown) => warn('redis connection', error));
  redis.on('ready', () => {
    everReady = true;
  });

  // Right after boot the connection may still be opening: wait for it once, briefly, instead of
  // counting the first calls as Redis failures. After an outage, commands fail fast instead.
  async function connected(): Promise<boolean> {
    if (redis.status === 'ready') return true;
    if (
      everReady ||
      (redis.status !== 'connecting' && redis.status !== 'connect' && redis.status !== 'wait')
    ) {
      return false;
    }
    return new Promise<boolean>((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        redis.off('ready', onReady);
        resolve(value);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), commandTimeoutMs);
      redis.once('ready', onReady);
    });
  }

  return {
    keyPrefix,
    keyFor(parts) {
      const hash = createHash('sha256')
        .update(
          canonicalJson([parts.server, parts.database, parts.user, parts.method, parts.params]),
        )
        .digest('hex');
      return `${keyPrefix}${KEY_VERSION}:${hash}`;
    },
    async get(key) {
      try {
        if (!(await connected())) throw new Error(`redis is ${redis.status}`);
        const value = await redis.get(key);
        if (value === null) {
          counters.misses += 1;
          return undefined;
        }
        counters.hits += 1;
        return value;
      } catch (error) {
        counters.errors += 1;
        counters.misses += 1;
        warn('read', error);
        return undefined;
      }
    },
    async set(key, value, ttlSeconds) {
      try {
        if (!(await connected())) throw new Error(`redis is ${redis.status}`);
        await redis.set(key, value, 'EX', Math.max(1, Math.ceil(ttlSeconds)));
        counters.writes += 1;
      } catch (error) {
        counters.errors += 1;
        warn('write', error);
      }
    },
    stats() {
      return { ...counters };
    },
    async close() {
      if (redis.status === 'ready') {
        try {
          await redis.quit();
          return;
        } catch (error) {
          log.debug({ err: error }, 'tryton cache: quit failed, disconnecting');
        }
      }
      redis.disconnect();
    },
  };
}

/**
 * A read through the cache: the stored answer when there is one (an unreadable entry is ignored),
 * else `load()`, kept for the server's `X-Tryton-Cache` seconds or `ttlSeconds` — unless it is
 * over `maxBytes`: a large answer would crowd the cache out for one caller; it is served, not
 * kept.
 */
export async function readThrough<T>(input: {
  cache: TrytonCache;
  key: string;
  ttlSeconds: number;
  maxBytes: number;
  method: string;
  logger: Logger;
  load: () => Promise<{ result: unknown; cacheSeconds?: number }>;
}): Promise<{ result: T; cache: 'hit' | 'miss' }> {
  const cached = await input.cache.get(input.key);
  if (cached !== undefined) {
    try {
      return { result: parseTrytonJson(cached) as T, cache: 'hit' };
    } catch (error) {
      input.logger.warn(
        { err: error, method: input.method },
        'tryton cache: unreadable entry ignored',
      );
    }
  }
  const answer = await input.load();
  const keepSeconds = answer.cacheSeconds ?? input.ttlSeconds;
  if (keepSeconds > 0) {
    const text = stringifyTrytonJson(answer.result);
    if (Buffer.byteLength(text) <= input.maxBytes)
      await input.cache.set(input.key, text, keepSeconds);
  }
  return { result: answer.result as T, cache: 'miss' };
}
