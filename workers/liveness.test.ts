import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createLogger } from '../src/lib/logger.js';
import {
  postgresQueues,
  redisQueues,
  runQueueMigrations,
  type QueueStoreOfKind,
  type StoreProbe,
} from '../src/stores/queue-store.js';
import { createTestDb, type TestDb } from '../test/helpers/test-db.js';
import {
  createJobFlow,
  createLiveness,
  readyJobs,
  type JobFlow,
  type Liveness,
  type LivenessClock,
} from './liveness.js';

const TIMEOUT_MS = 60_000;
/** The watch checks every quarter of its timeout. */
const CHECK_EVERY_MS = TIMEOUT_MS / 4;
const logger = createLogger({ level: 'silent', pretty: false });

/**
 * The test's time: it says when each check runs and what time it is, so that no assertion races
 * the machine's timers, however loaded the machine is.
 */
function testClock() {
  let nowMs = Date.parse('2026-11-26T12:00:00Z');
  let check: (() => Promise<void>) | undefined;
  const clock: LivenessClock = {
    now: () => nowMs,
    every: (intervalMs, each) => {
      expect(intervalMs).toBe(CHECK_EVERY_MS);
      check = each;
      return () => (check = undefined);
    },
  };
  return {
    clock,
    /** Lets `ms` pass, a check at each interval, each awaited. */
    pass: async (ms: number) => {
      for (let passed = 0; passed < ms; passed += CHECK_EVERY_MS) {
        nowMs += CHECK_EVERY_MS;
        await check?.();
      }
    },
    /** Lets `ms` pass with no check: the process stopped (SIGSTOP, its VM paused). */
    standStill: (ms: number) => {
      nowMs += ms;
    },
  };
}

/** A store that always answers: these tests are about the job loops and the queries. */
const answering: StoreProbe = { silence: 'never', ask: () => Promise.resolve(), close: () => {} };

describe('the job loop and lost query checks', () => {
  let liveness: Liveness | undefined;
  afterEach(async () => {
    await liveness?.stop();
  });

  const watch = (
    waiting: () => number | Promise<number>,
    concurrency = 2,
    stuckQuery?: () => string | undefined,
    probe = answering,
  ) => {
    const time = testClock();
    const flow: JobFlow = createJobFlow(time.clock.now);
    const deaths: string[] = [];
    liveness = createLiveness({
      probe,
      queues: [{ name: 'sync-page', concurrency, waiting: async () => waiting() }],
      flow,
      timeoutMs: TIMEOUT_MS,
      ...(stuckQuery ? { stuckQuery } : {}),
      logger,
      onDead: (reason) => deaths.push(reason),
      clock: time.clock,
    });
    liveness.start();
    return { flow, deaths, pass: time.pass, standStill: time.standStill };
  };

  it('finds a queue whose jobs wait while its worker has a free slot and takes none', async () => {
    const { deaths, pass } = watch(() => 3);
    // Seen waiting at the first check: a timeout after it, not yet past.
    await pass(TIMEOUT_MS + CHECK_EVERY_MS);
    expect(deaths).toEqual([]);
    await pass(CHECK_EVERY_MS);
    expect(deaths).toEqual([
      'queue sync-page: 3 job(s) waited 75 s while its worker had 2 free slot(s) and took none',
    ]);
    expect(liveness!.reason).toBe(deaths[0]);
  });

  it('finds a queue whose delayed jobs came due and were not taken: its job loop is parked', async () => {
    // A subscription's delivery backing off, the feed pump's next turn: nothing waits, and no
    // job loop runs to move them to the waiting list.
    const connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    const queue = new Queue('feed', {
      connection,
      prefix: `ready-${randomBytes(4).toString('hex')}`,
    });
    try {
      const later = await queue.add('feed-deliver', {}, { delay: 3_600_000 });
      expect(await readyJobs(queue, later.timestamp)).toBe(0);
      const due = await queue.add('feed-deliver', {}, { delay: 1 });
      expect(await readyJobs(queue, due.timestamp + 1_000)).toBe(1);
      expect(await readyJobs(queue, later.timestamp + 3_601_000)).toBe(2);
      const { deaths, pass } = watch(() => readyJobs(queue, due.timestamp + 1_000));
      await pass(TIMEOUT_MS + 2 * CHECK_EVERY_MS);
      expect(deaths).toEqual([
        'queue sync-page: 1 job(s) waited 75 s while its worker had 2 free slot(s) and took none',
      ]);
    } finally {
      await liveness?.stop();
      await queue.obliterate({ force: true });
      await queue.close();
      await connection.quit();
    }
  });

  it('does not count the time the process stood still (SIGSTOP, a paused VM) against the store or the queues', async () => {
    const { deaths, pass, standStill } = watch(() => 3);
    await pass(CHECK_EVERY_MS);
    standStill(2 * TIMEOUT_MS);
    // Resumed: neither the probe's answer, not asked meanwhile, nor the jobs seen waiting before
    // the stop are overdue.
    await pass(TIMEOUT_MS);
    expect(deaths).toEqual([]);
    await pass(CHECK_EVERY_MS);
    expect(deaths).toEqual([
      'queue sync-page: 3 job(s) waited 75 s while its worker had 2 free slot(s) and took none',
    ]);
  });

  it('still finds a store silent before and after the process stood still', async () => {
    const silent: StoreProbe = {
      silence: 'Redis has answered no command',
      ask: () => new Promise(() => undefined),
      close: () => {},
    };
    const { deaths, pass, standStill } = watch(() => 0, 2, undefined, silent);
    await pass(2 * CHECK_EVERY_MS);
    standStill(2 * TIMEOUT_MS);
    await pass(2 * CHECK_EVERY_MS);
    expect(deaths).toEqual([]);
    await pass(CHECK_EVERY_MS);
    expect(deaths).toEqual(['Redis has answered no command for 75 s']);
  });

  it('leaves alone a worker whose slots are all taken, however long jobs wait', async () => {
    const { flow, deaths, pass } = watch(() => 3, 1);
    flow.started('sync-page');
    await pass(3 * TIMEOUT_MS);
    expect(deaths).toEqual([]);
    flow.ended('sync-page');
    await pass(TIMEOUT_MS + 2 * CHECK_EVERY_MS);
    expect(deaths).toEqual([expect.stringMatching(/^queue sync-page: 3 job\(s\) waited/)]);
  });

  it('finds a database query postgres.js lost with its connection, even with every slot taken', async () => {
    const lost: { reason?: string } = {};
    const { flow, deaths, pass } = watch(
      () => 0,
      1,
      () => lost.reason,
    );
    flow.started('sync-page');
    await pass(CHECK_EVERY_MS);
    expect(deaths).toEqual([]);
    lost.reason =
      'a database query has been pending for 61 s, 60 s after its pool lost a connection (select 1)';
    await pass(CHECK_EVERY_MS);
    expect(deaths).toEqual([lost.reason]);
  });
});

