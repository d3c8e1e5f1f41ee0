/**
 * The demo's change feed: the workers' side (the subscriptions of FEED_SUBSCRIPTIONS_FILE, the
 * feed's schedulers, a wake-up at every commit), and a tiny receiver in this process that
 * verifies each delivery's Standard Webhooks signature and prints one line per change. It
 * subscribes to the BCs once their first copy is done: from then on, each BC the sandbox edits
 * reaches it in a second or so; the first copy's thousands of records never flood it.
 */
import type { Config } from '../../src/config/config.js';
import type { DbHandle } from '../../src/db/create-db.js';
import { BC_MODEL } from '../../src/families/bcs/family.js';
import { postgresFeedListen, type FeedListen } from '../../src/feed/feed-signal.js';
import { EVERY_SOURCE } from '../../src/sources/family-key.js';
import { createSubscriptionSecrets, generateSecret } from '../../src/feed/secret.js';
import {
  applyDeclaredSubscriptions,
  createSubscription,
  deleteSubscription,
  resealSecrets,
} from '../../src/feed/subscriptions.js';
import type { Logger } from '../../src/lib/logger.js';
import type { Shutdown } from '../../src/lib/shutdown.js';
import { createNudgeFlags, nudgeDeliveries } from '../../src/queues/feed-nudge.js';
import { upsertFeedSchedules } from '../../src/queues/feed-schedules.js';
import { startFeedWake } from '../../workers/feed-wake.js';
import type { ConfiguredSyncRuntime } from '../../workers/sync-runtime.js';
import { startFeedReceiver } from '../services/feed-receiver.js';

const SUBSCRIPTION = 'demo-receiver';

export interface DemoFeed {
  /** How this process's API hears of commits. */
  readonly listen: FeedListen | undefined;
  /** Subscribes the receiver to the BCs' changes from now on. */
  subscribe(): Promise<void>;
}

export async function startDemoFeed(input: {
  db: DbHandle & { feedListen?: FeedListen };
  runtime: ConfiguredSyncRuntime;
  config: Config;
  logger: Logger;
  shutdown: Shutdown;
  say: (line: string) => void;
}): Promise<DemoFeed> {
  const { db, runtime, config, shutdown, say } = input;
  const listen = db.feedListen ?? (db.sql ? postgresFeedListen(db.sql) : undefined);
  const secrets = createSubscriptionSecrets(config.feed.secretKey);
  await resealSecrets(db.db, secrets);
  await applyDeclaredSubscriptions(db.db, config.feed.declared, secrets);
  await upsertFeedSchedules(runtime.queues);
  const flags = createNudgeFlags(runtime.stores.shared);
  const nudge = () => nudgeDeliveries({ db: db.db, queues: runtime.queues, flags });
  const wake = await startFeedWake({ listen, nudge, logger: input.logger });
  shutdown.add('feed wake', () => wake.stop());

  const secret = generateSecret();
  const receiver = await startFeedReceiver({
    secret,
    onMessage: (message) => {
      for (const change of message.changes)
        say(
          `receiver got ${change.model} ${change.odooId} ${change.action}${
            change.changedFields.length > 0 ? ` (${change.changedFields.join(', ')})` : ''
          } — ${message.webhookId}, signature verified`,
        );
    },
  });
  shutdown.add('feed receiver', () => receiver.close());
  return {
    listen,
    async subscribe() {
      // A demo started again gets a receiver on another port: its old subscription goes.
      await deleteSubscription(db.db, SUBSCRIPTION);
      await createSubscription(
        db.db,
        {
          name: SUBSCRIPTION,
          url: receiver.url,
          secret,
          sources: [EVERY_SOURCE],
          families: [],
          models: [BC_MODEL],
        },
        'now',
        secrets,
      );
      await nudge();
      say(`the demo's receiver (${receiver.url}) now gets every BC change, signed`);
    },
  };
}
