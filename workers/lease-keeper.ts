/**
 * Keeps the lease of a run whose job waits on its children. While a run's pages and BC jobs wait
 * in their queues (a backlog, a paused queue, a retry's backoff), nothing of the run is active to
 * heartbeat: its lease would lapse, the next scheduled run would take it over, and this run would
 * fail. So every worker looks every third of the lease: a lease whose job is in BullMQ's
 * `waiting-children` state is extended. A run whose workers all died has no keeper left, and its
 * lease lapses as before.
 */
import { extendLease, leasesHeldByJobs } from '../src/sync/sync-state.js';
import type { WorkerContext } from './worker-context.js';

export interface LeaseKeeper {
  stop(): void;
}

export function startLeaseKeeper(ctx: WorkerContext, leaseSeconds: number): LeaseKeeper {
  const { db } = ctx.sync;
  let running: Promise<void> | undefined;
  const keep = async () => {
    for (const { lease, jobId } of await leasesHeldByJobs(db)) {
      const job = await ctx.queues.byName.sync.getJob(jobId);
      if ((await job?.getState()) === 'waiting-children')
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
