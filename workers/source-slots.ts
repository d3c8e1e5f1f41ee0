/**
 * A worker process's slots for each kind of job, shared by the sources it copies (docs/sources.md,
 * "Fair under load"). Each source has queues and workers of its own, and each of its workers takes
 * up to the source's `concurrency` jobs at once; the process runs no more jobs of a kind than one
 * source would (SYNC_CONCURRENCY pages, say), so that its memory does not grow with its sources. A
 * job taken waits for a slot in the order jobs were taken: while every source has work, each holds
 * slots in proportion to its `concurrency`, and a source with a million pages queued holds no more
 * than its share while another's pages, records or webhook events wait.
 *
 * A job waiting for a slot is active in BullMQ (its lock renewed), so a worker that dies meanwhile
 * leaves it to another, as any job.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import type { SourceQueueKind } from '../src/queues/source-queues.js';

export interface SourceSlots {
  /** Runs `work` once a slot of `kind` is free. */
  run<T>(kind: SourceQueueKind, work: () => Promise<T>): Promise<T>;
}

export function createSourceSlots(slots: (kind: SourceQueueKind) => number): SourceSlots {
  const limits = new Map<SourceQueueKind, LimitFunction>();
  const limitOf = (kind: SourceQueueKind): LimitFunction => {
    let limit = limits.get(kind);
    if (!limit) {
      limit = pLimit(slots(kind));
      limits.set(kind, limit);
    }
    return limit;
  };
  return { run: (kind, work) => limitOf(kind)(work) };
}
