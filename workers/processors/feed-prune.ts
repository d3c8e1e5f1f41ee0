/**
 * `feed-prune`: drops the feed's day partitions older than FEED_RETENTION_DAYS and makes the
 * coming days' (src/feed/prune.ts).
 */
import type { Job } from 'bullmq';
import { JOBS, type JobData } from '../../src/queues/catalogue.js';
import { encodePosition } from '../../src/feed/position.js';
import { pruneFeed } from '../../src/feed/prune.js';
import { runStepJob } from '../step-job.js';
import type { WorkerContext } from '../worker-context.js';

export async function processFeedPrune(
  job: Job<JobData<'feed-prune'>>,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
) {
  JOBS['feed-prune'].schema.parse(job.data);
  return runStepJob<never, unknown>(job, token, signal, ctx, {
    state: undefined,
    async start() {
      const pruned = await pruneFeed(ctx.sync.db, ctx.feed.retentionDays);
      return {
        result: {
          deleted: pruned.deleted,
          dropped: pruned.dropped,
          made: pruned.made,
          horizon: encodePosition(pruned.horizon),
        },
      };
    },
  });
}
