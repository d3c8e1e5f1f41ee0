/** `sync-page`: one page of a run, then its BC jobs' outcomes (see src/sync/sync-page.ts). */
import type { Job } from 'bullmq';
import { bcJob, JOBS, type JobData } from '../../src/queues/catalogue.js';
import type { RunReport } from '../../src/sync/run-counts.js';
import { withRunLease } from '../../src/sync/run-lease.js';
import { settlePage, syncPage } from '../../src/sync/sync-page.js';
import { childrenOfRun } from '../run-children.js';
import { runStepJob } from '../step-job.js';
import type { WorkerContext } from '../worker-context.js';

export async function processSyncPage(
  job: Job<JobData<'sync-page'>>,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
): Promise<RunReport & { token: number }> {
  const data = JOBS['sync-page'].schema.parse(job.data);
  const { run } = data;
  const report = await runStepJob(job, token, signal, ctx, {
    state: data.state,
    start: (abort) =>
      withRunLease(ctx.sync, run.lease, abort, async (leased) => {
        const progress = await syncPage(ctx.sync, data, { signal: leased });
        return {
          children: progress.ownJobs.map((odooId) => bcJob(run, odooId)),
          state: progress,
        };
      }),
    settle: (progress, children) => {
      const { reports, failedBcs } = childrenOfRun(run, children);
      return withRunLease(ctx.sync, run.lease, signal, () =>
        settlePage(ctx.sync, { run, progress, children: reports, failed: failedBcs }),
      );
    },
  });
  return { ...report, token: run.lease.token };
}
