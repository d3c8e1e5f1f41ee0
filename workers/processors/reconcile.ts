/** `reconcile`: archive the BCs and delete the lines that vanished from Odoo. */
import type { Job } from 'bullmq';
import { JOBS, type JobData } from '../../src/queues/catalogue.js';
import { reconcile } from '../../src/sync/reconcile.js';
import type { WorkerContext } from '../worker-context.js';
import { toJobError } from './job-errors.js';

export async function processReconcile(
  job: Job<JobData<'reconcile'>>,
  _token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
) {
  const data = JOBS.reconcile.schema.parse(job.data);
  try {
    return await reconcile(
      ctx.sync,
      { trigger: data.trigger, owner: `reconcile-${job.id}` },
      { signal },
    );
  } catch (error) {
    throw toJobError(error);
  }
}
