/**
 * Waking the change feed's deliveries: each active subscription gets its one `feed-deliver` job
 * (by id: a job already waiting, running or backing off takes the nudge instead of a second one).
 *
 * A delivery job that finds nothing new completes; a change committed between its last read and
 * its completion would wait for the pump's next round. So a worker's nudge also leaves a flag in
 * the fleet's shared state (the queue Redis, or PostgreSQL without it) that the running job takes
 * before it completes (`NudgeFlags.take`): flagged, it reads once more. A nudge that comes after
 * that last look and before the job completes finds the job still there and queues nothing: its
 * flag, taken once the job completed, queues the delivery again (`redeliverIfNudged`).
 */
import type { Db } from '../db/create-db.js';
import { activeSubscriptionIds } from '../feed/subscriptions.js';
import type { SharedState } from '../stores/shared-state.js';
import { createSharedValues } from '../stores/shared-values.js';
import { feedDeliverJobId } from './catalogue.js';
import type { Queues } from './queues.js';

/** A flag outlives no delivery job by long: the pump renews what matters. */
const NUDGE_TTL_MS = 600_000;

export interface NudgeFlags {
  set(subscriptionId: number): Promise<void>;
  /** Whether a nudge came since the job last looked; clears it. */
  take(subscriptionId: number): Promise<boolean>;
}

/** Flags in the fleet's shared state: the queue Redis, or PostgreSQL without it. */
export function createNudgeFlags(shared: SharedState): NudgeFlags {
  const values = createSharedValues(shared);
  const key = (id: number) => `feed:nudge:${id}`;
  return {
    async set(id) {
      await values.set(key(id), '1', NUDGE_TTL_MS);
    },
    async take(id) {
      return (await values.take(key(id))) !== undefined;
    },
  };
}

/** Queues the delivery of every active subscription (or of the one given); returns how many. */
export async function nudgeDeliveries(
  deps: { db: Db; queues: Queues; flags?: NudgeFlags },
  only?: number,
): Promise<number> {
  const ids = only === undefined ? await activeSubscriptionIds(deps.db) : [only];
  const queue = deps.queues.byName.feed;
  for (const id of ids) {
    // A failed job of an active subscription (the database was away for every attempt, or a
    // replayed dead letter) would keep its id: it goes, and the delivery starts again.
    const stuck = await queue.getJob(feedDeliverJobId(id));
    if (stuck && (await stuck.isFailed())) await stuck.remove();
    await deps.flags?.set(id);
    await queueDelivery(deps.queues, id);
  }
  return ids.length;
}

/**
 * After a subscription's delivery job completed: queues it again when a nudge came since its last
 * look at the flag (that nudge's `add` found the job still running and queued nothing); whether
 * it did.
 */
export async function redeliverIfNudged(
  deps: { queues: Queues; flags: NudgeFlags },
  subscriptionId: number,
): Promise<boolean> {
  if (!(await deps.flags.take(subscriptionId))) return false;
  await queueDelivery(deps.queues, subscriptionId);
  return true;
}

/** The subscription's one delivery job, by its id: none queued while one is already there. */
function queueDelivery(queues: Queues, subscriptionId: number) {
  return queues.add(
    'feed-deliver',
    { subscriptionId },
    { jobId: feedDeliverJobId(subscriptionId) },
  );
}
