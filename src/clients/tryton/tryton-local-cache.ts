/**
 * The in-process first level of the Tryton cache: answer texts this process has recently read
 * from or written to Redis, so a hit costs no Redis round trip. Redis stays the shared level
 * (every replica reads and fills it); this one only remembers, for a while, what Redis holds.
 *
 * Two bounds keep it honest:
 * - time: an entry never outlives the Redis entry it copies (its expiry is the Redis entry's
 *   remaining TTL as read with it, or the TTL it was written with, counted from before the
 *   write), and never lives longer than `maxAgeMs`, which bounds how long a replica may go on
 *   serving an entry Redis lost early (eviction, a flush);
 * - size: at most `maxEntries` entries and `maxBytes` bytes of answer text (UTF-8); the least
 *   recently used go first.
 *
 * Not here: Redis, hashing keys, deciding what to cache.
 */

export interface TrytonLocalCacheOptions {
  maxEntries: number;
  maxBytes: number;
  maxAgeMs: number;
  /** Monotonic clock in ms; `performance.now` by default. */
  nowMs?: () => number;
}

export interface TrytonLocalCacheStats {
  localEntries: number;
  localBytes: number;
}

export interface TrytonLocalCache {
  /** The text stored under `key`, unless it has expired. */
  get(key: string): string | undefined;
  /** Keeps `text` for at most `ttlMs` from now (and `maxAgeMs`); too large a text is not kept. */
  set(key: string, text: string, ttlMs: number): void;
  delete(key: string): void;
  stats(): TrytonLocalCacheStats;
}

interface Entry {
  text: string;
  bytes: number;
  expiresAtMs: number;
}

export function createTrytonLocalCache(options: TrytonLocalCacheOptions): TrytonLocalCache {
  const nowMs = options.nowMs ?? (() => performance.now());
  // A Map iterates in insertion order: re-inserting on each hit keeps the least recently used
  // first, where eviction looks.
  const entries = new Map<string, Entry>();
  let totalBytes = 0;

  const remove = (key: string, entry: Entry) => {
    entries.delete(key);
    totalBytes -= entry.bytes;
  };

  return {
    get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      entries.delete(key);
      if (nowMs() >= entry.expiresAtMs) {
        totalBytes -= entry.bytes;
        return undefined;
      }
      entries.set(key, entry);
      return entry.text;
    },
    set(key, text, ttlMs) {
      const old = entries.get(key);
      if (old !== undefined) remove(key, old);
      const bytes = Buffer.byteLength(text);
      const keepMs = Math.min(ttlMs, options.maxAgeMs);
      if (keepMs <= 0 || bytes > options.maxBytes || options.maxEntries <= 0) return;
      entries.set(key, { text, bytes, expiresAtMs: nowMs() + keepMs });
      totalBytes += bytes;
      for (const [oldestKey, oldest] of entries) {
        if (entries.size <= options.maxEntries && totalBytes <= options.maxBytes) break;
        remove(oldestKey, oldest);
      }
    },
    delete(key) {
      const entry = entries.get(key);
      if (entry !== undefined) remove(key, entry);
    },
    stats() {
      return { localEntries: entries.size, localBytes: totalBytes };
    },
  };
}
