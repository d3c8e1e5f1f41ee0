/**
 * A worker's chores for the fleet, every FAMILIES_SEEN_EVERY_MS while it runs: it notes the
 * families it copies (other workers keep their schedulers while one does, and the inbox keeps
 * their events), notes the subscriptions its FEED_SUBSCRIPTIONS_FILE declares (one no process
 * declares for a day is deleted) and says where another copy of the file disagrees, and makes
 * again the job schedulers a Redis that came back empty lost. A chore that fails is logged and
 * tried again at the next round.
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
}

export function startFleetChores(input: FleetChoresInput): { stop(): Promise<void> } {
  const { db, queues, families, logger } = input;
  const restoreSchedules = async () => {
    const restored = await restoreMissingSchedules(queues, db, families, input.schedule);
    const feed = await restoreMissingFeedSchedules(queues);
    if (restored.length > 0 || feed)
      logger.warn(
        { families: restored, feed },
        'job schedulers were missing from the queues (Redis came back empty?): made again',
      );
  };
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
    restoreSchedules().catch((error: unknown) =>
      logger.warn({ err: error }, 'checking the job schedulers failed'),
    );
  }, FAMILIES_SEEN_EVERY_MS);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return Promise.resolve();
    },
  };
}