describe.each(['redis', 'postgres'] as const)('a queue an operator paused, on %s', (store) => {
  let db: TestDb | undefined;
  let backend: QueueStoreOfKind;
  let queue: Queue;
  let liveness: Liveness | undefined;
  beforeAll(async () => {
    if (store === 'redis')
      backend = redisQueues(
        new Redis(inject('redisUrl'), { maxRetriesPerRequest: null }),
        `paused-${randomBytes(4).toString('hex')}`,
      );
    else {
      db = await createTestDb();
      await runQueueMigrations(db.url);
      backend = postgresQueues({
        url: db.url,
        listeners: 0,
        applicationName: 'liveness-test',
        onError: () => undefined,
      });
    }
    queue = backend.queue('sync-page');
  });
  afterAll(async () => {
    await liveness?.stop();
    await queue.obliterate({ force: true });
    await queue.close();
    if (backend.kind === 'redis') await backend.connection.quit();
    await backend.close();
    await db?.dispose();
  });

  it('is skipped: its waiting jobs wait by intent, and the worker stays alive', async () => {
    await queue.add('sync-page', {});
    await queue.pause();
    expect(await readyJobs(queue)).toBe(0);
    const time = testClock();
    const deaths: string[] = [];
    liveness = createLiveness({
      probe: answering,
      queues: [{ name: 'sync-page', concurrency: 3, waiting: () => readyJobs(queue) }],
      flow: createJobFlow(time.clock.now),
      timeoutMs: TIMEOUT_MS,
      logger,
      onDead: (reason) => deaths.push(reason),
      clock: time.clock,
    });
    liveness.start();
    await time.pass(3 * TIMEOUT_MS);
    expect(deaths).toEqual([]);
    // Resumed and still not taken: a wedged job loop again.
    await queue.resume();
    expect(await readyJobs(queue)).toBe(1);
    await time.pass(TIMEOUT_MS + 2 * CHECK_EVERY_MS);
    expect(deaths).toEqual([expect.stringMatching(/^queue sync-page: 1 job\(s\) waited 75 s/)]);
  });
});

