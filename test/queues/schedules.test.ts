/**
 * The job schedulers of a fleet whose workers copy different families: a worker upserts its own
 * families' and never removes another worker's; a family's are removed once no worker has noted
 * it for a day, and schedulers of no family (an older version's) at once. A Redis that came back
 * empty gets them again from a running worker.
 */
import { randomBytes } from 'node:crypto';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/lib/logger.js';
import { createQueues, type Queues } from '../../src/queues/queues.js';
import { postgresQueues, redisQueues, type QueueStore } from '../../src/stores/queue-store.js';
import { eq } from 'drizzle-orm';
import { syncFamilySeen } from '../../src/db/schema/index.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
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

describe.each(['redis', 'postgres'] as const)('the schedulers of a fleet on %s', (kind) => {
  let db: TestDb;
  let redis: Redis;
  let backend: QueueStore;
  let queues: Queues;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db.dispose();
  });
  beforeEach(() => {
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    backend =
      kind === 'redis'
        ? redisQueues(redis, `schedules-${randomBytes(4).toString('hex')}`)
        : postgresQueues({
            url: db.url,
            listeners: 0,
            applicationName: 'schedules-test',
            onError: () => undefined,
          });
    queues = createQueues({
      backend,
      settings: { attempts: 1, backoffMs: 10 },
      logger: createLogger({ level: 'silent', pretty: false }),
    });
  });
  afterEach(async () => {
    await Promise.all(queues.all.map((queue) => queue.obliterate({ force: true })));
    await queues.close();
    await backend.close();
    await redis.quit();
    await db.db.delete(syncFamilySeen);
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
    await upsertSchedules(queues, db.db, [family('partners'), family('gone')], DEFAULTS);
    await markFamiliesSeen(db.db, ['gone'], Date.now() - 2 * DAY_MS);
    await db.db.delete(syncFamilySeen).where(eq(syncFamilySeen.family, 'partners'));
    // An older version's: a scheduler of no family, a reconcile kept on the `sync` queue.
    const { sync } = queues.byName;
    await sync.upsertJobScheduler('sync-every', { every: 60_000 }, { name: 'sync-run' });
    await sync.upsertJobScheduler('reconcile-daily-bcs', { pattern: '0 3 * * *' }, { name: 'x' });

    await upsertSchedules(queues, db.db, [family('bcs', '30 4 * * *')], DEFAULTS);
    expect(await schedulers(sync)).toEqual({
      'sync-every-bcs': 300_000,
      'sync-every-partners': 300_000,
    });
    expect(await schedulers(queues.byName['sync-reconcile'])).toEqual({
      'reconcile-daily-bcs': '30 4 * * *',
      'reconcile-daily-partners': `${staggerMinutes('partners')} 3 * * *`,
    });

    // partners is noted from now on: a day later, with no worker of it, its schedulers go too.
    const seen = await db.db.select({ family: syncFamilySeen.family }).from(syncFamilySeen);
    expect(seen.map((row) => row.family).sort()).toEqual(['bcs', 'partners']);
    await markFamiliesSeen(db.db, ['partners'], Date.now() - 2 * DAY_MS);
    await upsertSchedules(queues, db.db, [family('bcs', '30 4 * * *')], DEFAULTS);
    expect(Object.keys(await schedulers(sync))).toEqual(['sync-every-bcs']);
    expect(Object.keys(await schedulers(queues.byName['sync-reconcile']))).toEqual([
      'reconcile-daily-bcs',
    ]);
  });

  it('are made again when the queues no longer hold them, and left alone while they do', async () => {
    const families = [family('bcs'), family('partners')];
    await upsertSchedules(queues, db.db, families, DEFAULTS);
    await upsertFeedSchedules(queues);
    const before = {
      sync: await schedulers(queues.byName.sync),
      reconcile: await schedulers(queues.byName['sync-reconcile']),
      feed: await schedulers(queues.byName.feed),
    };
    expect(await restoreMissingSchedules(queues, db.db, families, DEFAULTS)).toEqual([]);
    expect(await restoreMissingFeedSchedules(queues)).toBe(false);

    // The queues' store came back without them.
    await queues.byName.sync.removeJobScheduler('sync-every-partners');
    await queues.byName.feed.removeJobScheduler(
      (await queues.byName.feed.getJobSchedulers())[0]!.key,
    );
    expect(await restoreMissingSchedules(queues, db.db, families, DEFAULTS)).toEqual(['partners']);
    expect(await restoreMissingFeedSchedules(queues)).toBe(true);
    expect({
      sync: await schedulers(queues.byName.sync),
      reconcile: await schedulers(queues.byName['sync-reconcile']),
      feed: await schedulers(queues.byName.feed),
    }).toEqual(before);
  });
});
