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

describe("the queues store's workers on Redis", () => {
  it('wait on a connection that holds none of BullMQ scripts, and run their jobs', async () => {
    const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    const prefix = `blocking-test-${process.pid}`;
    const store = redisQueues(redis, prefix);
    const queue = store.queue('sync');
    const worker = store.worker(
      'sync',
      (job) => Promise.resolve((job.data as { n: number }).n * 2),
      {
        concurrency: 1,
      },
    );
    try {
      const completed = new Promise<unknown>((resolve) =>
        worker.on('completed', (_job, result) => resolve(result)),
      );
      await queue.add('double', { n: 21 });
      expect(await completed).toBe(42);

      const scriptsOf = (client: object) =>
        Object.keys((client as { scriptsSet: Record<string, unknown> }).scriptsSet);
      // The worker's regular connection runs the scripts; its blocking one only waits.
      expect(scriptsOf(redis).length).toBeGreaterThan(10);
      expect(scriptsOf(await worker.getBackend().blockingClient!)).toEqual([]);
    } finally {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await redis.quit();
    }
  });
});
