/**
 * The Redis cache of Tryton answers, on its own ioredis connection, with an in-process first
 * level in front (tryton-local-cache): a hit there costs no Redis round trip, and each of its
 * entries expires no later than the Redis entry it copies.
 *
 * The cache is bounded whatever its callers do — they choose the params, the context included,
 * so each call may make a new key, and trytond may ask for a day (`X-Tryton-Cache: 86400`):
 * - no entry lives longer than `maxTtlSeconds`;
 * - its entries in Redis stay within a budget (`maxEntries`, `maxTotalBytes`) shared by every
 *   process writing to the same prefix: a Lua script writes each entry and, in the same atomic
 *   step, forgets the expired ones and evicts the soonest to expire until the new one fits. Its
 *   bookkeeping (an index of expiry times, entry sizes, a byte total) shares one hash slot with
 *   the entries, for Redis Cluster, and expires after the longest entry could. On an evicting
 *   Redis, eviction may take bookkeeping too, and the budget undercounts until the entries it
 *   lost track of expire; there Redis's own maxmemory bounds the cache, and where nothing is
 *   evicted (noeviction, when allowed) the budget is exact;
 * - it writes nothing to a Redis whose `maxmemory-policy` is `noeviction` (or cannot be read),
 *   unless `allowNoEviction`: that is what a queue's Redis must run with, and a full one refuses
 *   the queue's writes. It warns once per connection instead.
 *
 * A cache must never make a call fail or hang: every command has a short timeout, nothing is
 * queued while Redis is away (`enableOfflineQueue: false`), and every Redis failure turns into
 * a miss (or a skipped write) plus a rate-limited warning. Hits, misses and errors are counted
 * for metrics. What `get` returns is always JSON that decodes as Tryton values (an unreadable
 * Redis entry is a miss), so callers may send it as it is.
 *
 * Not here: what to cache and for how long (the client's `cachedCall` decides), and the key's
 * contents beyond hashing them (see {@link TrytonCache.keyFor}).
 */
import { createHash } from 'node:crypto';
import { Redis, type ClientContext, type Result } from 'ioredis';
import type { Logger } from '../../lib/logger.js';
import { endRedis } from '../../lib/end-redis.js';
import { encodeTrytonValue, parseTrytonJson, stringifyTrytonJson } from './tryton-codec.js';
import {
  createTrytonLocalCache,
  type TrytonLocalCacheOptions,
  type TrytonLocalCacheStats,
} from './tryton-local-cache.js';

export interface TrytonCacheOptions {
  /** Redis URL (`CACHE_REDIS_URL`). Never logged: it may hold a password. */
  redisUrl: string;
  /** Prefix of every key, e.g. `erp-bridge:tryton:`; the budget is shared per prefix. */
  keyPrefix?: string;
  /** Longest an entry lives, whatever its writer asks (default 3,600 s). */
  maxTtlSeconds?: number;
  /** Most entries, and bytes of entries, the prefix holds in Redis (defaults 10,000, 64 MiB). */
  maxEntries?: number;
  maxTotalBytes?: number;
  /** Whether to write to a Redis whose maxmemory-policy is noeviction; default false. */
  allowNoEviction?: boolean;
  logger: Logger;
  /** Upper bound of one Redis command; past it the call goes on uncached. */
  commandTimeoutMs?: number;
  /** At most one warning per this interval while Redis keeps failing. */
  warnIntervalMs?: number;
  /**
   * Bounds of the in-process first level (defaults: 2,000 entries, 32 MiB, 10 s), or `false`
   * for none. Its clock (`nowMs`, monotonic) is injectable for tests.
   */
  local?: Partial<TrytonLocalCacheOptions> | false;
}

