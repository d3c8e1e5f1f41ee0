/**
 * Redis's part of the configuration (REDIS_*, CACHE_REDIS_URL, QUEUE_PREFIX): where the queues,
 * the call budget and the Tryton cache are — one server, the primary Redis Sentinel watches, or a
 * Redis Cluster — and the rules between those keys.
 */
import type { RedisCluster, RedisSentinel } from '../stores/redis-connection.js';
import { envSchema, type Env } from './env-schema.js';

export interface RedisConfig {
  readonly url?: string;
  readonly cacheUrl?: string;
  /** Whether the Tryton cache's Redis is the queue's: the same server and database. */
  readonly cacheSharesQueue: boolean;
  readonly queuePrefix: string;
  /** REDIS_LIVENESS_TIMEOUT_MS (workers/liveness.ts). */
  readonly livenessTimeoutMs: number;
  /** REDIS_SENTINELS and their master: the queues' Redis found through Redis Sentinel. */
  readonly sentinel?: RedisSentinel;
  /** REDIS_CLUSTER_NODES: the queues on a Redis Cluster (never with `sentinel`). */
  readonly cluster?: RedisCluster;
}

export function redisConfigFrom(env: Env): RedisConfig {
  const onCluster = env.REDIS_CLUSTER_NODES.length > 0;
  return {
    url: env.REDIS_URL,
    // A Cluster's client cannot hold the Tryton cache (tryton-cache.ts opens one server): the
    // cache is on CACHE_REDIS_URL or off (README, "Operations", Redis Cluster).
    ...(onCluster
      ? { cacheUrl: env.CACHE_REDIS_URL, cacheSharesQueue: false }
      : {
          cacheUrl: env.CACHE_REDIS_URL ?? env.REDIS_URL,
          cacheSharesQueue:
            env.CACHE_REDIS_URL === undefined ||
            (env.REDIS_URL !== undefined && sameRedis(env.CACHE_REDIS_URL, env.REDIS_URL)),
        }),
    queuePrefix: env.QUEUE_PREFIX,
    livenessTimeoutMs: env.REDIS_LIVENESS_TIMEOUT_MS,
    ...(env.REDIS_SENTINELS.length > 0
      ? {
          sentinel: {
            sentinels: env.REDIS_SENTINELS,
            name: env.REDIS_SENTINEL_MASTER,
            ...(env.REDIS_SENTINEL_PASSWORD ? { password: env.REDIS_SENTINEL_PASSWORD } : {}),
          },
        }
      : {}),
    ...(onCluster ? { cluster: { nodes: env.REDIS_CLUSTER_NODES } } : {}),
  };
}

/** The rules between the keys of a Redis Cluster, each broken one named. */
export function checkRedisTopology(
  env: Readonly<Record<string, string | undefined>>,
  problems: { key: string; message: string }[],
): void {
  const { shape } = envSchema;
  const nodes = shape.REDIS_CLUSTER_NODES.safeParse(env.REDIS_CLUSTER_NODES);
  if (!nodes.success || nodes.data.length === 0) return;
  const sentinels = shape.REDIS_SENTINELS.safeParse(env.REDIS_SENTINELS);
  if (sentinels.success && sentinels.data.length > 0)
    problems.push({
      key: 'REDIS_CLUSTER_NODES',
      message:
        'cannot be set with REDIS_SENTINELS: the queues are on a Redis Cluster or on the primary the sentinels watch, not both',
    });
  const prefix = shape.QUEUE_PREFIX.safeParse(env.QUEUE_PREFIX);
  if (prefix.success && !hasHashTag(prefix.data))
    problems.push({
      key: 'QUEUE_PREFIX',
      message:
        "must hold a hash tag ({...}, as the default {erp-bridge} does) with REDIS_CLUSTER_NODES: BullMQ's scripts need all of a queue's keys in one slot",
    });
  const url = shape.REDIS_URL.safeParse(env.REDIS_URL);
  if (url.success && url.data !== undefined && databaseOf(url.data) !== 0)
    problems.push({
      key: 'REDIS_URL',
      message:
        'must name database 0, or none, with REDIS_CLUSTER_NODES: a Redis Cluster has no other',
    });
}

/**
 * Whether keys that start with `prefix` hash by a tag of it, as Redis Cluster reads one: the
 * text between the first `{` and the first `}` after it, when not empty.
 */
function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  return open >= 0 && prefix.indexOf('}', open + 1) > open + 1;
}

/** The database a Redis URL names (its path), 0 when none. */
function databaseOf(url: string): number {
  return Number(new URL(url).pathname.slice(1) || '0');
}

/** Whether two Redis URLs name the same server and database, whatever their credentials. */
function sameRedis(a: string, b: string): boolean {
  const where = (text: string) => {
    const url = new URL(text);
    return `${url.protocol}//${url.hostname.toLowerCase()}:${url.port || '6379'}/${databaseOf(text)}`;
  };
  return where(a) === where(b);
}
