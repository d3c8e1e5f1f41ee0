import { describe, expect, it } from 'vitest';
import { createTrytonLocalCache } from './tryton-local-cache.js';

function cacheWithClock(bounds: { maxEntries?: number; maxBytes?: number; maxAgeMs?: number }) {
  const clock = { nowMs: 1_000 };
  const cache = createTrytonLocalCache({
    maxEntries: 100,
    maxBytes: 1_000,
    maxAgeMs: 60_000,
    ...bounds,
    nowMs: () => clock.nowMs,
  });
  return { cache, clock };
}

describe('createTrytonLocalCache', () => {
  it('serves an entry until its TTL has run out, not a millisecond longer', () => {
    const { cache, clock } = cacheWithClock({});
    cache.set('k', '[1]', 500);
    clock.nowMs += 499;
    expect(cache.get('k')).toBe('[1]');
    clock.nowMs += 1;
    expect(cache.get('k')).toBeUndefined();
    expect(cache.stats()).toEqual({ localEntries: 0, localBytes: 0 });
  });

  it('never keeps an entry longer than maxAgeMs, whatever its TTL', () => {
    const { cache, clock } = cacheWithClock({ maxAgeMs: 100 });
    cache.set('k', '[1]', Number.POSITIVE_INFINITY);
    clock.nowMs += 100;
    expect(cache.get('k')).toBeUndefined();
  });

  it('keeps nothing with a TTL already run out', () => {
    const { cache } = cacheWithClock({});
    cache.set('k', '[1]', 0);
    cache.set('j', '[1]', -5);
    expect(cache.stats().localEntries).toBe(0);
  });

  it('evicts the least recently used entry beyond maxEntries', () => {
    const { cache } = cacheWithClock({ maxEntries: 2 });
    cache.set('a', '1', 1_000);
    cache.set('b', '2', 1_000);
    expect(cache.get('a')).toBe('1');
    cache.set('c', '3', 1_000);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe('1');
    expect(cache.get('c')).toBe('3');
    expect(cache.stats().localEntries).toBe(2);
  });

  it('evicts beyond maxBytes (UTF-8), and never keeps a text larger than maxBytes', () => {
    const { cache } = cacheWithClock({ maxBytes: 10 });
    cache.set('a', '"éé"', 1_000);
    cache.set('b', '"xx"', 1_000);
    expect(cache.stats()).toEqual({ localEntries: 2, localBytes: 10 });
    cache.set('c', '"y"', 1_000);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.stats()).toEqual({ localEntries: 2, localBytes: 7 });
    cache.set('big', '"0123456789"', 1_000);
    expect(cache.get('big')).toBeUndefined();
    expect(cache.stats()).toEqual({ localEntries: 2, localBytes: 7 });
  });

  it('replaces an entry (and its size) when set again, and forgets a deleted one', () => {
    const { cache } = cacheWithClock({});
    cache.set('a', '[1,2,3]', 1_000);
    cache.set('a', '[1]', 1_000);
    expect(cache.get('a')).toBe('[1]');
    expect(cache.stats()).toEqual({ localEntries: 1, localBytes: 3 });
    cache.delete('a');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.stats()).toEqual({ localEntries: 0, localBytes: 0 });
  });
});
