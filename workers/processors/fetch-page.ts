/**
 * `fetch-page`: one page of BCs with their lines from Odoo (two calls), written in set-based
 * batches right here — the data is in hand, and a job per BC would cost more than the write.
 * BCs that need attention of their own get an `upsert-bc` child that reads them fresh from Odoo
 * and retries with backoff: pending failures, BCs Odoo would not give, BCs whose write failed.
 * The page comes back when those have settled and reports its counts to its run.
 */
import { WaitingChildrenError, type Job } from 'bullmq';
import { JOBS, odooIdFromJobKey, upsertBcJobId, type JobData } from '../../src/queues/catalogue.js';
import { describeError } from '../../src/lib/errors.js';
import { fetchBcPageIsolating } from '../../src/sync/fetch.js';
import { BC_SYNC_KEY } from '../../src/sync/models.js';
import { countCalls } from '../../src/sync/odoo-source.js';
import { countOutcomes, summarizePage } from '../../src/sync/page-summary.js';
import type { ResyncOutcome } from '../../src/sync/resync-bc.js';
import { selectChanged } from '../../src/sync/select-changed.js';
import { writePage } from '../../src/sync/write-page.js';
import type { WorkerContext } from '../worker-context.js';

export async function processFetchPage(
  job: Job<JobData<'fetch-page'>>,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
) {
  let data = JOBS['fetch-page'].schema.parse(job.data);
  const { db, logger, settings } = ctx.sync;
  await ctx.sync.heartbeat(BC_SYNC_KEY, data.owner);
  if (!data.fetched) {
    const odoo = countCalls(ctx.sync.odoo);
    const page = await fetchBcPageIsolating(
      odoo,
      data.ids,
      data.fields,
      Math.max(settings.pageSize * 10, 1_000),
      { signal },
    );
    const retry = new Set(data.retryIds);
    const { changed, current } = await selectChanged(
      db,
      page.items.filter((item) => !retry.has(item.bc.id)),
    );
    const written = await writePage(db, changed, data.runId, logger);
    const ownJobs = [
      ...data.ids
        .filter((id) => retry.has(id))
        .map((odooId) => ({ odooId, reason: 'pending failure' })),
      ...page.unreadable.map(({ odooId, error }) => ({
        odooId,
        reason: `unreadable in its page: ${describeError(error)}`,
      })),
      ...written.failed.map(({ odooId, error }) => ({
        odooId,
        reason: `write failed: ${describeError(error)}`,
      })),
    ];
    for (const { odooId, reason } of ownJobs.filter((entry) => !retry.has(entry.odooId))) {
      logger.warn({ runId: data.runId, odooId }, `BC ${odooId} gets a job of its own: ${reason}`);
    }
    data = {
      ...data,
      fetched: {
        maxWriteDate: page.maxWriteDate?.toISOString() ?? null,
        odooCalls: odoo.calls,
        alreadyCurrent: current,
        written: countOutcomes(written.outcomes),
      },
    };
    await job.updateData(data);
    const parent = { id: job.id!, queue: job.queueQualifiedName };
    await ctx.queues.addBulk(
      'upsert-bc',
      ownJobs.map(({ odooId }) => ({
        data: { runId: data.runId, owner: data.owner, odooId, retry: retry.has(odooId) },
        options: {
          jobId: upsertBcJobId(odooId, data.runId),
          parent,
          ignoreDependencyOnFailure: true,
        },
      })),
    );
    if (ownJobs.length > 0 && (await job.moveToWaitingChildren(token!)))
      throw new WaitingChildrenError();
  }
  const fetched = data.fetched!;
  const [values, failures] = await Promise.all([
    job.getChildrenValues<ResyncOutcome>(),
    job.getIgnoredChildrenFailures(),
  ]);
  const summary = summarizePage({
    written: fetched.written,
    jobs: Object.values(values),
    alreadyCurrent: fetched.alreadyCurrent,
    failures: Object.entries(failures).map(([key, reason]) => ({
      odooId: odooIdFromJobKey(key),
      code: 'SYNC_BC_FAILED',
      message: reason,
    })),
    maxWriteDate: fetched.maxWriteDate,
    odooCalls: fetched.odooCalls,
  });
  logger.info(
    {
      runId: data.runId,
      page: data.page,
      bcs: summary.bcsSeen,
      created: summary.created,
      updated: summary.updated,
      unchanged: summary.unchanged,
      failed: summary.failed,
    },
    `run ${data.runId}: page ${data.page + 1} done`,
  );
  return summary;
}
