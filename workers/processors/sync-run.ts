/**
 * `sync-run`: start the run (lease, scans, plan) and queue its pages and due retries; finish it
 * once they have settled. A failed run is a failed job, so bull-board and the CLI show it.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import { bcJob, JOBS, pageJob, type JobData } from '../../src/queues/catalogue.js';
import { finishRun, type FinishedRun } from '../../src/sync/finish-run.js';
import { startRun } from '../../src/sync/start-run.js';
import { runStepJob } from '../step-job.js';
import type { WorkerContext } from '../worker-context.js';

type Result =
  FinishedRun | { status: 'paused' | 'skipped'; runId?: number; heldBy?: string | null };

export async function processSyncRun(
  job: Job<JobData<'sync-run'>>,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
): Promise<Result> {
  const data = JOBS['sync-run'].schema.parse(job.data);
  const finished = await runStepJob<NonNullable<typeof data.state>, Result>(
    job,
    token,
    signal,
    ctx,
    {
      state: data.state,
      async start(abort) {
        const started = await startRun(
          ctx.sync,
          {
            trigger: data.trigger,
            owner: `run-${job.id}`,
            scheduled: data.scheduled,
            full: data.full,
          },
          { signal: abort },
        );
        if (started.status !== 'started') return { result: started };
        const { run, plan } = started;
        return {
          children: [
            ...plan.pages.map((ids) => pageJob(run, ids, plan.schema)),
            ...plan.retryIds.map((odooId) => bcJob(run, odooId)),
          ],
          state: {
            run,
            watermark: plan.watermark,
            lineWatermark: plan.lineWatermark,
            settledThrough: plan.settledThrough,
            startedAt: plan.startedAt,
            startCalls: plan.odooCalls,
          },
        };
      },
      settle: (state, children) =>
        finishRun(ctx.sync, {
          ...state,
          reports: children.reports,
          failedPages: children.failed.filter((child) => child.odooId === undefined),
          failedBcs: children.failed.flatMap((child) =>
            child.odooId === undefined ? [] : [{ ...child, odooId: child.odooId }],
          ),
        }),
    },
  );
  if (finished.status === 'failed')
    throw new UnrecoverableError(
      `SYNC_RUN_FAILED: run ${finished.runId} failed: ${'errors' in finished ? (finished.errors[0]?.message ?? 'see sync_log') : ''}`,
    );
  return finished;
}
