/**
 * `upsert-bc`: one BC that needs attention of its own (a pending failure, a BC its page could not
 * read or write), read fresh from Odoo and upserted, with BullMQ's retries and backoff. On its
 * last failed attempt the BC is recorded in `sync_failure`, so the next run retries it.
 */
import type { Job } from 'bullmq';
import { JOBS, type JobData } from '../../src/queues/catalogue.js';
import { BC_SYNC_KEY } from '../../src/sync/models.js';
import { resyncBc } from '../../src/sync/resync-bc.js';
import { recordFailure } from '../../src/sync/run-log.js';
import type { WorkerContext } from '../worker-context.js';
import { isLastAttempt, toJobError } from './job-errors.js';

export async function processUpsertBc(
  job: Job<JobData<'upsert-bc'>>,
  _token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
) {
  const data = JOBS['upsert-bc'].schema.parse(job.data);
  await ctx.sync.heartbeat(BC_SYNC_KEY, data.owner);
  try {
    return await resyncBc(ctx.sync, data.odooId, { runId: data.runId }, { signal });
  } catch (error) {
    const jobError = toJobError(error);
    if (isLastAttempt(job, jobError)) {
      await recordFailure(ctx.sync.db, {
        odooId: data.odooId,
        error,
        runId: data.runId,
        jobId: job.id ?? null,
      });
    }
    throw jobError;
  }
}
