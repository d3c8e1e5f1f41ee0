/**
 * A step whose children are still pending when it would settle (workers/step-job.ts): its
 * previous execution queued them and kept its state, then ended before it moved to
 * waiting-children (the store away, a crash), or BullMQ finds none pending while it would refuse
 * to complete the step for one (its PostgreSQL backend's count of them, after a crash). It waits
 * for them rather than settle and have BullMQ refuse ("pending dependencies"), one attempt lost
 * each time.
 */
import { randomBytes } from 'node:crypto';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { ChildJob } from '../../src/queues/catalogue.js';
import { runStepJob } from '../../workers/step-job.js';
import type { WorkerContext } from '../../workers/worker-context.js';

describe('a step whose children are pending when it would settle', () => {
  const prefix = `resumed-${randomBytes(4).toString('hex')}`;
  let connection: Redis;
  const queues: Queue[] = [];
  const workers: Worker[] = [];
  const listening: { events: QueueEvents; connection: Redis }[] = [];
  beforeAll(() => {
    connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.close()));
    for (const { events, connection: own } of listening) {
      await events.close();
      await own.quit();
    }
    for (const queue of queues) {
      await queue.obliterate({ force: true });
      await queue.close();
    }
    await connection.quit();
  });

  /**
   * A queue of steps of one wave with one child, whose first execution's move to waiting-children
   * does what `firstMove` says, and whose children's queue has no worker until `takeChildren()`.
   */
  async function steps(name: string, firstMove: () => Promise<boolean>) {
    const parents = new Queue(`${name}-steps`, { connection, prefix });
    const children = new Queue(`${name}-children`, { connection, prefix });
    queues.push(parents, children);
    const own = connection.duplicate();
    const events = new QueueEvents(parents.name, { connection: own, prefix });
    listening.push({ events, connection: own });
    await events.waitUntilReady();
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
      parents.name,
      async (job: Job<{ state?: string }>, token, signal) => {
        executions.push(job.data.state === undefined ? 'start' : `resumed from ${job.data.state}`);
        if (job.data.state === undefined) job.moveToWaitingChildren = firstMove;
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
    const step = await parents.add(
      'step',
      {},
      { attempts: 3, backoff: { type: 'fixed', delay: 10 } },
    );
    return {
      step,
      events,
      executions,
      failures,
      /** Once the step is in `state` (a bounded wait: it gets there at once). */
      reaches: (state: string) =>
        vi.waitFor(async () => expect(await step.getState()).toBe(state), {
          timeout: 30_000,
          interval: 50,
        }),
      takeChildren() {
        workers.push(
          new Worker(children.name, () => Promise.resolve('copied'), { connection, prefix }),
        );
      },
    };
  }

  it('resumed from its saved state, waits for the children its first execution queued, and loses no attempt to them', async () => {
    // The store does not answer once the state is kept: the move to waiting-children fails.
    const run = await steps('resumed', () => Promise.reject(new Error('the store went away')));
    await run.reaches('waiting-children');
    expect(run.executions).toEqual(['start', 'resumed from wave 1']);

    run.takeChildren();
    await expect(run.step.waitUntilFinished(run.events, 30_000)).resolves.toEqual({
      state: 'wave 1',
      values: ['copied'],
    });
    expect(run.executions).toEqual(['start', 'resumed from wave 1', 'resumed from wave 1']);
    // One attempt failed, the first, for the store; none for the children it waited on.
    expect(run.failures).toEqual(['INTERNAL: unexpected error; the worker log has the details']);
  });

  it('when BullMQ finds no child pending that it would complete it without, looks again later, and loses no attempt', async () => {
    const run = await steps('miscounted', () => Promise.resolve(false));
    await run.reaches('delayed');

    run.takeChildren();
    await expect(run.step.waitUntilFinished(run.events, 30_000)).resolves.toEqual({
      state: 'wave 1',
      values: ['copied'],
    });
    expect(run.executions[0]).toBe('start');
    expect(run.failures).toEqual([]);
  });
});
