/**
 * `feed-deliver`: one subscription's changes delivered (src/feed/deliver.ts), and what BullMQ does
 * with each outcome. The job is the subscription's only one: it backs off in the delayed set and
 * comes back with the failed message in its data, gives other subscriptions a turn when it has
 * delivered for a while, and fails for good on a dead letter — where bull-board's "retry" resumes
 * the subscription from it.
 */
import { DelayedError, type Job } from 'bullmq';
import { JOBS, type JobData } from '../../src/queues/catalogue.js';
import { deliverChanges } from '../../src/feed/deliver.js';
import { resumeFailedSubscription } from '../../src/feed/subscriptions.js';
import { AppError } from '../../src/lib/errors.js';
import { runStepJob } from '../step-job.js';
import type { WorkerContext } from '../worker-context.js';

/** Changes held back behind a running transaction are read again this soon. */
const HELD_BACK_DELAY_MS = 250;

export async function processFeedDeliver(
  job: Job<JobData<'feed-deliver'>>,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
) {
  const data = JOBS['feed-deliver'].schema.parse(job.data);
  const { subscriptionId } = data;
  const later = async (delayMs: number, pending?: typeof data.pending): Promise<never> => {
    await job.updateData({ subscriptionId, ...(pending ? { pending } : {}), deadLetter: false });
    await job.moveToDelayed(Date.now() + delayMs, token);
    throw new DelayedError();
  };
  return runStepJob<never, unknown>(job, token, signal, ctx, {
    state: undefined,
    async start(abort) {
      if (data.deadLetter) await resumeFailedSubscription(ctx.sync.db, subscriptionId);
      for (let pending = data.pending; ; pending = undefined) {
        const outcome = await deliverChanges(ctx.feed.delivery, { subscriptionId, pending }, abort);
        switch (outcome.kind) {
          case 'idle':
            if (await ctx.feed.flags.take(subscriptionId)) continue;
            return { result: outcome.report };
          case 'more':
            return later(0);
          case 'held-back':
            return later(HELD_BACK_DELAY_MS);
          case 'retry':
            return later(outcome.delayMs, outcome.pending);
          case 'stopped':
            if (outcome.why !== 'dead-letter')
              return { result: { ...outcome.report, stopped: outcome.why } };
            await job.updateData({ subscriptionId, deadLetter: true });
            throw new AppError(
              'FEED_DEAD_LETTER',
              `subscription ${outcome.report.subscription ?? subscriptionId} stopped on a message that failed for good; retry this job or replay the subscription once its receiver is fixed`,
              { retryable: false },
            );
        }
      }
    },
  });
}
