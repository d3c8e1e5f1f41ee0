/**
 * What the queues' store answers for its kind (src/stores/queue-store.ts), that code outside the
 * stores room once branched on: Redis back from a disconnection is told (jobs queued on it may be
 * lost), its first connection is not.
 */
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { redisQueues } from '../../src/stores/queue-store.js';

describe('the queues store, back from a disconnection', () => {
  const opened: Redis[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((redis) => redis.quit()));
  });

  it('on Redis, tells each return after a lost connection, not the first connection', async () => {
    const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    opened.push(redis);
    const store = redisQueues(redis, 'back-test');
    let backs = 0;
    const stop = store.onBack(() => backs++);
    await once(redis, 'ready');
    expect(backs).toBe(0);

    redis.disconnect(true);
    await once(redis, 'ready');
    expect(backs).toBe(1);

    stop();
    redis.disconnect(true);
    await once(redis, 'ready');
    expect(backs).toBe(1);
  });
});
