/**
 * Which queues an operator paused with BullMQ's own pause (bull-board's button on a queue,
 * `Queue.pause`): their jobs wait and no worker takes one until the queue is resumed. It is not the
 * schedule's pause (`sync pause`, sync-state.ts), which stops a family's scheduled runs and leaves
 * its queues working. The sync state and `status` show both, and the liveness watch does not take
 * a paused queue's waiting jobs for a wedged job loop (workers/liveness.ts).
 */
import type { Queue } from 'bullmq';
import { withDeadline } from '../lib/deadline.js';

/** How long a read of the pauses waits for the queues' store before it says it does not know. */
const READ_DEADLINE_MS = 2_000;

/**
 * The names of the paused ones among `queues`, in their order; undefined when their store did not
 * answer within a couple of seconds (a state or a status is still given without them).
 */
export async function pausedQueueNames(queues: readonly Queue[]): Promise<string[] | undefined> {
  try {
    const paused = await withDeadline(
      Promise.all(queues.map((queue) => queue.isPaused())),
      READ_DEADLINE_MS,
      () => new Error('the queues did not answer'),
    );
    return queues.filter((_, i) => paused[i]).map((queue) => queue.name);
  } catch {
    return undefined;
  }
}