export interface TrytonCacheStats extends TrytonLocalCacheStats {
  /** Hits on either level; `localHits` of them cost no Redis command. */
  hits: number;
  localHits: number;
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
  /**
   * The cached text (JSON of Tryton values), or undefined on a miss or when Redis fails. Never
   * rejects.
   */
  get(key: string): Promise<string | undefined>;
  /**
   * Stores the text (JSON of Tryton values) for `ttlSeconds`. Never rejects; a failure is
   * counted and warned about, and the text is then not kept in the first level either.
   */
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

// v2: entries carry the `{c}` hash tag of the budget's bookkeeping.
const KEY_VERSION = 'v2';
const LOCAL_DEFAULTS = { maxEntries: 2_000, maxBytes: 32 * 1024 * 1024, maxAgeMs: 10_000 };
const DEFAULT_BOUNDS = {
  maxTtlSeconds: 3_600,
  maxEntries: 10_000,
  maxTotalBytes: 64 * 1024 * 1024,
};
/** The bookkeeping outlives the longest entry by this much, then goes with the last of them. */
const BOOKKEEPING_MARGIN_MS = 60_000;

/**
 * Writes one entry within the budget, atomically. Expiry times are Redis's own clock (`TIME`),
 * so replicas' clocks never disagree about what has expired.
 * KEYS: entry, index (sorted set: entry key → expiry ms), sizes (hash: entry key → bytes), total.
 * ARGV: value, ttl ms, max entries, max total bytes, bookkeeping ttl ms. Returns 1, or 0 when the
 * value alone is over the byte budget.
 */
const BUDGETED_SET = `
local entry, index, sizes, totalKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local value, ttl = ARGV[1], tonumber(ARGV[2])
local maxEntries, maxBytes, keep = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local size = string.len(value)
if size > maxBytes then return 0 end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local total = tonumber(redis.call('GET', totalKey) or '0')
local function forget(key)
  total = total - tonumber(redis.call('HGET', sizes, key) or '0')
  redis.call('HDEL', sizes, key)
  redis.call('ZREM', index, key)
end
for _, key in ipairs(redis.call('ZRANGEBYSCORE', index, '-inf', now)) do forget(key) end
if redis.call('ZSCORE', index, entry) then forget(entry) end
if total < 0 then total = 0 end
while redis.call('ZCARD', index) >= maxEntries or total + size > maxBytes do
  local soonest = redis.call('ZRANGE', index, 0, 0)[1]
  if not soonest then break end
  redis.call('DEL', soonest)
  forget(soonest)
end
redis.call('SET', entry, value, 'PX', ttl)
redis.call('ZADD', index, now + ttl, entry)
redis.call('HSET', sizes, entry, size)
redis.call('SET', totalKey, total + size, 'PX', keep)
redis.call('PEXPIRE', index, keep)
redis.call('PEXPIRE', sizes, keep)
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    /** {@link BUDGETED_SET}, defined on the cache's connection. */
    trytonCacheSet(
      entry: string,
      index: string,
      sizes: string,
      total: string,
      value: string,
      ttlMs: number,
      maxEntries: number,
      maxTotalBytes: number,
      keepMs: number,
    ): Result<number, Context>;
  }
}

/** `maxmemory_policy` of `INFO memory`, or undefined when the answer does not say. */
function maxMemoryPolicy(info: string): string | undefined {
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
}

export function createTrytonCache(options: TrytonCacheOptions): TrytonCache {
  const keyPrefix = options.keyPrefix ?? 'erp-bridge:tryton-cache:';
  const { maxTtlSeconds, maxEntries, maxTotalBytes } = { ...DEFAULT_BOUNDS, ...options };
  // `{c}`: the entries and their bookkeeping share a hash slot (the script touches all of them).
  const slot = `${keyPrefix}{c}:`;
  const budget = { index: `${slot}index`, sizes: `${slot}sizes`, total: `${slot}bytes` };
  const commandTimeoutMs = options.commandTimeoutMs ?? 500;
  const warnIntervalMs = options.warnIntervalMs ?? 30_000;
  const log = options.logger;
  const counters = { hits: 0, localHits: 0, misses: 0, errors: 0, writes: 0 };
  const nowMs =
    (options.local === false ? undefined : options.local?.nowMs) ?? (() => performance.now());
  const local =
    options.local === false
      ? undefined
      : createTrytonLocalCache({ ...LOCAL_DEFAULTS, ...options.local, nowMs });
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

  redis.defineCommand('trytonCacheSet', { numberOfKeys: 4, lua: BUDGETED_SET });

  /** Whether this Redis may hold the cache: not a noeviction one unless the operator says so. */
  async function checkPolicy(): Promise<boolean> {
    if (options.allowNoEviction) return true;
    let policy: string | undefined;
    try {
      policy = maxMemoryPolicy(await redis.info('memory'));
    } catch (error) {
      log.debug({ err: error }, 'tryton cache: INFO memory failed');
    }
    if (policy !== undefined && policy !== 'noeviction') return true;
    log.warn(
      { maxmemoryPolicy: policy ?? 'unknown' },
      policy === undefined
        ? "tryton cache: cannot read this Redis's maxmemory-policy, so it caches nothing; give CACHE_REDIS_URL a Redis with an evicting policy, or set TRYTON_CACHE_ALLOW_NOEVICTION=true"
        : 'tryton cache: this Redis runs with maxmemory-policy noeviction (a queue Redis must), so it caches nothing: a full one would refuse the queues their writes. Give CACHE_REDIS_URL a Redis with an evicting policy (allkeys-lru), or set TRYTON_CACHE_ALLOW_NOEVICTION=true',
    );
    return false;
  }
  let usable: Promise<boolean> = Promise.resolve(false);

  // Without a listener ioredis reports connection errors as unhandled 'error' events.
  redis.on('error', (error: unknown) => warn('redis connection', error));
  // Registered before any `connected()` waits, so `usable` is the new connection's by then.
  redis.on('ready', () => {
    everReady = true;
    usable = checkPolicy();
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
      return `${slot}${KEY_VERSION}:${hash}`;
    },
    async get(key) {
      const kept = local?.get(key);
      if (kept !== undefined) {
        counters.hits += 1;
        counters.localHits += 1;
        return kept;
      }
      try {
        if (!(await connected())) throw new Error(`redis is ${redis.status}`);
        if (!(await usable)) {
          counters.misses += 1;
          return undefined;
        }
        // Sent before either command, so sentAtMs + the remaining TTL is no later than Redis's
        // own expiry. Auto-pipelined: both commands go in one write.
        const sentAtMs = nowMs();
        const [value, remainingMs] = await Promise.all([redis.get(key), redis.pttl(key)]);
        if (value === null) {
          counters.misses += 1;
          return undefined;
        }
        try {
          parseTrytonJson(value);
        } catch (error) {
          log.warn({ err: error }, 'tryton cache: unreadable entry ignored');
          counters.misses += 1;
          return undefined;
        }
        counters.hits += 1;
        // -1: no expiry in Redis (set by hand); -2: expired between the two commands.
        if (remainingMs !== -2)
          local?.set(
            key,
            value,
            remainingMs === -1 ? Number.POSITIVE_INFINITY : sentAtMs + remainingMs - nowMs(),
          );
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
        if (!(await usable)) return;
        const ttlMs = Math.min(maxTtlSeconds, Math.max(1, Math.ceil(ttlSeconds))) * 1_000;
        // Redis starts the TTL when the script runs, after this instant.
        const sentAtMs = nowMs();
        const kept = await redis.trytonCacheSet(
          key,
          budget.index,
          budget.sizes,
          budget.total,
          value,
          ttlMs,
          maxEntries,
          maxTotalBytes,
          maxTtlSeconds * 1_000 + BOOKKEEPING_MARGIN_MS,
        );
        if (kept !== 1) return;
        counters.writes += 1;
        local?.set(key, value, sentAtMs + ttlMs - nowMs());
      } catch (error) {
        counters.errors += 1;
        warn('write', error);
      }
    },
    stats() {
      return { ...counters, ...(local?.stats() ?? { localEntries: 0, localBytes: 0 }) };
    },
    close: () => endRedis(redis),
  };
}

interface ReadThroughInput {
  cache: TrytonCache;
  key: string;
  ttlSeconds: number;
  maxBytes: number;
  load: () => Promise<{ result: unknown; cacheSeconds?: number }>;
}

/**
 * Keeps an answer's text for the server's `X-Tryton-Cache` seconds or `ttlSeconds` — unless it is
 * over `maxBytes`: a large answer would crowd the cache out for one caller; it is served, not kept.
 */
async function keep(input: ReadThroughInput, keepSeconds: number, text: string): Promise<void> {
  if (keepSeconds > 0 && Buffer.byteLength(text) <= input.maxBytes)
    await input.cache.set(input.key, text, keepSeconds);
}

/**
 * A read through the cache: the stored answer when there is one, else `load()`, kept as
 * {@link keep} says.
 */
export async function readThrough<T>(
  input: ReadThroughInput,
): Promise<{ result: T; cache: 'hit' | 'miss' }> {
  const cached = await input.cache.get(input.key);
  if (cached !== undefined) return { result: parseTrytonJson(cached) as T, cache: 'hit' };
  const answer = await input.load();
  const keepSeconds = answer.cacheSeconds ?? input.ttlSeconds;
  if (keepSeconds > 0) await keep(input, keepSeconds, stringifyTrytonJson(answer.result));
  return { result: answer.result as T, cache: 'miss' };
}

/**
 * {@link readThrough} answering the result as JSON text in Tryton's `__class__` shapes: a hit is
 * the stored text itself, never parsed and encoded again.
 */
export async function readThroughJson(
  input: ReadThroughInput,
): Promise<{ json: string; cache: 'hit' | 'miss' }> {
  const cached = await input.cache.get(input.key);
  if (cached !== undefined) return { json: cached, cache: 'hit' };
  const answer = await input.load();
  const json = stringifyTrytonJson(answer.result);
  await keep(input, answer.cacheSeconds ?? input.ttlSeconds, json);
  return { json, cache: 'miss' };
}
