import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { openQueueRedis, type QueueRedis } from './redis-connection.js';

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
