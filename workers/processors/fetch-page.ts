/**
 * `fetch-page`: one page of BCs with their lines from Odoo (two calls), then one `upsert-bc`
 * child per BC whose copy is not already current; comes back when they have settled and reports
 * the page's counts to its run. Pending failures and BCs Odoo would not give get children that
 * read them fresh, so each fails or succeeds on its own.
 */
import { WaitingChildrenError, type Job } from 'bullmq';
import { toOdooDatetime } from '../../src/clients/odoo/odoo-values.js';
import { JOBS, odooIdFromJobKey, upsertBcJobId, type JobData } from '../../src/queues/catalogue.js';
import { fetchBcPageIsolating } from '../../src/sync/fetch.js';
import { writeDateOf } from '../../src/sync/map-records.js';
import { BC_MODEL, BC_SYNC_KEY } from '../../src/sync/models.js';
import { countCalls } from '../../src/sync/odoo-source.js';
import { summarizePage } from '../../src/sync/page-summary.js';
import type { ResyncOutcome } from '../../src/sync/resync-bc.js';
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
    const page = await fetchBcPageIsolating(
      odoo,
      data.ids,
      data.fields,
      Math.max(ctx.sync.settings.pageSize * 10, 1_000),
      { signal },
    );
    const retry = new Set(data.retryIds);
    const { changed, current } = await selectChanged(
      ctx.sync.db,
      page.items.filter((item) => !retry.has(item.bc.id)),
    );
    const fresh = [
      ...data.ids.filter((id) => retry.has(id)),
      ...page.unreadable.map((entry) => entry.odooId),
    ];
    for (const { odooId, error } of page.unreadable) {
      ctx.logger.warn(
        { runId: data.runId, odooId, err: error },
        'BC unreadable in its page; it gets a job of its own',
      );
    }
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
    const base = { runId: data.runId, owner: data.owner };
    await ctx.queues.addBulk('upsert-bc', [
      ...changed.map((item) => ({
        data: {
          ...base,
          odooId: item.bc.id,
          payload: { bc: item.bc, lines: [...item.lines] },
          retry: false,
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
      ...fresh.map((odooId) => ({
        data: { ...base, odooId, retry: retry.has(odooId) },
        options: {
          jobId: upsertBcJobId(odooId, 'fresh', data.runId),
          parent,
          ignoreDependencyOnFailure: true,
        },
      })),
    ]);
    if (changed.length + fresh.length > 0 && (await job.moveToWaitingChildren(token!)))
      throw new WaitingChildrenError();
  }
  const fetched = data.fetched!;
  const [values, failures] = await Promise.all([
    job.getChildrenValues<UpsertOutcome | ResyncOutcome>(),
    job.getIgnoredChildrenFailures(),
  ]);
  const summary = summarizePage({
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
  ctx.logger.info(
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
