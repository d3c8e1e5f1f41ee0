/**
 * One BullMQ worker per queue of each source copied here (src/queues/source-queues.ts), and one for
 * the change feed's, dispatching by job name through the handler map. Concurrency per queue: runs
 * are few and light, and so are reconciles and verifies at a time (they run for long, on a queue of
 * their own); pages and BC jobs each get SYNC_CONCURRENCY. A page job waits on Odoo, then on
 * PostgreSQL: with fewer pages in flight, the worker sits idle meanwhile (docs/performance.md). A
 * source's workers take up to its `concurrency` of those; the process's slots of a kind are shared by
 * its sources (source-slots.ts).
 *
 * Before a handler runs: a job of a family this worker does not copy goes back for a worker that
 * does (hand-back.ts); one of a family waiting for `migrate` finds it migrated, or fails at once
 * saying so (not retryable); one of a family whose model another family of the fleet copies fails at
 * once, naming it (src/sync/model-claims.ts).
 */
import type { Job, Worker } from 'bullmq';
import type { QueueStore } from '../src/stores/queue-store.js';
import { JOBS, type JobData, type JobName, type QueueName } from '../src/queues/catalogue.js';
import { redeliverIfNudged } from '../src/queues/feed-nudge.js';
import { SOURCE_QUEUE_KINDS, queueNameOf } from '../src/queues/source-queues.js';
import { DEFAULT_SOURCE } from '../src/sources/family-key.js';
import { familyModels } from '../src/families/family.js';
import { AppError, describeError } from '../src/lib/errors.js';
import { runBounded, type StuckExecutions } from './execution-bounds.js';
import { handBack } from './hand-back.js';
import type { JobFlow } from './liveness.js';
import { runForFamily } from './job-family.js';
import { HANDLERS, type Handler } from './handlers.js';
import { createSourceSlots } from './source-slots.js';
import { toJobError } from './step-job.js';
import type { WorkerContext } from './worker-context.js';

export interface WorkerSettings {
  readonly backend: QueueStore;
  /** SYNC_CONCURRENCY: page jobs get it, and so do BC and webhook jobs; runs and reconciles 2. */
  readonly concurrency: number;
  /** SYNC_JOB_LOCK_MS: a job whose lock is not renewed this long (its worker died) is taken over. */
  readonly lockMs: number;
  /** The sources whose queues this process works, each with its share (`concurrency`). */
  readonly sources: readonly WorkedSource[];
  /**
   * The bound on a query of a page, BC or webhook job (execution-bounds.ts); none without it.
   * Runs, reconciles, verifies and the feed's jobs may run long statements: the pool's query
   * watch alone looks at theirs.
   */
  readonly stuckExecutions?: StuckExecutions;
}

/** The queues whose jobs run short statements only: a long-pending query of theirs is stuck. */
const SHORT_STATEMENT_QUEUES: ReadonlySet<QueueName> = new Set([
  'sync-page',
  'sync-record',
  'sync-webhook',
]);

export interface WorkedSource {
  readonly name: string;
  /** Jobs of each kind its workers take at once, up to the process's (SYNC_CONCURRENCY). */
  readonly concurrency: number;
}

/** The process's slots for jobs of `queue`, shared by its sources. */
function concurrencyOf(queue: QueueName, settings: WorkerSettings): number {
  if (queue === 'sync' || queue === 'sync-reconcile') return 2;
  return settings.concurrency;
}

/**
 * The jobs of `queue` a source's worker takes at once: its share, within the process's. A `sync`
 * worker takes one more, for the source's `check-odoo` (one at a time in the fleet:
 * src/http/worker-check.ts), which runs outside the process's slots: a check of an Odoo that
 * hangs never holds a run's slot.
 */
function sourceConcurrencyOf(
  queue: QueueName,
  source: WorkedSource,
  settings: WorkerSettings,
): number {
  const share = Math.min(source.concurrency, concurrencyOf(queue, settings));
  return queue === 'sync' ? share + 1 : share;
}

