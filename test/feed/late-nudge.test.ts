/**
 * A nudge that comes as a subscription's delivery job ends: the job has read, found nothing new
 * and looked at its nudge flag, and a change commits before the job completes. The worker's nudge
 * leaves its flag, and its `add` finds the job still there under the same id and queues nothing.
 * Once the job completed, the flag sends the delivery again: the change reaches the receiver
 * without waiting for the pump (none runs here) or another commit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFeedReceiver, type FeedReceiver } from '../../dev/services/feed-receiver.js';
import { BC_MODEL } from '../../src/families/bcs/family.js';
import { generateSecret } from '../../src/feed/secret.js';
import { withDeadline } from '../../src/lib/deadline.js';
import { nudgeDeliveries, type NudgeFlags } from '../../src/queues/feed-nudge.js';
import { feedCaughtUp } from '../helpers/feed-visible.js';
import {
  createSyncHarness,
  LOOPBACK_RECEIVERS,
  TEST_FEED_SECRET_KEY,
  subscribeFromNow,
  type SyncHarness,
} from '../helpers/sync-harness.js';

/** Far longer than a delivery takes; a change stranded by the race never comes. */
const DELIVERY_WAIT_MS = 30_000;

describe.each(['redis', 'postgres'] as const)(
  'a nudge as the delivery job ends (%s)',
  (backend) => {
    let h: SyncHarness;
    let receiver: FeedReceiver;
    let flags!: NudgeFlags;
    /** Runs once, right after a delivery job's look at its flag found none. */
    let afterEmptyLook: (() => Promise<void>) | undefined;
    const secret = generateSecret();

    beforeAll(async () => {
      h = await createSyncHarness({
        sandbox: { orders: 5, linesPerOrder: 1 },
        queueBackend: backend,
        feed: {
          retentionDays: 7,
          allowedHosts: LOOPBACK_RECEIVERS,
          secretKey: TEST_FEED_SECRET_KEY,
          delivery: {
            timeoutMs: 5_000,
            batchMax: 10,
            backoffBaseMs: 50,
            backoffMaxMs: 200,
            giveUpMs: 600_000,
            turnMs: 5_000,
          },
        },
        nudgeFlags: (made) => {
          flags = made;
          return {
            set: (id) => made.set(id),
            async take(id) {
              const taken = await made.take(id);
              const hook = taken ? undefined : afterEmptyLook;
              if (hook) {
                afterEmptyLook = undefined;
                await hook();
              }
              return taken;
            },
          };
        },
      });
      await h.run('sync-run', { trigger: 'test' });
      await feedCaughtUp(h.db.db);
      receiver = await startFeedReceiver({ secret });
    });
    afterAll(async () => {
      await receiver?.close();
      await h?.dispose();
    });

    it('delivers the change its nudge announced once the job completed', async () => {
      await subscribeFromNow(h.db.db, { name: 'portal', url: receiver.url, secret });
      const [first, second] = h.sandbox.control.ids(BC_MODEL);
      h.sandbox.control.write(BC_MODEL, first!, { origin: 'delivered by the job' });
      await h.run('sync-run', { trigger: 'test' });
      await feedCaughtUp(h.db.db);
      afterEmptyLook = async () => {
        h.sandbox.control.write(BC_MODEL, second!, { origin: 'nudged as the job ends' });
        await h.run('sync-run', { trigger: 'test' });
        await feedCaughtUp(h.db.db);
        await nudgeDeliveries({ db: h.db.db, queues: h.runtime.queues, flags });
      };

      await nudgeDeliveries({ db: h.db.db, queues: h.runtime.queues, flags });
      await withDeadline(
        receiver.until(() => receiver.changes.some((change) => change.odooId === second)),
        DELIVERY_WAIT_MS,
        () =>
          new Error(
            `the change nudged as the job ended never came (received: ${receiver.changes.map((change) => change.odooId).join(', ') || 'none'})`,
          ),
      );
      expect(afterEmptyLook).toBeUndefined();
      expect(receiver.changes.map((change) => [change.model, change.odooId])).toEqual([
        [BC_MODEL, first],
        [BC_MODEL, second],
      ]);
    }, 90_000);
  },
);
