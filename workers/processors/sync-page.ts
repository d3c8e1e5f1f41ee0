/** `sync-page`: one page of a run, then its BC jobs' outcomes (see src/sync/sync-page.ts). */
import type { Job } from 'bullmq';
import { bcJob, JOBS, type JobData } from '../../src/queues/catalogue.js';
import type { RunReport } from '../../src/sync/run-counts.js';
import { withRunLease } from '../../src/sync/run-lease.js';
import { settlePage, syncPage } from '../../src/sync/sync-page.js';
import { runStepJob } from '../step-job.js';
import type { WorkerContext } from '../worker-context.js';

export async function processSyncPage(
  job: Job<JobData<'sync-page'>>,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
): Promise<RunReport> {
  const data = JOBS['sync-page'].schema.parse(job.data);
  const { run } = data;
  return runStepJob(job, token, signal, ctx, {
    state: data.state,
    start: (abort) =>
      withRunLease(ctx.sync, run.lease, abort, async (leased) => {
        const progress = await syncPage(ctx.sync, data, { signal: leased });
        return {
          children: progress.ownJobs.map((odooId) => bcJob(run, odooId)),
          state: progress,
        };
      }),
    settle: (progress, children) =>
      withRunLease(ctx.sync, run.lease, signal, () =>
        settlePage(ctx.sync, {
          run,
          progress,
          children: children.reports,
          failed: children.failed.flatMap((child) =>
            child.odooId === undefined ? [] : [{ ...child, odooId: child.odooId }],
          ),
        }),
      ),
  });
}
