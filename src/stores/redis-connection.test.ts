import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { duplicateQueueRedis, openQueueRedis, type QueueRedis } from './redis-connection.js';

function clusterOf(redis: QueueRedis): Cluster {
  if (!(redis instanceof Cluster)) throw new Error('expected a Cluster client');
  return redis;
}

describe('openQueueRedis', () => {
  const cluster = { nodes: [{ host: 'redis-a', port: 7001 }] };

  it("gives each node of a Cluster REDIS_URL's credentials and TLS, and nothing of its host", () => {
    const redis = clusterOf(
      openQueueRedis(
        'rediss://bridge:p%40ss@unused:6379/0',
        { lazyConnect: true, maxRetriesPerRequest: null, connectionName: 'erp-bridge-worker' },
        { cluster },
      ),
    );
    const { options } = redis;
    expect(options.redisOptions).toEqual({
      username: 'bridge',
      password: 'p@ss',
      tls: {},
      // BullMQ reads a Cluster's blocking options here.
      maxRetriesPerRequest: null,
      connectionName: 'erp-bridge-worker',
    });
    expect(options.lazyConnect).toBe(true);
    redis.disconnect();
  });

  it("keeps the Cluster's own switches on the Cluster, the rest on its nodes, and fails fast", () => {
    const stop = () => null;
    const redis = clusterOf(
      openQueueRedis(
        'redis://unused:6379',
        {
          lazyConnect: true,
          enableOfflineQueue: false,
          enableAutoPipelining: true,
          retryStrategy: stop,
          connectTimeout: 2_000,
        },
        { cluster },
      ),
    );
    expect(redis.options).toMatchObject({
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      clusterRetryStrategy: stop,
      // Fails fast as a server's client without an offline queue does.
      maxRedirections: 3,
      retryDelayOnClusterDown: 0,
      redisOptions: { connectTimeout: 2_000 },
    });
    expect(redis.options.redisOptions).not.toHaveProperty('enableOfflineQueue');
    redis.disconnect();
  });

  it('opens one server without a Cluster', () => {
    const redis = openQueueRedis('redis://unused:6379', { lazyConnect: true });
    expect(redis).toBeInstanceOf(Redis);
    redis.disconnect();
  });
});

describe('duplicateQueueRedis', () => {
  /** A producer's options: it fails fast (src/queues/redis-connection.ts, createRedisConnection). */
  const failFast = { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false };

  it("waits for Redis when its original, a producer's, fails fast: BullMQ's events block on it", () => {
    const producer = openQueueRedis('redis://unused:6379', failFast);
    const reader = duplicateQueueRedis(producer);
    expect(reader.options).toMatchObject({ maxRetriesPerRequest: null, enableOfflineQueue: true });
    expect(producer.options).toMatchObject({ maxRetriesPerRequest: 1, enableOfflineQueue: false });
    reader.disconnect();
    producer.disconnect();
  });

  it("does so on a Cluster too, keeping the nodes' credentials", () => {
    const producer = clusterOf(
      openQueueRedis('redis://bridge:secret@unused:6379', failFast, {
        cluster: { nodes: [{ host: 'redis-a', port: 7001 }] },
      }),
    );
    const reader = clusterOf(duplicateQueueRedis(producer));
    expect(reader.options).toMatchObject({
      enableOfflineQueue: true,
      maxRedirections: 16,
      retryDelayOnClusterDown: 100,
      redisOptions: { username: 'bridge', password: 'secret', maxRetriesPerRequest: null },
    });
    reader.disconnect();
    producer.disconnect();
  });
});
