/**
 * ioredis connections for BullMQ, configured as its production guide asks: workers wait for
 * Redis forever (`maxRetriesPerRequest: null`); producers inside HTTP handlers fail fast instead
 * of queueing commands while Redis is away. The API's rate limiter has a connection of its own:
 * it fails fast too, and sends the counts of concurrent requests in one write (auto-pipelining),
 * since it makes a round trip on every request.
 *
 * With Redis Sentinel (REDIS_SENTINELS), a connection asks the sentinels for the primary, and
 * asks again when it loses it: a failover moves every connection to the new primary. The URL
 * still gives the credentials, the database and TLS.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../lib/logger.js';

export type ConnectionRole = 'worker' | 'producer' | 'rate-limit';

/** The queues' Redis found through Redis Sentinel (REDIS_SENTINELS). */
export interface RedisSentinel {
  readonly sentinels: readonly { readonly host: string; readonly port: number }[];
  /** The name the sentinels monitor the primary under. */
  readonly name: string;
  readonly password?: string;
}

/** ioredis's options that find the primary through the sentinels; none without them. */
export function sentinelOptions(sentinel: RedisSentinel | undefined): RedisOptions {
  return sentinel
    ? {
        sentinels: [...sentinel.sentinels],
        name: sentinel.name,
        ...(sentinel.password ? { sentinelPassword: sentinel.password } : {}),
      }
    : {};
}

export function createRedisConnection(
  url: string,
  role: ConnectionRole,
  logger: Logger,
  sentinel?: RedisSentinel,
): Redis {
  const connection = new Redis(url, {
    ...sentinelOptions(sentinel),
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    enableOfflineQueue: role === 'worker',
    connectionName: `erp-bridge-${role}`,
    // Kept off BullMQ's connections: its transactions and blocking commands are not batched.
    enableAutoPipelining: role === 'rate-limit',
  });
  let lastReportMs = 0;
  connection.on('error', (error: Error) => {
    // A Redis outage emits an error per reconnect attempt; one line every few seconds is enough.
    const now = Date.now();
    if (now - lastReportMs > 5_000) {
      lastReportMs = now;
      logger.warn({ err: error, role }, 'redis connection error');
    }
  });
  return connection;
}