async function dispatch(
  job: Job<JobData<JobName>>,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
): Promise<unknown> {
  // By name alone: a job left on the queue its kind had in an older version runs all the same.
  const handler = HANDLERS[job.name as JobName] as Handler<JobName> | undefined;
  if (!handler) throw new Error(`no handler for job "${job.name}"`);
  const { families } = ctx.sync;
  // The change feed's jobs are of no family: every worker runs them.
  if ('family' in job.data) {
    if (!families.copies(job.data.family))
      return handBack(job as Job<JobData<JobName> & { family: string }>, token, ctx);
    // A family waiting for migrate: migrated since, it is copied from this job on.
    if (!families.byName(job.data.family)) await families.refresh();
  }
  try {
    const family = 'family' in job.data ? families.byName(job.data.family) : undefined;
    if (family)
      await ctx.claims.ensure(
        family.name,
        familyModels(family).map((model) => model.model),
      );
    return await handler(job, token, signal, ctx);
  } catch (error) {
    // An error raised before the step took over (the family unavailable, say): the same
    // translation, so that what no retry can fix is not retried.
    throw error instanceof AppError ? toJobError(error) : error;
  }
}

export function createWorkers(
  ctx: WorkerContext,
  settings: WorkerSettings,
  flow: JobFlow,
): Worker[] {
  const slots = createSourceSlots((kind) => concurrencyOf(kind, settings));
  const workerOf = (queue: QueueName, source: WorkedSource) => {
    const name = queueNameOf(queue, source.name);
    const worker = settings.backend.worker(
      queue,
      async (job: Job<JobData<JobName>>, token?: string, signal?: AbortSignal) => {
        flow.started(name);
        try {
          // Cancelled or stuck, the execution ends at once and frees its slot (execution-bounds.ts).
          const run = () =>
            runBounded(
              signal ?? new AbortController().signal,
              SHORT_STATEMENT_QUEUES.has(queue) ? settings.stuckExecutions : undefined,
              ctx.logger.child({ queue: name, jobId: job.id }),
              (cancellable) =>
                runForFamily('family' in job.data ? job.data.family : 'none', () =>
                  dispatch(job, token, cancellable, ctx),
                ),
            );
          // The feed's jobs and a source's check take none of the process's slots.
          return await (queue === 'feed' || job.name === 'check-odoo'
            ? run()
            : slots.run(queue, run));
        } finally {
          flow.ended(name);
        }
      },
      {
        concurrency: sourceConcurrencyOf(queue, source, settings),
        lockDuration: settings.lockMs,
        stalledInterval: settings.lockMs,
        autorun: false,
      },
      source.name,
    );
    worker.on('error', (error) => ctx.logger.error({ err: error, queue: name }, 'worker error'));
    // A job whose lock could not be renewed is run again elsewhere once BullMQ finds it stalled:
    // this execution stops (its signal aborts every Odoo call and loop) rather than go on beside it.
    worker.on('lockRenewalFailed', (jobIds) => {
      for (const jobId of jobIds) {
        ctx.logger.warn({ queue: name, jobId }, 'job lost its lock; cancelling this execution');
        worker.cancelJob(jobId, 'the job lost its lock: BullMQ runs it again');
      }
    });
    if (queue === 'feed')
      worker.on('completed', (job) => {
        if (job.name !== 'feed-deliver') return;
        const { subscriptionId } = JOBS['feed-deliver'].schema.parse(job.data);
        redeliverIfNudged({ queues: ctx.queues, flags: ctx.feed.flags }, subscriptionId).catch(
          (error: unknown) =>
            ctx.logger.warn(
              { err: error, subscriptionId },
              'queueing a delivery nudged as its job ended failed: the feed pump queues it',
            ),
        );
      });
    worker.on('failed', (job, error) => {
      if (!job) return;
      const final =
        job.attemptsMade >= (job.opts.attempts ?? 1) || error.name === 'UnrecoverableError';
      // The job's reason is the safe message; the log gets the original error in full.
      ctx.logger[final ? 'error' : 'warn'](
        {
          queue: name,
          job: job.name,
          jobId: job.id,
          attempt: job.attemptsMade,
          final,
          err: error.cause ?? error,
        },
        `${job.name} failed${final ? '' : ', will retry'}: ${describeError(error)}`,
      );
    });
    return worker;
  };
  const deployment = { name: DEFAULT_SOURCE, concurrency: settings.concurrency };
  return [
    ...settings.sources.flatMap((source) =>
      SOURCE_QUEUE_KINDS.map((queue) => workerOf(queue, source)),
    ),
    workerOf('feed', deployment),
  ];
}
