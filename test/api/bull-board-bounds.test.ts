/**
 * What one key can make the API read through bull-board is bounded as for the API's own routes:
 * a page of jobs and a flow's children are at most BOARD_PAGE_MAX whatever the request asks
 * (`jobsPerPage=100000` loaded a whole queue), a flow one level at a time, and each request of
 * the board's API is one of the key's requests in flight (API_MAX_IN_FLIGHT_PER_KEY): board
 * requests held by a Redis that does not answer leave the key no slot for another request, and
 * refused the next at once. The queues' Redis is reached through a relay on loopback that can
 * hold Redis's answers back, and counts the commands that wait for one.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp, type App } from '../../src/http/app.js';
import { BOARD_PAGE_MAX } from '../../src/http/routes/admin/bull-board.js';
import { redisQueues } from '../../src/stores/queue-store.js';
import { createQueues, type Queues } from '../../src/queues/queues.js';
import { bearer, KEYS, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const MAX_IN_FLIGHT = 4;

/** A relay to Redis that can hold its answers back, counting the INFO commands sent meanwhile. */
async function startRedisRelay(target: string) {
  const { hostname, port } = new URL(target);
  let held: Buffer[] | undefined;
  let sentWhileHeld = '';
  let infoSeen: (() => void) | undefined;
  let infoWanted = 0;
  const clients = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    clients.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => {
      if (held) {
        sentWhileHeld += chunk.toString('latin1');
        if ((sentWhileHeld.match(/\r\ninfo\r\n/gi)?.length ?? 0) >= infoWanted) infoSeen?.();
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (held) held.push(chunk);
      else client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    // One client connection (the queues'): what is held back is its answers.
    release = () => {
      const answers = held ?? [];
      held = undefined;
      for (const chunk of answers) client.write(chunk);
    };
  });
  let release = () => undefined as void;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `redis://127.0.0.1:${(server.address() as { port: number }).port}`,
    /** Holds Redis's answers back until `release`; resolves once `count` INFOs were sent meanwhile. */
    hold(count: number): Promise<void> {
      held = [];
      sentWhileHeld = '';
      infoWanted = count;
      return new Promise((resolve) => (infoSeen = resolve));
    },
    release: () => release(),
    async close() {
      for (const socket of clients) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('bull-board reads, bounded for every key', () => {
  let db: TestDb;
  let relay: Awaited<ReturnType<typeof startRedisRelay>>;
  let connection: Redis;
  let queues: Queues;
  let app: App;
  const basic = {
    authorization: `Basic ${Buffer.from(`ops:${KEYS.admin.key}`).toString('base64')}`,
  };

  beforeAll(async () => {
    db = await createTestDb();
    relay = await startRedisRelay(inject('redisUrl'));
    connection = new Redis(relay.url, { maxRetriesPerRequest: 1 });
    const prefix = `board-${randomBytes(5).toString('hex')}`;
    queues = createQueues({
      logger: memoryLogger('fatal').logger,
      backend: redisQueues(connection, prefix),
      settings: { attempts: 1, backoffMs: 10 },
    });
    // 150 jobs waiting; a parent with 150 children, the first with a child of its own.
    const { sync } = queues.byName;
    await sync.addBulk(
      Array.from({ length: 150 }, (_, i) => ({
        name: 'sync-run',
        data: { family: 'bcs', trigger: 'probe' },
        opts: { jobId: `waiting-${i}` },
      })),
    );
    const parent = await queues.byName['sync-reconcile'].add(
      'sync-run',
      { family: 'bcs' },
      { jobId: 'parent' },
    );
    const under = (id: string) => ({ id, queue: `${prefix}:sync-reconcile` });
    const child = await queues.byName['sync-reconcile'].add(
      'sync-page',
      {},
      { jobId: 'child-0', parent: under(parent.id!) },
    );
    await queues.byName['sync-reconcile'].addBulk(
      Array.from({ length: 149 }, (_, i) => ({
        name: 'sync-page',
        data: {},
        opts: { jobId: `child-${i + 1}`, parent: under(parent.id!) },
      })),
    );
    await queues.byName['sync-reconcile'].add(
      'sync-record',
      {},
      { jobId: 'grandchild', parent: under(child.id!) },
    );
    app = await buildApp({
      config: testConfig({ API_MAX_IN_FLIGHT_PER_KEY: String(MAX_IN_FLIGHT) }),
      logger: memoryLogger('fatal').logger,
      db,
      queues,
    });
    await app.ready();
  });
  afterAll(async () => {
    relay?.release();
    await app?.close();
    await Promise.all((queues?.all ?? []).map((queue) => queue.obliterate({ force: true })));
    await queues?.close();
    await connection?.quit();
    await relay?.close();
    await db?.dispose();
  });

  const board = (path: string) => app.inject({ url: `/admin/queues${path}`, headers: basic });

  it('reads at most a page of BOARD_PAGE_MAX jobs, whatever jobsPerPage asks', async () => {
    for (const [status, size] of [
      ['waiting', '100000'],
      ['latest', '100000'],
      ['waiting', '1e5'],
    ] as const) {
      const response = await board(
        `/api/queues?activeQueue=sync&status=${status}&page=1&jobsPerPage=${size}`,
      );
      expect(response.statusCode).toBe(200);
      const sync = response
        .json<{
          queues: { name: string; jobs: unknown[]; pagination: { pageCount: number } }[];
        }>()
        .queues.find((queue) => queue.name === 'sync')!;
      expect([status, sync.jobs.length]).toEqual([status, BOARD_PAGE_MAX]);
      if (status === 'waiting') expect(sync.pagination.pageCount).toBe(2);
    }
    // A size within the bound is kept.
    const small = await board('/api/queues?activeQueue=sync&status=waiting&jobsPerPage=7');
    expect(
      small
        .json<{ queues: { name: string; jobs: unknown[] }[] }>()
        .queues.find((queue) => queue.name === 'sync')!.jobs,
    ).toHaveLength(7);
  });

  it("reads a flow one level at a time, at most BOARD_PAGE_MAX of a job's children", async () => {
    interface Node {
      id: string;
      children: Node[];
      truncated?: boolean;
    }
    for (const query of ['', '?depth=10&maxChildren=1000', '?root=node&depth=2&maxChildren=1000']) {
      const response = await board(`/api/queues/sync-reconcile/parent/flow${query}`);
      expect(response.statusCode).toBe(200);
      const root = response.json<{ flowRoot: Node }>().flowRoot;
      expect(root.id).toBe('parent');
      expect(root.children.length).toBeLessThanOrEqual(BOARD_PAGE_MAX);
      // The first child's own child is not read: the page expands it when asked.
      expect(root.children.flatMap((child) => child.children)).toEqual([]);
      expect(root.children.find((child) => child.id === 'child-0')?.truncated ?? true).toBe(true);
    }
    const expanded = await board('/api/queues/sync-reconcile/child-0/flow?root=node&depth=2');
    expect(expanded.json<{ flowRoot: Node }>().flowRoot.children.map((child) => child.id)).toEqual([
      'grandchild',
    ]);
  });

  it("counts each request of the board's API in the key's requests in flight", async () => {
    expect((await board('/api/redis/stats')).statusCode).toBe(200);
    const held = relay.hold(MAX_IN_FLIGHT);
    const stalled = Array.from({ length: MAX_IN_FLIGHT }, () => board('/api/redis/stats'));
    // Each of them is in bull-board's handler, waiting for Redis.
    await held;
    for (const send of [
      () => app.inject({ url: '/api/bcs', headers: bearer('admin') }),
      () => board('/api/redis/stats'),
    ]) {
      const response = await send();
      expect(response.statusCode).toBe(429);
      expect(response.headers['retry-after']).toBe('1');
      expect(response.json()).toMatchObject({ error: 'TOO_MANY_IN_FLIGHT' });
    }
    // Another key is served meanwhile.
    expect((await app.inject({ url: '/api/bcs', headers: bearer('reader') })).statusCode).toBe(200);
    relay.release();
    for (const response of await Promise.all(stalled)) expect(response.statusCode).toBe(200);
    expect((await app.inject({ url: '/api/bcs', headers: bearer('admin') })).statusCode).toBe(200);
  });
});
