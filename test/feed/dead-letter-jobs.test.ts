/**
 * A dead letter as BullMQ shows it: a subscription's delivery job that kept failing past its
 * give-up fails for good (bull-board lists it on the `feed` queue), the subscription stops there,
 * and "retry" on the failed job — what bull-board's button does — resumes the subscription from
 * it once the receiver answers again.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFeedReceiver, type FeedReceiver } from '../../dev/services/feed-receiver.js';
import { BC_MODEL } from '../../src/families/bcs/family.js';
import { generateSecret } from '../../src/feed/secret.js';
import { readSubscription } from '../../src/feed/subscriptions.js';
import { feedDeliverJobId } from '../../src/queues/catalogue.js';
import { nudgeDeliveries } from '../../src/queues/feed-nudge.js';
import { createQueueEvents, type OwnedQueueEvents } from '../../src/queues/queue-events.js';
import { feedCaughtUp } from '../helpers/feed-visible.js';
import {
  createSyncHarness,
  LOOPBACK_RECEIVERS,
  TEST_FEED_SECRET_KEY,
  subscribeFromNow,
  type SyncHarness,
} from '../helpers/sync-harness.js';

describe('a dead letter in the feed queue', () => {
  let h: SyncHarness;
  let receiver: FeedReceiver;
  let redis: Redis;
  let events: OwnedQueueEvents;
  const secret = generateSecret();

  beforeAll(async () => {
    h = await createSyncHarness({
      sandbox: { orders: 5, linesPerOrder: 1 },
      feed: {
        retentionDays: 7,
        allowedHosts: LOOPBACK_RECEIVERS,
        secretKey: TEST_FEED_SECRET_KEY,
        delivery: {
          timeoutMs: 2_000,
          batchMax: 10,
          backoffBaseMs: 50,
          backoffMaxMs: 200,
          // Past a second of failures, a message is a dead letter.
          giveUpMs: 1_000,
          turnMs: 1_000,
        },
      },
    });
    await h.run('sync-run', { trigger: 'test' });
    // A subscription starting now starts below what another transaction still holds back.
    await feedCaughtUp(h.db.db);
    receiver = await startFeedReceiver({ secret });
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    events = await createQueueEvents(h.runtime.queues.backend, h.runtime.queues.byName.feed);
  });
  afterAll(async () => {
    await events.close();
    await receiver.close();
    await h.dispose();
    await redis.quit();
  });

  it('fails for good, stops its subscription, and resumes it when retried', async () => {
    const { id } = await subscribeFromNow(h.db.db, { name: 'stuck', url: receiver.url, secret });
    const [bc] = h.sandbox.control.ids(BC_MODEL);
    h.sandbox.control.write(BC_MODEL, bc!, { origin: 'for a receiver that fails' });
    await h.run('sync-run', { trigger: 'test' });
    receiver.setFailureRate(1);
    await nudgeDeliveries({ db: h.db.db, queues: h.runtime.queues });
    const job = (await h.runtime.queues.byName.feed.getJob(feedDeliverJobId(id)))!;

    await expect(events.waitFor(job, { pollMs: 200 })).rejects.toThrow(/FEED_DEAD_LETTER/);
    expect(await readSubscription(h.db.db, { id })).toMatchObject({
      status: 'failing',
      deadLetter: { webhookId: expect.stringMatching(/^chg_/) as unknown, changes: 1 },
    });
    expect(receiver.attempts.length).toBeGreaterThan(1);
    // Stopped, it is not woken again: the failed job stays, the dead letter of the queue.
    await nudgeDeliveries({ db: h.db.db, queues: h.runtime.queues });
    expect(await job.getState()).toBe('failed');

    receiver.setFailureRate(0);
    await job.retry();
    await events.waitFor(job, { pollMs: 200 });
    expect(receiver.changes.map((change) => [change.model, change.odooId])).toEqual([
      [BC_MODEL, bc],
    ]);
    expect(await readSubscription(h.db.db, { id })).toMatchObject({
      status: 'active',
      deadLetter: null,
      deliveredChanges: 1,
    });
  });
});
