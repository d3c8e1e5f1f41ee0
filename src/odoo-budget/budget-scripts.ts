/**
 * The call budget's two Redis scripts. Each runs atomically and reads Redis's own clock
 * (`TIME`), so processes on machines whose clocks differ still share one window and one pause.
 *
 * State, per Odoo (every key under one hash tag, for Redis Cluster):
 * - `in-flight`: a sorted set of the admitted attempts not yet released, scored by the end of
 *   their lease: an attempt of a process that died is dropped once its lease has run out;
 * - `recent`: a sorted set of the released attempts, scored by when they were released, kept one
 *   window (a second) after that;
 * - `pause`: a key that exists while the fleet pauses (its TTL is the pause left);
 * - `pause-level`: how many pauses followed one another, for the backoff when Odoo gives no
 *   `Retry-After`.
 *
 * Why a call counts against the rate from its admission until a window after its release, and
 * not only at its admission: the budget cannot see when a call reaches Odoo, only that it does so
 * after its admission and before its answer. Counting it over that whole span is what keeps every
 * one-second window *as Odoo sees it* within the bound, whatever the delays between a process and
 * Odoo (each late arrival is still counted when the next call is admitted).
 */
import { createHash } from 'node:crypto';
import type { QueueRedis } from '../stores/redis-connection.js';

/** Redis's clock in milliseconds, with its microseconds as the fraction. */
const NOW = `local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000`;

/**
 * KEYS: in-flight, recent, pause. ARGV: id, leaseMs, maxConcurrent, maxPerSecond, windowMs.
 * Returns `{1}` when admitted, else `{0, waitMs, reason}`: waitMs -1 when only a release can
 * make room (a call in flight), else how long until there is room.
 */
const ACQUIRE = `${NOW}
local lease = tonumber(ARGV[2])
local maxConcurrent = tonumber(ARGV[3])
local maxPerSecond = tonumber(ARGV[4])
local window = tonumber(ARGV[5])
local paused = redis.call('PTTL', KEYS[3])
if paused > 0 then return {0, paused, 'pause'} end
if maxConcurrent == 0 and maxPerSecond == 0 then return {1} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
local inFlight = redis.call('ZCARD', KEYS[1])
if maxConcurrent > 0 and inFlight >= maxConcurrent then return {0, -1, 'concurrency'} end
if maxPerSecond > 0 then
  local recent = redis.call('ZCARD', KEYS[2])
  local excess = inFlight + recent - maxPerSecond
  if excess >= 0 then
    if excess >= recent then return {0, -1, 'rate'} end
    local leaving = redis.call('ZRANGE', KEYS[2], excess, excess, 'WITHSCORES')
    return {0, math.ceil(tonumber(leaving[2]) + window - now), 'rate'}
  end
end
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease + window)
return {1}`;

/**
 * KEYS: in-flight, recent, pause, pause-level. ARGV: id, countsInWindow (0/1), status (0: no
 * pause asked), retryAfterMs (-1: none), baseMs, maxMs, retryAfterMaxMs, levelTtlMs, windowMs.
 * Returns the pause it set in milliseconds, or 0.
 *
 * A 429 or 503 met while a pause is on was sent before it began: it neither escalates the
 * backoff nor shortens the pause (a longer Retry-After lengthens it).
 */
const RELEASE = `${NOW}
local window = tonumber(ARGV[9])
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[2] == '1' then
  redis.call('ZADD', KEYS[2], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[2], window)
end
if ARGV[3] == '0' then return 0 end
local retryAfter = tonumber(ARGV[4])
local current = redis.call('PTTL', KEYS[3])
if current > 0 and (retryAfter < 0 or retryAfter <= current) then return 0 end
local pause
if retryAfter >= 0 then
  pause = math.min(retryAfter, tonumber(ARGV[7]))
else
  local level = math.min(redis.call('INCR', KEYS[4]), 30)
  pause = math.min(tonumber(ARGV[6]), tonumber(ARGV[5]) * 2 ^ (level - 1))
end
pause = math.floor(pause)
if pause <= 0 then return 0 end
redis.call('SET', KEYS[3], ARGV[3], 'PX', pause)
redis.call('PEXPIRE', KEYS[4], pause + tonumber(ARGV[8]))
return pause`;

/** A script sent by its digest, and in full once per Redis that does not know it yet. */
function script(source: string, keyCount: number) {
  const sha = createHash('sha1').update(source).digest('hex');
  return async (redis: QueueRedis, keys: readonly string[], args: readonly (string | number)[]) => {
    if (keys.length !== keyCount) throw new RangeError(`expected ${keyCount} keys`);
    try {
      return await redis.evalsha(sha, keyCount, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(source, keyCount, ...keys, ...args);
    }
  };
}

export const acquireScript = script(ACQUIRE, 3);
export const releaseScript = script(RELEASE, 4);
