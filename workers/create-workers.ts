/**
 * One BullMQ worker per queue, dispatching by job name through the handler map. Concurrency per
 * queue: runs are few and light; pages and BC jobs each get SYNC_CONCURRENCY. A page job waits
 * on Odoo, then on PostgreSQL: with fewer pages in flight, the worker sits idle meanwhile (two
 * instead of four made a full copy about 7 % slower, one instead of four 50 %; docs/performance.md).
 */
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  JOBS,
  QUEUE_NAMES,
  type JobData,
  type JobName,
  type QueueName,
} from '../src/queues/catalogue.js';
import { describeError } from '../src/lib/errors.js';
import { HANDLERS, type Handler } from './handlers.js';
import type { WorkerContext } from './worker-context.js';

export interface WorkerSettings {
  readonly connection: Redis;
  readonly prefix: string;
  /** SYNC_CONCURRENCY: page jobs get it, and so do BC and webhook jobs; runs 2. */
  readonly concurrency: number;
  /** SYNC_JOB_LOCK_MS: a job whose lock is not renewed this long (its worker died) is taken over. */
  readonly lockMs: number;
}

function concurrencyOf(queue: QueueName, settings: WorkerSettings): number {
  if (queue !== 'sync') return settings.concurrency;
  return 2;
}

export function createWorkers(ctx: WorkerContext, settings: WorkerSettings): Worker[] {
  return QUEUE_NAMES.map((queue) => {
    const worker = new Worker(
      queue,
      (job: Job<JobData<JobName>>, token?: string, signal?: AbortSignal) => {
        const name = job.name as JobName;
        const handler = HANDLERS[name] as Handler<JobName> | undefined;
        if (!handler || JOBS[name].queue !== queue)
          throw new Error(`no handler for job "${job.name}" on queue "${queue}"`);
        return handler(job, token, signal ?? new AbortController().signal, ctx);
      },
      {
        connection: settings.connection,
        prefix: settings.prefix,
        concurrency: concurrencyOf(queue, settings),
        lockDuration: settings.lockMs,
        stalledInterval: settings.lockMs,
        autorun: false,
      },
    );
    worker.on('error', (error) => ctx.logger.error({ err: error, queue }, 'worker error'));
    // A job whose lock could not be renewed is run again elsewhere once BullMQ finds it stalled:
    // this execution stops (its signal aborts every Odoo call and loop) rather than go on beside it.
    worker.on('lockRenewalFailed', (jobIds) => {
      for (const jobId of jobIds) {
        ctx.logger.warn({ queue, jobId }, 'job lost its lock; cancelling this execution');
        worker.cancelJob(jobId, 'the job lost its lock: BullMQ runs it again');
      }
    });
    worker.on('failed', (job, error) => {
      if (!job) return;
      const final =
        job.attemptsMade >= (job.opts.attempts ?? 1) || error.name === 'UnrecoverableError';
      // The job's reason is the safe message; the log gets the original error in full.
      ctx.logger[final ? 'error' : 'warn'](
        {
          queue,
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
  });
}
