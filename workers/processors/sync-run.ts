/**
 * `sync-run`: a step job. First pass: start the run (lease, scan) and queue its pages as children;
 * BullMQ brings the job back when every page has settled (a failed page is ignored, not fatal to
 * the wait) and the second pass finishes the run.
 */
import { UnrecoverableError, WaitingChildrenError, type Job } from 'bullmq';
import { JOBS, type JobData } from '../../src/queues/catalogue.js';
import { finishRun, startRun, type PageSummary } from '../../src/sync/sync-run.js';
import type { WorkerContext } from '../worker-context.js';
import { toJobError } from './job-errors.js';

export async function processSyncRun(
  job: Job<JobData<'sync-run'>>,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
) {
  let data = JOBS['sync-run'].schema.parse(job.data);
  if (!data.state) {
    const started = await startRun(
      ctx.sync,
      { trigger: data.trigger, owner: `run-${job.id}` },
      { signal },
    ).catch((error: unknown) => {
      throw toJobError(error);
    });
    if (started.status === 'skipped')
      return { status: 'skipped' as const, runId: started.runId, heldBy: started.heldBy };
    data = {
      ...data,
      state: {
        runId: started.runId,
        owner: started.owner,
        startCalls: started.odooCalls,
        lineMaxWriteDate: started.lineMaxWriteDate,
      },
    };
    await job.updateData(data);
    const parent = { id: job.id!, queue: job.queueQualifiedName };
    await ctx.queues.addBulk(
      'fetch-page',
      started.pages.map((ids, page) => ({
        data: {
          runId: started.runId,
          owner: started.owner,
          page,
          ids,
          fields: { bc: [...started.fields.bc], line: [...started.fields.line] },
          retryIds: started.retryIds,
        },
        options: {
          jobId: `page-${started.runId}-${page}`,
          parent,
          ignoreDependencyOnFailure: true,
        },
      })),
    );
    if (started.pages.length > 0 && (await job.moveToWaitingChildren(token!)))
      throw new WaitingChildrenError();
  }
  const state = data.state!;
  const [values, failures] = await Promise.all([
    job.getChildrenValues<PageSummary>(),
    job.getIgnoredChildrenFailures(),
  ]);
  const finished = await finishRun(ctx.sync, {
    runId: state.runId,
    owner: state.owner,
    startCalls: state.startCalls,
    lineMaxWriteDate: state.lineMaxWriteDate,
    pages: Object.values(values),
    failedPages: Object.entries(failures).map(([key, reason]) => ({
      code: 'SYNC_PAGE_FAILED',
      message: `${key.split(':').pop()}: ${reason}`,
    })),
  });
  // A failed run is a failed job, so bull-board and the CLI show it; its log row says why.
  if (finished.status === 'failed')
    throw new UnrecoverableError(
      `run ${finished.runId} failed: ${finished.errors[0]?.message ?? 'see sync_log'}`,
    );
  return finished;
}
