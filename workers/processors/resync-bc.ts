/** `resync-bc`: one BC read fresh and written outside any run; archived when Odoo no longer has it. */
import type { Job } from 'bullmq';
import { JOBS, type JobData } from '../../src/queues/catalogue.js';
import { recordBcFailure, syncBc } from '../../src/sync/sync-bc.js';
import { runStepJob } from '../step-job.js';
import type { WorkerContext } from '../worker-context.js';

export async function processResyncBc(
  job: Job<JobData<'resync-bc'>>,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
) {
  const data = JOBS['resync-bc'].schema.parse(job.data);
  return runStepJob<never, unknown>(job, token, signal, ctx, {
    state: undefined,
    start: async (abort) => {
      const synced = await syncBc(ctx.sync, { odooId: data.odooId, run: null }, { signal: abort });
      return { result: { ...synced.report, odooId: data.odooId, action: synced.outcome.action } };
    },
    onLastFailure: (error) =>
      recordBcFailure(ctx.sync, { odooId: data.odooId, runId: null, jobId: job.id!, error }),
  });
}
