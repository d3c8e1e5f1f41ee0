/**
 * Keeps the lease of a run whose job is not active. While a run's pages and BC jobs wait in their
 * queues (a backlog, a paused queue, a retry's backoff), nothing of the run is active to
 * heartbeat; nor once they have all settled, while the run's job waits for a worker to take it
 * up again (every worker busy elsewhere), or waits in the delayed set (put off, or handed back
 * by a worker that does not copy its family). Its lease would lapse, the next scheduled run
 * would take it over, and this run would fail with all its pages done. So every worker looks
 * every third of the lease: a lease whose job is waiting on its children, waiting to be taken up
 * or delayed is extended (the job is named in `sync_state.lease_job_id`), by the workers that
 * copy its family. A run whose workers all died has no keeper left, and its lease lapses as
 * before; so does the lease of a run that has
 * waited longer than six hours since its job last ran (a child no worker will ever take — from a
 * queue an older release used, say — must not hold a family's sync for ever).
 */
import { extendLease, leasesHeldByJobs } from '../src/sync/sync-state.js';
import type { WorkerContext } from './worker-context.js';

export interface LeaseKeeper {
  stop(): void;
}

/** How long a waiting run's lease is kept at most, from the last time its job ran. */
const MAX_KEPT_MS = 6 * 3_600_000;

/**
 * The states of a run's job in which nothing of it heartbeats. (Active, it heartbeats itself;
 * completed or failed, it released the lease or lets it lapse.)
 */
const KEPT_STATES: ReadonlySet<string> = new Set([
  'waiting-children',
  'waiting',
  'prioritized',
  'delayed',
]);

export function startLeaseKeeper(ctx: WorkerContext, leaseSeconds: number): LeaseKeeper {
  const { db } = ctx.sync;
  let running: Promise<void> | undefined;
  const keep = async () => {
    for (const { lease, jobId } of await leasesHeldByJobs(db)) {
      // A family is kept by the workers that copy it: one whose workers all died lets go.
      if (!ctx.sync.families.copies(lease.key)) continue;
      const job = await ctx.queues.ofFamily('sync', lease.key).getJob(jobId);
      if (!job || !KEPT_STATES.has(await job.getState())) continue;
      if (Date.now() - (job.processedOn ?? job.timestamp) > MAX_KEPT_MS) {
        ctx.logger.warn(
          { family: lease.key, jobId, owner: lease.owner },
          'a run has waited for over six hours: its lease is no longer kept',
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
