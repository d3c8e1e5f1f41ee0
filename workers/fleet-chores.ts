/**
 * A worker's chores for the fleet while it runs. Every FAMILIES_SEEN_EVERY_MS it notes the
 * families it copies (other workers keep their schedulers while one does, and the inbox keeps
 * their events), notes the subscriptions its FEED_SUBSCRIPTIONS_FILE declares (one no process
 * declares for a day is deleted) and says where another copy of the file disagrees. Every minute,
 * and as soon as the queues' store is back from a disconnection, it makes again the job schedulers
 * a Redis that came back empty lost: the feed pump among them, the safety net of deliveries whose
 * wake-up was lost, and a Redis Cluster node that restarts empty says nothing to a client. A
 * chore that fails is logged and tried again at the next round.
 */
import type { Db } from '../src/db/create-db.js';
import type { DeclaredSubscription } from '../src/feed/subscriptions.js';
import { keepDeclaredSubscriptions } from '../src/feed/subscriptions.js';
import type { Logger } from '../src/lib/logger.js';
import { restoreMissingFeedSchedules } from '../src/queues/feed-schedules.js';
import type { Queues } from '../src/queues/queues.js';
import {
  FAMILIES_SEEN_EVERY_MS,
  markFamiliesSeen,
  restoreMissingSchedules,
  type ScheduleDefaults,
  type ScheduledFamily,
} from '../src/queues/schedules.js';

export interface FleetChoresInput {
  readonly db: Db;
  readonly queues: Queues;
  /** Every family this worker copies, one waiting for migrate included. */
  readonly families: readonly ScheduledFamily[];
  readonly schedule: ScheduleDefaults;
  /** The subscriptions of this worker's FEED_SUBSCRIPTIONS_FILE. */
  readonly subscriptions: readonly DeclaredSubscription[];
  readonly logger: Logger;
  /**
   * Calls its listener each time the queues' store is back from a disconnection that may have
   * lost what it held (QueueStore's `onBack`); returns what stops listening.
   */
  readonly onStoreBack: (listener: () => void) => () => void;
}

/** How often the job schedulers are checked: how long the feed pump can be missing. */
const SCHEDULERS_CHECKED_EVERY_MS = 60_000;

export function startFleetChores(input: FleetChoresInput): { stop(): Promise<void> } {
  const { db, queues, families, logger } = input;
  let checking: Promise<void> | undefined;
  const checkSchedules = () => {
    checking ??= (async () => {
      const restored = await restoreMissingSchedules(queues, db, families, input.schedule);
      const feed = await restoreMissingFeedSchedules(queues);
      if (restored.length > 0 || feed)
        logger.warn(
          { families: restored, feed },
          'job schedulers were missing from the queues (Redis came back empty?): made again',
        );
    })()
      .catch((error: unknown) => logger.warn({ err: error }, 'checking the job schedulers failed'))
      .finally(() => (checking = undefined));
    return checking;
  };
  const schedulesTimer = setInterval(() => void checkSchedules(), SCHEDULERS_CHECKED_EVERY_MS);
  schedulesTimer.unref();
  const stopListening = input.onStoreBack(() => void checkSchedules());
  const timer = setInterval(() => {
    markFamiliesSeen(
      db,
      families.map((family) => family.name),
    ).catch((error: unknown) =>
      logger.warn({ err: error }, 'noting the families this worker copies failed'),
    );
    keepDeclaredSubscriptions(db, input.subscriptions)
      .then((notices) => {
        for (const { subscription, code, message } of notices)
          logger.warn({ subscription, code }, message);
      })
      .catch((error: unknown) =>
        logger.warn({ err: error }, 'noting the subscriptions this worker declares failed'),
      );
  }, FAMILIES_SEEN_EVERY_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      clearInterval(schedulesTimer);
      stopListening();
      await checking;
    },
  };
}
