/**
 * A process that waits for a job it queued while its own event loop is busy (the sync CLI runs an
 * in-process worker whose CPU work holds the loop): the wait must end when the job ends, however
 * long the loop is held across QueueEvents' blocking reads (docs/sync.md, "The CLI").
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { redisQueues } from '../../src/stores/queue-store.js';
import { createQueueEvents, waitForJob } from '../../src/queues/queue-events.js';

/** QueueEvents' blocking read times out after this; its watchdog one second later. */
const BLOCKING_TIMEOUT_MS = 200;

/**
 * Holds the event loop at once and then in slices longer than the watchdog's deadline, with only a
 * timer's turn between them (as a CPU-heavy job does), until the returned function is called.
 */
function holdEventLoop(): () => void {
  let stopped = false;
  const hold = () => {
    if (stopped) return;
    const until = performance.now() + BLOCKING_TIMEOUT_MS + 1_050;
    while (performance.now() < until);
    setTimeout(hold, 0);
  };
  hold();
  return () => {
    stopped = true;
  };
}

describe('waiting for a job while the event loop is held', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.reverse()) await close();
    closers.length = 0;
  });

  function queueWithWorker(concurrency = 1) {
    const connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    const prefix = `qe-${randomBytes(4).toString('hex')}`;
    const queue = new Queue('jobs', { connection, prefix });
    // The job ends on a timer: it completes while the loop is being held.
    const worker = new Worker(
      'jobs',
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        return { answer: 42 };
      },
      { connection, prefix, concurrency },
    );
    closers.push(async () => {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await connection.quit();
    });
    return { connection, prefix, queue };
  }

  it('the events deliver the end of the job: they start from the stream, not from "$"', async () => {
    const { connection, prefix, queue } = queueWithWorker();
    const owned = await createQueueEvents(redisQueues(connection, prefix), queue, {
      blockingTimeoutMs: BLOCKING_TIMEOUT_MS,
    });
    closers.push(owned.close);
    const job = await queue.add('job', {});
    const release = holdEventLoop();
    try {
      // The state is read once a minute only: within the test, the events must end the wait.
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise((resolve) => {
        timer = setTimeout(resolve, 20_000, 'still waiting');
      });
      const ended = owned.waitFor(job, { pollMs: 60_000 });
      expect(await Promise.race([ended, deadline])).toEqual({ answer: 42 });
      clearTimeout(timer);
    } finally {
      release();
    }
  });

  it("a wait on events that lost the job's end ends through the job's state", async () => {
    const { connection, queue } = queueWithWorker();
    // BullMQ's own start position: the watchdog's discarded reply loses every event before the
    // next read.
    const own = connection.duplicate();
    const events = new QueueEvents('jobs', {
      connection: own,
      prefix: queue.opts.prefix,
      blockingTimeout: BLOCKING_TIMEOUT_MS,
    });
    closers.push(async () => {
      await events.close();
      await own.quit();
    });
    await events.waitUntilReady();
    const job = await queue.add('job', {});
    const release = holdEventLoop();
    try {
      expect(await waitForJob(queue, job, events, 500)).toEqual({ answer: 42 });
    } finally {
      release();
    }
  });

  it('a job that completes between the reads of its state ends the wait with its value', async () => {
    const connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    const prefix = `qe-${randomBytes(4).toString('hex')}`;
    const queue = new Queue('jobs', { connection, prefix });
    // A worker taken by hand: the test says when the job completes.
    const worker = new Worker('jobs', null, { connection, prefix });
    closers.push(async () => {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await connection.quit();
    });
    const job = await queue.add('job', {});
    const token = randomBytes(8).toString('hex');
    const active = await worker.getNextJob(token);
    if (!active) throw new Error('the worker took no job');
    expect(active.id).toBe(job.id);
    // The job completes just after the wait's first read of it, whichever read that is: between
    // two reads of one poll.
    let completed = false;
    const thenComplete = async <T>(read: T): Promise<T> => {
      if (!completed) {
        completed = true;
        await active.moveToCompleted({ answer: 42 }, token, false);
      }
      return read;
    };
    const getJob = queue.getJob.bind(queue);
    const getJobState = queue.getJobState.bind(queue);
    queue.getJob = async (id) => thenComplete(await getJob(id));
    queue.getJobState = async (id) => thenComplete(await getJobState(id));
    // Events that lost the job's end: only its state can end the wait.
    const silent = Object.assign(new EventEmitter(), {
      waitUntilReady: () => Promise.resolve(),
    }) as unknown as QueueEvents;
    expect(await waitForJob(queue, job, silent, 50)).toEqual({ answer: 42 });
  });

  it('waits for more jobs of one queue at once than an emitter allows listeners, without a warning', async () => {
    // The sync CLI waits for one job per family: sixteen families, sixteen waits on one queue.
    const { connection, prefix, queue } = queueWithWorker(16);
    const owned = await createQueueEvents(redisQueues(connection, prefix), queue);
    closers.push(owned.close);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const jobs = await Promise.all(Array.from({ length: 16 }, () => queue.add('job', {})));
      const before = queue.getMaxListeners();
      expect(await Promise.all(jobs.map((job) => owned.waitFor(job)))).toEqual(
        jobs.map(() => ({ answer: 42 })),
      );
      expect(queue.getMaxListeners()).toBe(before);
      // Node reports a warning on the next turn of the loop.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
