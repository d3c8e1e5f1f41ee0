/**
 * BullMQ's job locks, held by executions rather than by job ids. BullMQ 6's lock manager
 * (lock-manager.js) keys what it renews by job id alone, which breaks when a job runs twice on
 * one worker: its lock lapsed while the store was away, BullMQ found it stalled and this worker
 * took it again. Then
 *
 * - the old execution is cancelled by nothing: a renewal that fails because the store does not
 *   answer only emits an error, and the new execution's entry replaced the old one's signal;
 * - the old execution's end stops the new one's renewals: it untracks the job id, the new
 *   execution's lock lapses, and the job is taken over again while it runs.
 *
 * So here an execution's lock is its own: taking its job again cancels the old execution, a lock
 * not renewed for its whole duration (the store away) cancels the execution that held it, and an
 * execution's end untracks its own lock only. The processor hears of a cancellation through its
 * signal (workers/execution-bounds.ts ends it at once).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { EventEmitter } from 'node:events';
import {
  LockManager,
  Worker,
  type ConnectionOptions,
  type IQueueBackend,
  type Job,
  type JobProgress,
  type LockManagerOptions,
  type LockManagerWorkerContext,
  type RedisQueueBackend,
} from 'bullmq';

/** The lock token of the execution whose code runs, through every await of it. */
const execution = new AsyncLocalStorage<string>();

/** Runs `work` as the execution holding lock `token`: what it untracks is its own lock only. */
export function asExecution<T>(token: string, work: () => T): T {
  return execution.run(token, work);
}

/** What the lock manager needs of its worker: BullMQ's context, and the renewals it emits. */
type LockOwner = LockManagerWorkerContext & Pick<EventEmitter, 'on'>;

export class ExecutionLocks extends LockManager {
  /** When each tracked job's lock was last renewed (or taken). */
  private readonly renewedAt = new Map<string, number>();

  constructor(worker: LockOwner, opts: LockManagerOptions) {
    super(worker, opts);
    worker.on('locksRenewed', ({ jobIds }: { jobIds: string[] }) => {
      const now = Date.now();
      for (const jobId of jobIds) if (this.trackedJobs.has(jobId)) this.renewedAt.set(jobId, now);
    });
  }

  override trackJob(jobId: string, token: string, ts: number, shouldCreateController?: boolean) {
    const previous = this.trackedJobs.get(jobId);
    if (previous && previous.token !== token)
      previous.abortController?.abort('the job was taken again: this execution lost its lock');
    this.renewedAt.set(jobId, Date.now());
    return super.trackJob(jobId, token, ts, shouldCreateController);
  }

  override untrackJob(jobId: string): void {
    const token = execution.getStore();
    // Another execution's, which took the job again since this one did.
    if (token !== undefined && this.trackedJobs.get(jobId)?.token !== token) return;
    this.renewedAt.delete(jobId);
    super.untrackJob(jobId);
  }

  protected override async extendLocks(jobIds: string[]): Promise<void> {
    await super.extendLocks(jobIds);
    // A lock not renewed for its whole duration has lapsed in the store: the job is another's.
    const lapsedAt = Date.now() - this.opts.lockDuration;
    for (const [jobId, tracked] of this.trackedJobs)
      if ((this.renewedAt.get(jobId) ?? 0) <= lapsedAt && !tracked.abortController?.signal.aborted)
        tracked.abortController?.abort(
          'the job lost its lock: it was not renewed for its whole duration (the store away)',
        );
  }
}

/** A BullMQ Worker, on either store, whose locks are {@link ExecutionLocks}'. */
export class ExecutionWorker<
  B extends IQueueBackend = RedisQueueBackend,
  C = ConnectionOptions,
> extends Worker<unknown, unknown, string, B, JobProgress, C> {
  protected override createLockManager(): void {
    // As BullMQ's Worker makes its own: the types of its `trace` differ, not what it does.
    this.lockManager = new ExecutionLocks(this as unknown as LockOwner, {
      lockRenewTime: this.opts.lockRenewTime!,
      lockDuration: this.opts.lockDuration!,
      workerId: this.id,
      ...(this.opts.name === undefined ? {} : { workerName: this.opts.name }),
    });
  }

  override processJob(
    job: Job<unknown, unknown>,
    token: string,
    fetchNextCallback?: () => boolean,
  ) {
    return asExecution(token, () => super.processJob(job, token, fetchNextCallback));
  }
}
