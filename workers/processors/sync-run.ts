/**
 * `sync-run`: start the run (lease, scans, plan) and queue its pages and due retries; finish it
 * once they have settled. A failed run is a failed job, so bull-board and the CLI show it.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import {
  JOBS,
  pageJob,
  recordJob,
  type ChildJob,
  type JobData,
} from '../../src/queues/catalogue.js';
import type { RecordFamily } from '../../src/families/family.js';
import { finishRun, type FinishedRun } from '../../src/sync/finish-run.js';
import type { RunRef } from '../../src/sync/run-lease.js';
import type { RunPlan } from '../../src/sync/start-run.js';
import { startRun } from '../../src/sync/start-run.js';
import { deferJob, deferOnTransientFailure } from '../defer-job.js';
import { runStepJob } from '../step-job.js';
import { childrenOfRun } from '../run-children.js';
import type { WorkerContext } from '../worker-context.js';

type Result =
  FinishedRun | { status: 'paused' | 'skipped'; runId?: number; heldBy?: string | null };

/** Children queued per batch: the plan's pages are read from the stage as they are queued. */
const CHILDREN_PER_BATCH = 100;

async function* runChildren(
  family: RecordFamily,
  run: RunRef,
  plan: RunPlan,
): AsyncGenerator<ChildJob[]> {
  let batch: ChildJob[] = [];
  for await (const ids of plan.pages) {
    batch.push(pageJob(family.name, run, ids, plan.schema));
    if (batch.length < CHILDREN_PER_BATCH) continue;
    yield batch;
    batch = [];
  }
  yield [...batch, ...plan.retryIds.map((odooId) => recordJob(family.name, run, odooId))];
}

export async function processSyncRun(
  job: Job<JobData<'sync-run'>>,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
): Promise<Result> {
  const data = JOBS['sync-run'].schema.parse(job.data);
  // A run reads and writes under the layouts as migrate left them (docs/models.md).
  await ctx.sync.families.refresh();
  const family = ctx.sync.families.require(data.family);
  const finished = await runStepJob<NonNullable<typeof data.state>, Result>(
    job,
    token,
    signal,
    ctx,
    {
      state: data.state,
      async start(abort) {
        // A full resync someone asked for waits until it runs (see defer-job.ts).
        const started = await startRun(
          ctx.sync,
          {
            family,
            trigger: data.trigger,
            owner: `run-${job.id}`,
            jobId: job.id!,
            scheduled: data.scheduled,
            full: data.full,
          },
          { signal: abort },
        ).catch(deferOnTransientFailure(job, token, ctx, { wanted: data.full, signal: abort }));
        if (started.status === 'skipped' && data.full)
          await deferJob(job, token, ctx, 'another run holds the lease');
        if (started.status !== 'started') return { result: started };
        const { run, plan } = started;
        return {
          children: runChildren(family, run, plan),
          state: {
            run,
            watermarks: plan.watermarks,
            settledThrough: plan.settledThrough,
            startedAt: plan.startedAt,
            startCalls: plan.odooCalls,
            futureStamped: plan.futureStamped,
            scanErrors: plan.scanErrors,
          },
        };
      },
      settle: (state, children) =>
        finishRun(ctx.sync, { ...state, family, ...childrenOfRun(state.run, children) }),
    },
  );
  if (finished.status === 'failed')
    throw new UnrecoverableError(
      `SYNC_RUN_FAILED: ${family.name} run ${finished.runId} failed: ${'errors' in finished ? (finished.errors[0]?.message ?? 'see sync_log') : ''}`,
    );
  return finished;
}
