/**
 * `sync-run`: start the run (lease, scans, plan) and queue its due retries and its pages, a wave
 * at a time; finish it once they have settled. A failed run is a failed job, so bull-board and
 * the CLI show it.
 *
 * Waves: a run queues at most SYNC_RUN_PAGES_IN_FLIGHT pages, waits until they have settled,
 * then queues the next ones (the pages are read back from the plan in PostgreSQL). A first copy
 * of a million records thus never has more than a wave in Redis, and the pages of another
 * family's run never queue behind more than a wave of it — less, with their priority (see
 * pagePriority). While the run waits its lease is kept (lease-keeper.ts).
 */
import { UnrecoverableError, type Job } from 'bullmq';
import { JOBS, pageJob, recordJob, type JobData } from '../../src/queues/catalogue.js';
import { finishRun, type FinishedRun } from '../../src/sync/finish-run.js';
import { runStateSchema, type RunState } from '../../src/sync/run-state.js';
import { plannedWave, startRun } from '../../src/sync/start-run.js';
import { deferJob, deferOnTransientFailure } from '../defer-job.js';
import { runStepJob, type Wave } from '../step-job.js';
import { childrenOfRun } from '../run-children.js';
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
  // A run reads and writes under the layouts as migrate left them (docs/models.md).
  await ctx.sync.families.refresh();
  const family = ctx.sync.families.require(data.family);
  // Odoo as the family's source reaches it (docs/sources.md).
  const sync = ctx.syncOf(family.name);
  /** The next wave of the run's pages, queued with the state that follows it. */
  const nextWave = async (state: RunState, abort: AbortSignal): Promise<Wave<RunState>> => {
    const wave = await plannedWave(sync, family, state, ctx.settings.runPagesInFlight, {
      signal: abort,
    });
    return {
      children: wave.pages.map((ids) => pageJob(family.name, state.run, ids, state)),
      state: wave.state,
    };
  };
  const finished = await runStepJob<RunState, Result>(job, token, signal, ctx, {
    state: data.state,
    encode: (state) => runStateSchema.encode(state),
    async start(abort) {
      // A full resync someone asked for waits until it runs (see defer-job.ts).
      const started = await startRun(
        sync,
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
      const first = await nextWave(started.state, abort);
      return {
        children: [
          ...started.retryIds.map((odooId) => recordJob(family.name, started.state.run, odooId)),
          ...first.children,
        ],
        state: first.state,
      };
    },
    async more(state, abort) {
      if (state.pagesAfter === null) return undefined;
      // PostgreSQL away between two waves: the run waits (its lease kept) and goes on later.
      const wave = await nextWave(state, abort).catch(
        deferOnTransientFailure(job, token, ctx, { wanted: true, signal: abort }),
      );
      return wave.children.length > 0 ? wave : undefined;
    },
    settle: (state, children) =>
      finishRun(sync, { family, state, ...childrenOfRun(state.run, children) }),
  });
  if (finished.status === 'failed')
    throw new UnrecoverableError(
      `SYNC_RUN_FAILED: ${family.name} run ${finished.runId} failed: ${'errors' in finished ? (finished.errors[0]?.message ?? 'see sync_log') : ''}`,
    );
  return finished;
}
