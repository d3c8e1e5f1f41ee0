/** `sync-page`: one page of a run, then its record jobs' outcomes (see src/sync/sync-page.ts). */
import type { Job } from 'bullmq';
import { JOBS, recordJob, type JobData } from '../../src/queues/catalogue.js';
import type { RunReport } from '../../src/sync/run-counts.js';
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
  const family = ctx.sync.families.require(data.family);
  // Odoo as the family's source reaches it (docs/sources.md).
  const sync = ctx.syncOf(family.name);
  const report = await runStepJob(job, token, signal, ctx, {
    state: data.state,
    async start(abort) {
      const progress = await syncPage(sync, { ...data, family }, { signal: abort });
      return {
        children: progress.ownJobs.map((odooId) => recordJob(family.name, run, odooId)),
        state: progress,
      };
    },
    settle: (progress, children) => {
      const { reports, failedRecords } = childrenOfRun(run, children);
      return settlePage(
        sync,
        { family, run, progress, children: reports, failed: failedRecords },
        { signal },
      );
    },
  });
  return { ...report, token: run.lease.token };
}