describe.each(['redis', 'postgres'] as const)(
  "a queue an operator limited fleet-wide (bull-board's rate limit, global concurrency), on %s",
  (store) => {
    let db: TestDb | undefined;
    let backend: QueueStoreOfKind;
    const opened: Queue[] = [];
    let liveness: Liveness | undefined;
    beforeAll(async () => {
      if (store === 'redis')
        backend = redisQueues(
          new Redis(inject('redisUrl'), { maxRetriesPerRequest: null }),
          `limited-${randomBytes(4).toString('hex')}`,
        );
      else {
        db = await createTestDb();
        await runQueueMigrations(db.url);
        backend = postgresQueues({
          url: db.url,
          listeners: 1,
          applicationName: 'liveness-test',
          onError: () => undefined,
        });
      }
    });
    afterEach(async () => {
      await liveness?.stop();
      liveness = undefined;
    });
    afterAll(async () => {
      for (const queue of opened) {
        await queue.obliterate({ force: true });
        await queue.close();
      }
      if (backend.kind === 'redis') await backend.connection.quit();
      await backend.close();
      await db?.dispose();
    });

    /** A queue of two waiting jobs, and one of them taken (active), as a worker elsewhere took it. */
    const twoJobsOneTaken = async (
      name: 'sync-record' | 'sync-webhook',
      limit: (queue: Queue) => Promise<unknown>,
    ) => {
      const queue = backend.queue(name);
      opened.push(queue);
      await limit(queue);
      await queue.addBulk([
        { name, data: {} },
        { name, data: {} },
      ]);
      const elsewhere = backend.worker(name, () => Promise.resolve(), { autorun: false });
      try {
        expect(await elsewhere.getNextJob('elsewhere')).toBeDefined();
      } finally {
        await elsewhere.close(true);
      }
      return queue;
    };

    /** Watches `queue` for three timeouts, then again once `lift` lifted its limit. */
    const watchedThrough = async (queue: Queue, lift: () => Promise<unknown>) => {
      expect(await readyJobs(queue)).toBe(0);
      const time = testClock();
      const deaths: string[] = [];
      liveness = createLiveness({
        probe: answering,
        queues: [{ name: queue.name, concurrency: 3, waiting: () => readyJobs(queue) }],
        flow: createJobFlow(time.clock.now),
        timeoutMs: TIMEOUT_MS,
        logger,
        onDead: (reason) => deaths.push(reason),
        clock: time.clock,
      });
      liveness.start();
      await time.pass(3 * TIMEOUT_MS);
      expect(deaths).toEqual([]);
      // Lifted, and the waiting job still not taken: a wedged job loop again.
      await lift();
      expect(await readyJobs(queue)).toBe(1);
      await time.pass(TIMEOUT_MS + 2 * CHECK_EVERY_MS);
      expect(deaths).toEqual([expect.stringMatching(/: 1 job\(s\) waited 75 s/)]);
    };

    it('is skipped while its rate limit holds its jobs back: they wait by intent', async () => {
      const queue = await twoJobsOneTaken('sync-webhook', (q) =>
        q.setGlobalRateLimit(1, 3_600_000),
      );
      await watchedThrough(queue, async () => {
        await queue.removeGlobalRateLimit();
        await queue.removeRateLimitKey();
      });
    });

    it('is skipped while its global concurrency is all taken, elsewhere in the fleet', async () => {
      const queue = await twoJobsOneTaken('sync-record', (q) => q.setGlobalConcurrency(1));
      await watchedThrough(queue, () => queue.removeGlobalConcurrency());
    });
  },
);

describe('the queue database check (QUEUE_BACKEND=postgres)', () => {
  it('finds a queue database that accepts connections and never answers', async () => {
    // A server that takes every connection and says nothing: PostgreSQL wedged, or a proxy that
    // lost its upstream.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address() as { port: number };
    const backend = postgresQueues({
      url: `postgres://erp@127.0.0.1:${port}/erp`,
      listeners: 0,
      applicationName: 'liveness-test',
      onError: () => undefined,
    });
    const time = testClock();
    const deaths: string[] = [];
    const liveness = createLiveness({
      probe: backend.probe(),
      queues: [],
      flow: createJobFlow(time.clock.now),
      timeoutMs: TIMEOUT_MS,
      logger,
      onDead: (reason) => deaths.push(reason),
      clock: time.clock,
    });
    try {
      liveness.start();
      await time.pass(TIMEOUT_MS);
      expect(deaths).toEqual([]);
      await time.pass(CHECK_EVERY_MS);
      expect(deaths).toEqual(['the queue database has answered no query for 75 s']);
    } finally {
      await liveness.stop();
      for (const socket of sockets) socket.destroy();
      silent.close();
      await backend.close().catch(() => undefined);
    }
  });
});
