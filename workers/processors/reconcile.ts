/** `reconcile`: heal the copy against Odoo's full lists (see src/sync/reconcile.ts). */
import type { Job } from 'bullmq';
import { JOBS, type JobData } from '../../src/queues/catalogue.js';
import { reconcile } from '../../src/sync/reconcile.js';
import { runStepJob } from '../step-job.js';
import type { WorkerContext } from '../worker-context.js';

export async function processReconcile(
  job: Job<JobData<'reconcile'>>,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
) {
  const data = JOBS.reconcile.schema.parse(job.data);
  return runStepJob<never, unknown>(job, token, signal, ctx, {
    state: undefined,
    start: async (abort) => ({
      result: await reconcile(
        ctx.sync,
        { trigger: data.trigger, owner: `reconcile-${job.id}`, scheduled: data.scheduled },
        { signal: abort },
      ),
    }),
  });
}
