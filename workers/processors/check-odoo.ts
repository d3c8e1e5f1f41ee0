/**
 * `check-odoo`: a source's Odoo checked with this worker's credentials (src/check), for
 * GET /api/sync/check; the report's section is the job's value. Reads only.
 */
import type { Job } from 'bullmq';
import { JOBS, type JobData } from '../../src/queues/catalogue.js';
import type { WorkerContext } from '../worker-context.js';

export async function processCheckOdoo(
  job: Job<JobData<'check-odoo'>>,
  _token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
) {
  const { source } = JOBS['check-odoo'].schema.parse(job.data);
  return ctx.checkSource(source, signal);
}
