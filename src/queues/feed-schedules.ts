/**
 * The change feed's job schedulers, upserted at worker start beside the sync's (schedules.ts), on
 * the feed's own queue: the pump queues every active subscription's delivery — a safety net, since
 * each commit wakes the workers through LISTEN/NOTIFY — and the prune drops the changes older
 * than FEED_RETENTION_DAYS, every hour. Upserted by id: never two of either.
 */
import { FEED_SCHEDULER_IDS, JOBS } from './catalogue.js';
import type { Queues } from './queues.js';

/** How often the pump runs: the longest a change waits when a wake-up was lost. */
export const FEED_PUMP_EVERY_MS = 10_000;
const PRUNE_CRON = '17 * * * *';

export async function upsertFeedSchedules(
  queues: Queues,
  pumpEveryMs = FEED_PUMP_EVERY_MS,
): Promise<void> {
  const feed = queues.byName.feed;
  await feed.upsertJobScheduler(
    FEED_SCHEDULER_IDS.pump,
    { every: pumpEveryMs },
    { name: 'feed-pump', data: {}, opts: JOBS['feed-pump'].options() },
  );
  await feed.upsertJobScheduler(
    FEED_SCHEDULER_IDS.prune,
    { pattern: PRUNE_CRON, tz: 'UTC' },
    { name: 'feed-prune', data: {}, opts: JOBS['feed-prune'].options() },
  );
}

/** Upserts them again when Redis no longer holds one (restoreMissingSchedules); whether it did. */
export async function restoreMissingFeedSchedules(queues: Queues): Promise<boolean> {
  const feed = queues.byName.feed;
  const held = await Promise.all(
    [FEED_SCHEDULER_IDS.pump, FEED_SCHEDULER_IDS.prune].map((id) => feed.getJobScheduler(id)),
  );
  if (held.every(Boolean)) return false;
  await upsertFeedSchedules(queues);
  return true;
}
