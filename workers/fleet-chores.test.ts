import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { bcsFamily } from '../src/families/bcs/family.js';
import { FEED_SCHEDULER_IDS, schedulerIds } from '../src/queues/catalogue.js';
import { upsertFeedSchedules } from '../src/queues/feed-schedules.js';
import { createQueues, type Queues } from '../src/queues/queues.js';
import { upsertSchedules } from '../src/queues/schedules.js';
import { redisQueues } from '../src/stores/queue-store.js';
import { memoryLogger } from '../test/helpers/test-app.js';
import { createTestDb, type TestDb } from '../test/helpers/test-db.js';
import { startFleetChores } from './fleet-chores.js';

const SCHEDULE = { everyMs: 3_600_000, reconcileCron: '0 3 * * *' };

describe('the fleet chores: schedulers a Redis lost', () => {
  let db: TestDb;
  let redis: Redis;
  let queues: Queues;

  beforeAll(async () => {
    db = await createTestDb();
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    const { logger } = memoryLogger('silent');
    queues = createQueues({
      backend: redisQueues(redis, `chores-${randomBytes(4).toString('hex')}`),
      settings: { attempts: 1, backoffMs: 10 },
      logger,
    });
  });
  afterAll(async () => {
    await Promise.all(queues.all.map((queue) => queue.obliterate({ force: true })));
    await queues.close();
    await redis.quit();
    await db.dispose();
  });

  it('are made again as soon as the queues’ store is back, with a warning', async () => {
    const families = [bcsFamily];
    await upsertSchedules(queues, db.db, families, SCHEDULE);
    await upsertFeedSchedules(queues);
    const { logger, lines } = memoryLogger('info');
    let storeBack: (() => void) | undefined;
    const chores = startFleetChores({
      db: db.db,
      queues,
      families,
      schedule: SCHEDULE,
      subscriptions: [],
      logger,
      onStoreBack: (listener) => {
        storeBack = listener;
        return () => (storeBack = undefined);
      },
    });
    try {
      // The store came back without them (a Redis, or a Cluster's node, restarted empty).
      const feed = queues.byName.feed;
      await feed.removeJobScheduler(FEED_SCHEDULER_IDS.pump);
      await queues.byName.sync.removeJobScheduler(schedulerIds(bcsFamily.name).sync);
      storeBack!();
      await vi.waitFor(
        async () => {
          expect(await feed.getJobScheduler(FEED_SCHEDULER_IDS.pump)).toMatchObject({
            every: 10_000,
          });
          expect(
            await queues.byName.sync.getJobScheduler(schedulerIds(bcsFamily.name).sync),
          ).toMatchObject({ every: SCHEDULE.everyMs });
        },
        { timeout: 10_000, interval: 20 },
      );
      await vi.waitFor(() =>
        expect(lines.join('\n')).toContain(
          'job schedulers were missing from the queues (Redis came back empty?): made again',
        ),
      );
    } finally {
      await chores.stop();
    }
    expect(storeBack).toBeUndefined();
  });
});
