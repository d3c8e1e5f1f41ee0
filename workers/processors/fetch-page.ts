/**
 * `fetch-page`: one page of BCs with their lines from Odoo (two calls), then one `upsert-bc`
 * child per BC whose copy is not already current; comes back when they have settled and reports
 * the page's counts to its run.
 */
import { WaitingChildrenError, type Job } from 'bullmq';
import { toOdooDatetime } from '../../src/clients/odoo/odoo-values.js';
import { JOBS, odooIdFromJobKey, upsertBcJobId, type JobData } from '../../src/queues/catalogue.js';
import { fetchBcPage } from '../../src/sync/fetch.js';
import { writeDateOf } from '../../src/sync/map-records.js';
import { BC_MODEL, BC_SYNC_KEY } from '../../src/sync/models.js';
import { countCalls } from '../../src/sync/odoo-source.js';
import { summarizePage } from '../../src/sync/page-summary.js';
import { selectChanged } from '../../src/sync/select-changed.js';
import type { UpsertOutcome } from '../../src/sync/upsert-bc.js';
import type { WorkerContext } from '../worker-context.js';

export async function processFetchPage(
  job: Job<JobData<'fetch-page'>>,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
) {
  let data = JOBS['fetch-page'].schema.parse(job.data);
  await ctx.sync.heartbeat(BC_SYNC_KEY, data.owner);
  if (!data.fetched) {
    const odoo = countCalls(ctx.sync.odoo);
    const page = await fetchBcPage(
      odoo,
      data.ids,
      data.fields,
      Math.max(ctx.sync.settings.pageSize * 10, 1_000),
      { signal },
    );
    // Pending failures always get a job: its success is what clears them.
    const retry = new Set(data.retryIds);
    const { changed, current } = await selectChanged(
      ctx.sync.db,
      page.items.filter((item) => !retry.has(item.bc.id)),
    );
    const toQueue = [...page.items.filter((item) => retry.has(item.bc.id)), ...changed];
    data = {
      ...data,
      fetched: {
        maxWriteDate: page.maxWriteDate?.toISOString() ?? null,
        odooCalls: odoo.calls,
        alreadyCurrent: current,
      },
    };
    await job.updateData(data);
    const parent = { id: job.id!, queue: job.queueQualifiedName };
    await ctx.queues.addBulk(
      'upsert-bc',
      toQueue.map((item) => ({
        data: {
          runId: data.runId,
          owner: data.owner,
          odooId: item.bc.id,
          bc: item.bc,
          lines: [...item.lines],
          retry: retry.has(item.bc.id),
        },
        options: {
          jobId: upsertBcJobId(
            item.bc.id,
            toOdooDatetime(writeDateOf(item.bc, BC_MODEL)),
            data.runId,
          ),
          parent,
          ignoreDependencyOnFailure: true,
        },
      })),
    );
    if (toQueue.length > 0 && (await job.moveToWaitingChildren(token!)))
      throw new WaitingChildrenError();
  }
  const fetched = data.fetched!;
  const [values, failures] = await Promise.all([
    job.getChildrenValues<UpsertOutcome>(),
    job.getIgnoredChildrenFailures(),
  ]);
  return summarizePage({
    outcomes: Object.values(values),
    alreadyCurrent: fetched.alreadyCurrent,
    failures: Object.entries(failures).map(([key, reason]) => ({
      odooId: odooIdFromJobKey(key),
      code: 'SYNC_BC_FAILED',
      message: reason,
    })),
    maxWriteDate: fetched.maxWriteDate,
    odooCalls: fetched.odooCalls,
  });
}
