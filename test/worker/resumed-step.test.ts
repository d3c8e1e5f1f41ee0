/**
 * A step that runs again from its saved state while the children of its last wave are still
 * pending (workers/step-job.ts): its previous execution queued them and kept its state, then ended
 * before it moved to waiting-children (the store away, a crash). It waits for them, as the first
 * execution would have, rather than settle and have BullMQ refuse ("pending dependencies"), one
 * attempt lost each time.
 */
import { randomBytes } from 'node:crypto';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { ChildJob } from '../../src/queues/catalogue.js';
import { runStepJob } from '../../workers/step-job.js';
import type { WorkerContext } from '../../workers/worker-context.js';

describe('a step resumed from its saved state', () => {
  const prefix = `resumed-${randomBytes(4).toString('hex')}`;
  let connection: Redis;
  /** The events' own: they block on it. */
  let listening: Redis;
  let parents: Queue;
  let children: Queue;
  let events: QueueEvents;
  const workers: Worker[] = [];
  beforeAll(async () => {
    connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    parents = new Queue('steps', { connection, prefix });
    children = new Queue('children', { connection, prefix });
    listening = connection.duplicate();
    events = new QueueEvents('steps', { connection: listening, prefix });
    await events.waitUntilReady();
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.close()));
    await events.close();
    await listening.quit();
    for (const queue of [parents, children]) {
      await queue.obliterate({ force: true });
      await queue.close();
    }
    await connection.quit();
  });

  it('waits for the children its first execution queued, and loses no attempt to them', async () => {
    // The children go to a queue of the test's own: the step machinery adds them as a run does.
    const ctx = {
      queues: {
        addChildren: async (parent: { id: string; queue: string }, jobs: readonly ChildJob[]) => {
          await children.addBulk(
            jobs.map((child) => ({
              name: child.name,
              data: child.data,
              opts: { jobId: child.jobId, parent, ignoreDependencyOnFailure: true },
            })),
          );
        },
      },
    } as unknown as WorkerContext;
    const child = { name: 'sync-record', data: {}, jobId: 'child-1' } as unknown as ChildJob;
    const executions: string[] = [];
    const failures: string[] = [];
    const worker = new Worker(
      'steps',
      async (job: Job<{ state?: string }>, token, signal) => {
        executions.push(job.data.state === undefined ? 'start' : `resumed from ${job.data.state}`);
        // The store does not answer once the state is kept: the move to waiting-children fails.
        if (job.data.state === undefined)
          job.moveToWaitingChildren = () => Promise.reject(new Error('the store went away'));
        return runStepJob(job, token, signal!, ctx, {
          state: job.data.state,
          start: () => Promise.resolve({ children: [child], state: 'wave 1' }),
          settle: (state, settled) =>
            Promise.resolve({ state, values: settled.completed.map(({ value }) => value) }),
        });
      },
      { connection, prefix },
    );
    worker.on('failed', (_, error) => failures.push(error.message));
    workers.push(worker);
    const parent = await parents.add(
      'step',
      {},
      { attempts: 3, backoff: { type: 'fixed', delay: 10 } },
    );

    // Its child is not taken up yet: the job runs again from its state, and waits for it.
    await vi.waitFor(async () => expect(await parent.getState()).toBe('waiting-children'), {
      timeout: 30_000,
      interval: 50,
    });
    expect(executions).toEqual(['start', 'resumed from wave 1']);

    workers.push(new Worker('children', () => Promise.resolve('copied'), { connection, prefix }));
    await expect(parent.waitUntilFinished(events, 30_000)).resolves.toEqual({
      state: 'wave 1',
      values: ['copied'],
    });
    expect(executions).toEqual(['start', 'resumed from wave 1', 'resumed from wave 1']);
    // One attempt failed, the first, for the store; none for the children it waited on.
    expect(failures).toEqual(['INTERNAL: unexpected error; the worker log has the details']);
  });
});
