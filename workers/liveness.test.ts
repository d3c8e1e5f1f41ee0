import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createLogger } from '../src/lib/logger.js';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { postgresQueues, redisQueues } from '../src/queues/queue-backend.js';
import { createJobFlow, createLiveness, readyJobs, storeProbe, type Liveness } from './liveness.js';

const TIMEOUT_MS = 400;
const logger = createLogger({ level: 'silent', pretty: false });

describe('the job loop and lost query checks', () => {
  let liveness: Liveness | undefined;
  afterEach(async () => {
    await liveness?.stop();
  });

  const watch = (
    waiting: () => number | Promise<number>,
    concurrency = 2,
    stuckQuery?: () => string | undefined,
  ) => {
    const flow = createJobFlow();
    let died!: (reason: string) => void;
    const dead = new Promise<string>((resolve) => (died = resolve));
    liveness = createLiveness({
      probe: storeProbe(
        redisQueues(new Redis(inject('redisUrl'), { maxRetriesPerRequest: null }), 'liveness-test'),
      ),
      queues: [{ name: 'sync-page', concurrency, waiting: async () => waiting() }],
      flow,
      timeoutMs: TIMEOUT_MS,
      ...(stuckQuery ? { stuckQuery } : {}),
      logger,
      onDead: died,
    });
    liveness.start();
    return { flow, dead };
  };

  it('finds a queue whose jobs wait while its worker has a free slot and takes none', async () => {
    const { dead } = watch(() => 3);
    expect(await dead).toMatch(
      /^queue sync-page: 3 job\(s\) waited \d+ s while its worker had 2 free slot\(s\) and took none$/,
    );
    expect(liveness!.reason).toBe(await dead);
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
      expect(await readyJobs(queue)).toBe(0);
      const due = await queue.add('feed-deliver', {}, { delay: 1 });
      expect(await readyJobs(queue, due.timestamp + 1_000)).toBe(1);
      expect(await readyJobs(queue, later.timestamp + 3_601_000)).toBe(2);
      const { dead } = watch(() => readyJobs(queue));
      expect(await dead).toMatch(/^queue sync-page: 1 job\(s\) waited \d+ s while its worker had/);
    } finally {
      await liveness?.stop();
      await queue.obliterate({ force: true });
      await queue.close();
      await connection.quit();
    }
  });

  it('leaves alone a worker whose slots are all taken, however long jobs wait', async () => {
    const { flow, dead } = watch(() => 3, 1);
    flow.started('sync-page');
    // Three times the timeout, checked every quarter of it: a false alarm would have come.
    const quiet = await Promise.race([
      dead,
      new Promise<'quiet'>((resolve) => setTimeout(() => resolve('quiet'), 3 * TIMEOUT_MS)),
    ]);
    expect(quiet).toBe('quiet');
    flow.ended('sync-page');
    expect(await dead).toMatch(/^queue sync-page: 3 job\(s\) waited/);
  });

  it('finds a database query postgres.js lost with its connection, even with every slot taken', async () => {
    const lost: { reason?: string } = {};
    const { flow, dead } = watch(
      () => 0,
      1,
      () => lost.reason,
    );
    flow.started('sync-page');
    lost.reason =
      'a database query has been pending for 61 s, 60 s after its pool lost a connection (select 1)';
    expect(await dead).toBe(lost.reason);
  });
});

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
    let died!: (reason: string) => void;
    const dead = new Promise<string>((resolve) => (died = resolve));
    const liveness = createLiveness({
      probe: storeProbe(backend),
      queues: [],
      flow: createJobFlow(),
      timeoutMs: TIMEOUT_MS,
      logger,
      onDead: died,
    });
    try {
      liveness.start();
      expect(await dead).toMatch(/^the queue database has answered no query for \d+ s$/);
    } finally {
      await liveness.stop();
      for (const socket of sockets) socket.destroy();
      silent.close();
      await backend.close().catch(() => undefined);
    }
  });
});
