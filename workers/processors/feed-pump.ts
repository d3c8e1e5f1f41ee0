/** `feed-pump`: queues every active subscription's delivery (a safety net beside LISTEN/NOTIFY). */
import type { Job } from 'bullmq';
import { JOBS, type JobData } from '../../src/queues/catalogue.js';
import { nudgeDeliveries } from '../../src/queues/feed-nudge.js';
import { runStepJob } from '../step-job.js';
import type { WorkerContext } from '../worker-context.js';

export async function processFeedPump(
  job: Job<JobData<'feed-pump'>>,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
) {
  JOBS['feed-pump'].schema.parse(job.data);
  return runStepJob<never, unknown>(job, token, signal, ctx, {
    state: undefined,
    start: async () => ({
      result: {
        subscriptions: await nudgeDeliveries({
          db: ctx.sync.db,
          queues: ctx.queues,
          flags: ctx.feed.flags,
        }),
      },
    }),
  });
}
