/**
 * ioredis connections for BullMQ, configured as its production guide asks: workers wait for
 * Redis forever (`maxRetriesPerRequest: null`); producers inside HTTP handlers fail fast instead
 * of queueing commands while Redis is away. The API's rate limiter has a connection of its own:
 * it fails fast too, and sends the counts of concurrent requests in one write (auto-pipelining),
 * since it makes a round trip on every request.
 *
 * With Redis Sentinel (REDIS_SENTINELS), a connection asks the sentinels for the primary, and
 * asks again when it loses it: a failover moves every connection to the new primary. The URL
 * still gives the credentials, the database and TLS: with `rediss:`, the sentinels are spoken to
 * over TLS as well as the primary (ioredis would otherwise talk to both in clear, passwords and
 * all, whatever the URL says).
 *
 * With Redis Cluster (REDIS_CLUSTER_NODES), a connection is an ioredis `Cluster` over those
 * nodes: it learns the others and the slots from them, and follows the slots as they move. Every
 * key erp-bridge writes carries the queue prefix's hash tag, so that BullMQ's scripts and ours
 * find all their keys in one slot. The URL then gives only the credentials and TLS: a Cluster has
 * one database, and its nodes say where they are.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from '../lib/logger.js';

export type ConnectionRole = 'worker' | 'producer' | 'rate-limit';

/** A connection to the queues' Redis: one server (found through the sentinels), or a Cluster. */
export type QueueRedis = Redis | Cluster;

/** The queues' Redis found through Redis Sentinel (REDIS_SENTINELS). */
export interface RedisSentinel {
  readonly sentinels: readonly { readonly host: string; readonly port: number }[];
  /** The name the sentinels monitor the primary under. */
  readonly name: string;
  readonly password?: string;
}

/** The queues on a Redis Cluster (REDIS_CLUSTER_NODES). */
export interface RedisCluster {
  /** Where a client asks for the cluster's nodes and slots first; any one answering will do. */
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
}

/** Where the queues' Redis is besides REDIS_URL: through sentinels, or a Cluster (never both). */
export interface RedisTopology {
  readonly sentinel?: RedisSentinel | undefined;
  readonly cluster?: RedisCluster | undefined;
}

/**
 * ioredis's options that find the primary through the sentinels; none without them. With a
 * `rediss:` URL, TLS to the primary and to the sentinels: ioredis applies the URL's TLS to
 * neither by itself once it has sentinels (`enableTLSForSentinelMode`, `sentinelTLS`). The
 * certificates are checked against the process's trusted authorities (NODE_EXTRA_CA_CERTS adds
 * a private one).
 */
