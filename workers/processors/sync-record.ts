/**
 * `sync-record`: one root of a run read fresh and written, with BullMQ's attempts and backoff. Its
 * last failed attempt records the root in sync_failure (its parent records it too, from the
 * queue's own list, in case this job died without getting here).
 */
import type { Job } from 'bullmq';
import { JOBS, type JobData } from '../../src/queues/catalogue.js';
import { isRunLevelFailure } from '../../src/sync/sync-failures.js';
import { recordJobFailure, syncRunRecord } from '../../src/sync/sync-record.js';
import { runStepJob } from '../step-job.js';
import type { WorkerContext } from '../worker-context.js';

export async function processSyncRecord(
  job: Job<JobData<'sync-record'>>,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
) {
  const data = JOBS['sync-record'].schema.parse(job.data);
  const family = ctx.sync.families.require(data.family);
  // Odoo as the family's source reaches it (docs/sources.md).
  const sync = ctx.syncOf(family.name);
  return runStepJob<never, unknown>(job, token, signal, ctx, {
    state: undefined,
    start: async (abort) => {
      const synced = await syncRunRecord(sync, { ...data, family }, { signal: abort });
      return {
        result: {
          ...synced.report,
          token: data.run.lease.token,
          family: family.name,
          odooId: data.odooId,
          action: synced.outcome.action,
        },
      };
    },
    async onLastFailure(error) {
      if (isRunLevelFailure(error)) return;
      await recordJobFailure(sync, {
        family,
        odooId: data.odooId,
        runId: data.run.runId,
        jobId: job.id!,
        error,
      });
    },
  });
}
