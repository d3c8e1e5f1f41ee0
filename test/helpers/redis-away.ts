/**
 * A Redis that is away, for tests of what goes on without it: a connection to a port nothing
 * listens on (127.0.0.1:1) that fails at once and never retries, and queues on it.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createQueues, type Queues } from '../../src/queues/queues.js';
import { redisQueues } from '../../src/stores/queue-store.js';
import { memoryLogger } from './test-app.js';

export interface RedisAway {
  readonly redis: Redis;
  readonly queues: Queues;
  close(): Promise<void>;
}

export function redisAway(): RedisAway {
  const redis = new Redis('redis://127.0.0.1:1', {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    lazyConnect: true,
    retryStrategy: () => null,
  });
  const queues = createQueues({
    logger: memoryLogger('fatal').logger,
    backend: redisQueues(redis, `dead-${randomBytes(4).toString('hex')}`),
    settings: { attempts: 1, backoffMs: 10 },
  });
  return {
    redis,
    queues,
    async close() {
      await queues.close().catch(() => undefined);
      redis.disconnect();
    },
  };
}