export function sentinelOptions(sentinel: RedisSentinel | undefined, url: string): RedisOptions {
  if (!sentinel) return {};
  const tls = new URL(url).protocol === 'rediss:';
  return {
    sentinels: [...sentinel.sentinels],
    name: sentinel.name,
    ...(sentinel.password ? { sentinelPassword: sentinel.password } : {}),
    ...(tls ? { tls: {}, enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
  };
}

/** What REDIS_URL gives each node of a Cluster: its credentials and TLS (`rediss:`). */
function clusterNodeOptions(url: string): NonNullable<ClusterOptions['redisOptions']> {
  const parsed = new URL(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * How a Cluster client without an offline queue fails fast. Without it, a command whose slot's
 * node is away is retried every 100 ms up to 16 times, and one the cluster refuses while it is
 * down (CLUSTERDOWN) likewise: each request of the API waited 1.7 s on its rate limiter, and a
 * webhook 3.4 s, while the node of the queues' slot was down. Three tries still ride out a node
 * connection that is opening (the Cluster refuses to queue a command on it) and a slot that moved.
 */
const FAIL_FAST_CLUSTER = { maxRedirections: 3, retryDelayOnClusterDown: 0 } as const;

/** How a reader that blocks waits for Redis, whatever its original's role. */
const BLOCKING = { maxRetriesPerRequest: null, enableOfflineQueue: true } as const;
/** ioredis's own waits on a Cluster, which a fail-fast original overrode. */
const BLOCKING_CLUSTER = {
  enableOfflineQueue: true,
  maxRedirections: 16,
  retryDelayOnClusterDown: 100,
} as const;

/**
 * A client of the queues' Redis with `options`: REDIS_URL's server, or its primary through the
 * sentinels, or a Cluster over `topology.cluster`'s nodes. On a Cluster, the offline queue,
 * auto-pipelining, lazy connecting and the retry strategy are the Cluster's own (a node's
 * connection is the Cluster's to retry); every other option goes to each node's connection. A
 * client without an offline queue fails fast on a Cluster too ({@link FAIL_FAST_CLUSTER}).
 */
export function openQueueRedis(
  url: string,
  options: RedisOptions,
  topology: RedisTopology = {},
): QueueRedis {
  if (!topology.cluster)
    return new Redis(url, { ...sentinelOptions(topology.sentinel, url), ...options });
  const { enableOfflineQueue, enableAutoPipelining, lazyConnect, retryStrategy, ...perNode } =
    options;
  return new Cluster([...topology.cluster.nodes], {
    redisOptions: { ...perNode, ...clusterNodeOptions(url) },
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(enableOfflineQueue === false ? FAIL_FAST_CLUSTER : {}),
    ...(enableAutoPipelining === undefined ? {} : { enableAutoPipelining }),
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
    ...(retryStrategy === undefined ? {} : { clusterRetryStrategy: retryStrategy }),
  });
}

export function createRedisConnection(
  url: string,
  role: ConnectionRole,
  logger: Logger,
  topology?: RedisTopology,
): QueueRedis {
  const connection = openQueueRedis(
    url,
    {
      maxRetriesPerRequest: role === 'worker' ? null : 1,
      enableOfflineQueue: role === 'worker',
      connectionName: `erp-bridge-${role}`,
      // Kept off BullMQ's connections: its transactions and blocking commands are not batched.
      enableAutoPipelining: role === 'rate-limit',
    },
    topology,
  );
  let lastReportMs = 0;
  const report = (error: Error) => {
    // A Redis outage emits an error per reconnect attempt; one line every few seconds is enough.
    const now = Date.now();
    if (now - lastReportMs > 5_000) {
      lastReportMs = now;
      logger.warn({ err: error, role }, 'redis connection error');
    }
  };
  connection.on('error', report);
  // A Cluster reports a node's lost connection apart from its own.
  if (topology?.cluster) connection.on('node error', report);
  return connection;
}

/**
 * Another connection like `connection`, for a reader that blocks (QueueEvents): it waits for Redis
 * as a worker's does (BullMQ refuses a blocking connection that gives up on a command), whether
 * `connection` is a worker's or a producer's that fails fast.
 */
export function duplicateQueueRedis(connection: QueueRedis): QueueRedis {
  // Each class's own duplicate: a Cluster's keeps its nodes and its nodes' options.
  const duplicate =
    connection instanceof Cluster
      ? connection.duplicate([], {
          ...BLOCKING_CLUSTER,
          redisOptions: { ...connection.options.redisOptions, ...BLOCKING },
        })
      : connection.duplicate(BLOCKING);
  // Its reader (QueueEvents) reports its errors while it listens; before it does and after it
  // closed, a refusal the client retries by itself (a failover) would otherwise be printed by
  // ioredis as an unhandled error event.
  duplicate.on('error', () => undefined);
  return duplicate;
}

/**
 * Resolves when the queues' Redis answers: a read of a key under the queue prefix, so that on a
 * Cluster the node that holds the queues' slot answers (any node answers a PING, the one holding
 * the queues dead or not).
 */
export async function pingQueues(connection: QueueRedis, queuePrefix: string): Promise<void> {
  await connection.exists(`${queuePrefix}:ping`);
}
