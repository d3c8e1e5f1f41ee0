/**
 * The job schedulers of a fleet whose workers copy different families: a worker upserts its own
 * families' and never removes another worker's; a family's are removed once no worker has noted
 * it for a day, and schedulers of no family (an older version's) at once. A Redis that came back
 * empty gets them again from a running worker.
 */
import { randomBytes } from 'node:crypto';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/lib/logger.js';
import { createQueues, type Queues } from '../../src/queues/queues.js';
import {
  markFamiliesSeen,
  restoreMissingSchedules,
  staggerMinutes,
  upsertSchedules,
} from '../../src/queues/schedules.js';
import {
  restoreMissingFeedSchedules,
  upsertFeedSchedules,
} from '../../src/queues/feed-schedules.js';

const DEFAULTS = { everyMs: 300_000, reconcileCron: '0 3 * * *' };
const DAY_MS = 86_400_000;

describe('the schedulers of a fleet', () => {
  let redis: Redis;
  let queues: Queues;
  beforeEach(() => {
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    queues = createQueues({
      connection: redis,
      prefix: `schedules-${randomBytes(4).toString('hex')}`,
      settings: { attempts: 1, backoffMs: 10 },
      logger: createLogger({ level: 'silent', pretty: false }),
    });
  });
  afterEach(async () => {
    await Promise.all(queues.all.map((queue) => queue.obliterate({ force: true })));
    await queues.close();
    await redis.quit();
  });

  const schedulers = async (queue: Queue) =>
    Object.fromEntries(
      (await queue.getJobSchedulers()).map((scheduler) => [
        scheduler.key,
        scheduler.pattern ?? scheduler.every,
      ]),
    );
  const family = (name: string, reconcileCron?: string) => ({
    name,
    schedule: reconcileCron ? { reconcileCron } : {},
  });

  it("keep another worker's families, remove those no worker copied for a day and those of no family", async () => {
    // Workers of other families, one gone for two days, and one of a version that noted nothing.
    await upsertSchedules(queues, redis, [family('partners'), family('gone')], DEFAULTS);
    await markFamiliesSeen(queues, redis, ['gone'], Date.now() - 2 * DAY_MS);
    await redis.hdel(queues.byName.sync.toKey('families-seen'), 'partners');
    // An older version's: a scheduler of no family, a reconcile kept on the `sync` queue.
    const { sync } = queues.byName;
    await sync.upsertJobScheduler('sync-every', { every: 60_000 }, { name: 'sync-run' });
    await sync.upsertJobScheduler('reconcile-daily-bcs', { pattern: '0 3 * * *' }, { name: 'x' });

    await upsertSchedules(queues, redis, [family('bcs', '30 4 * * *')], DEFAULTS);
    expect(await schedulers(sync)).toEqual({
      'sync-every-bcs': 300_000,
      'sync-every-partners': 300_000,
    });
    expect(await schedulers(queues.byName['sync-reconcile'])).toEqual({
      'reconcile-daily-bcs': '30 4 * * *',
      'reconcile-daily-partners': `${staggerMinutes('partners')} 3 * * *`,
    });

    // partners is noted from now on: a day later, with no worker of it, its schedulers go too.
    const seen = await redis.hgetall(queues.byName.sync.toKey('families-seen'));
    expect(Object.keys(seen).sort()).toEqual(['bcs', 'partners']);
    await markFamiliesSeen(queues, redis, ['partners'], Date.now() - 2 * DAY_MS);
    await upsertSchedules(queues, redis, [family('bcs', '30 4 * * *')], DEFAULTS);
    expect(Object.keys(await schedulers(sync))).toEqual(['sync-every-bcs']);
    expect(Object.keys(await schedulers(queues.byName['sync-reconcile']))).toEqual([
      'reconcile-daily-bcs',
    ]);
  });

  it('are made again when Redis no longer holds them, and left alone while it does', async () => {
    const families = [family('bcs'), family('partners')];
    await upsertSchedules(queues, redis, families, DEFAULTS);
    await upsertFeedSchedules(queues);
    const before = {
      sync: await schedulers(queues.byName.sync),
      reconcile: await schedulers(queues.byName['sync-reconcile']),
      feed: await schedulers(queues.byName.feed),
    };
    expect(await restoreMissingSchedules(queues, redis, families, DEFAULTS)).toEqual([]);
    expect(await restoreMissingFeedSchedules(queues)).toBe(false);

    // Redis came back without them.
    await queues.byName.sync.removeJobScheduler('sync-every-partners');
    await queues.byName.feed.removeJobScheduler(
      (await queues.byName.feed.getJobSchedulers())[0]!.key,
    );
    expect(await restoreMissingSchedules(queues, redis, families, DEFAULTS)).toEqual(['partners']);
    expect(await restoreMissingFeedSchedules(queues)).toBe(true);
    expect({
      sync: await schedulers(queues.byName.sync),
      reconcile: await schedulers(queues.byName['sync-reconcile']),
      feed: await schedulers(queues.byName.feed),
    }).toEqual(before);
  });
});
