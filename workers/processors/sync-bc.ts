/**
 * `sync-bc`: one BC of a run read fresh and written, with BullMQ's attempts and backoff. Its last
 * failed attempt records the BC in sync_failure (its parent records it too, from the queue's own
 * list, in case this job died without getting here).
 */
import type { Job } from 'bullmq';
import { JOBS, type JobData } from '../../src/queues/catalogue.js';
import { recordBcFailure, syncRunBc } from '../../src/sync/sync-bc.js';
import { isRunLevelFailure } from '../../src/sync/sync-page.js';
import { runStepJob } from '../step-job.js';
import type { WorkerContext } from '../worker-context.js';

export async function processSyncBc(
  job: Job<JobData<'sync-bc'>>,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
) {
  const data = JOBS['sync-bc'].schema.parse(job.data);
  return runStepJob<never, unknown>(job, token, signal, ctx, {
    state: undefined,
    start: async (abort) => {
      const synced = await syncRunBc(ctx.sync, data, { signal: abort });
      return {
        result: {
          ...synced.report,
          token: data.run.lease.token,
          odooId: data.odooId,
          action: synced.outcome.action,
        },
      };
    },
    async onLastFailure(error) {
      if (isRunLevelFailure(error)) return;
      await recordBcFailure(ctx.sync, {
        odooId: data.odooId,
        runId: data.run.runId,
        jobId: job.id!,
        error,
      });
    },
  });
}
