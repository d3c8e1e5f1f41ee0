/**
 * `resync-record`: one root read fresh and written outside any run; archived when Odoo no longer
 * has it.
 */
import type { Job } from 'bullmq';
import { JOBS, type JobData } from '../../src/queues/catalogue.js';
import { recordJobFailure, syncRecord } from '../../src/sync/sync-record.js';
import { runStepJob } from '../step-job.js';
import type { WorkerContext } from '../worker-context.js';

export async function processResyncRecord(
  job: Job<JobData<'resync-record'>>,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
) {
  const data = JOBS['resync-record'].schema.parse(job.data);
  const family = ctx.sync.families.require(data.family);
  // Odoo as the family's source reaches it (docs/sources.md).
  const sync = ctx.syncOf(family.name);
  return runStepJob<never, unknown>(job, token, signal, ctx, {
    state: undefined,
    start: async (abort) => {
      const synced = await syncRecord(
        sync,
        { family, odooId: data.odooId, run: null },
        { signal: abort },
      );
      return {
        result: {
          ...synced.report,
          family: family.name,
          odooId: data.odooId,
          action: synced.outcome.action,
        },
      };
    },
    onLastFailure: (error) =>
      recordJobFailure(sync, {
        family,
        odooId: data.odooId,
        runId: null,
        jobId: job.id!,
        error,
      }),
  });
}
