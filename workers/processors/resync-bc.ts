/** `resync-bc`: one BC fetched fresh from Odoo and upserted; archived when Odoo no longer has it. */
import type { Job } from 'bullmq';
import { JOBS, type JobData } from '../../src/queues/catalogue.js';
import { recordFailure } from '../../src/sync/run-log.js';
import { resyncBc } from '../../src/sync/resync-bc.js';
import type { WorkerContext } from '../worker-context.js';
import { isLastAttempt, toJobError } from './job-errors.js';

export async function processResyncBc(
  job: Job<JobData<'resync-bc'>>,
  _token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
) {
  const data = JOBS['resync-bc'].schema.parse(job.data);
  try {
    return await resyncBc(ctx.sync, data.odooId, {}, { signal });
  } catch (error) {
    const jobError = toJobError(error);
    if (isLastAttempt(job, jobError))
      await recordFailure(ctx.sync.db, { odooId: data.odooId, error, jobId: job.id ?? null });
    throw jobError;
  }
}
