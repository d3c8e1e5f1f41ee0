/**
 * Keeps the lease of a run whose job waits on its children. While a run's pages and BC jobs wait
 * in their queues (a backlog, a paused queue, a retry's backoff), nothing of the run is active to
 * heartbeat: its lease would lapse, the next scheduled run would take it over, and this run would
 * fail. So every worker looks every third of the lease: a lease whose job is in BullMQ's
 * `waiting-children` state is extended. A run whose workers all died has no keeper left, and its
 * lease lapses as before; so does the lease of a run that has waited longer than six hours (a
 * child no worker will ever take — from a queue an older release used, say — must not hold a
 * family's sync for ever).
 */
import { extendLease, leasesHeldByJobs } from '../src/sync/sync-state.js';
import type { WorkerContext } from './worker-context.js';

export interface LeaseKeeper {
  stop(): void;
}

/** How long a waiting run's lease is kept at most, from the run's start. */
const MAX_KEPT_MS = 6 * 3_600_000;

export function startLeaseKeeper(ctx: WorkerContext, leaseSeconds: number): LeaseKeeper {
  const { db } = ctx.sync;
  let running: Promise<void> | undefined;
  const keep = async () => {
    for (const { lease, jobId } of await leasesHeldByJobs(db)) {
      const job = await ctx.queues.byName.sync.getJob(jobId);
      if (!job || (await job.getState()) !== 'waiting-children') continue;
      if (Date.now() - (job.processedOn ?? job.timestamp) > MAX_KEPT_MS) {
        ctx.logger.warn(
          { family: lease.key, jobId, owner: lease.owner },
          'a run has waited on its children for over six hours: its lease is no longer kept',
        );
        continue;
      }
      await extendLease(db, lease, leaseSeconds);
    }
  };
  const timer = setInterval(
    () => {
      running ??= keep()
        .catch((error: unknown) =>
          ctx.logger.warn({ err: error }, 'keeping the leases of waiting runs failed'),
        )
        .finally(() => {
          running = undefined;
        });
    },
    (leaseSeconds * 1_000) / 3,
  );
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
    },
  };
}
