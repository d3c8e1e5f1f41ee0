/**
 * A wedged worker says so and exits (workers/liveness.ts). The worker's Redis is reached through
 * a proxy on loopback that can go silent — accept what the worker sends and answer nothing, as a
 * failover half done or a proxy that lost its upstream does — either on every connection, or only
 * on those that sent a blocking command (Redis answers the rest). Either way the worker answers
 * not alive on /health/live, logs why, and exits 1 within REDIS_LIVENESS_TIMEOUT_MS and a check's
 * interval, for its supervisor to start it again. (A job loop that takes no waiting job while
 * Redis answers: workers/liveness.test.ts.)
 */
import { type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { inject } from 'vitest';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { bcsFamily } from '../../src/families/bcs/family.js';
import { setPaused } from '../../src/sync/sync-state.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { startWorkerProcess, workerEnv } from '../helpers/worker-process.js';

const LIVENESS_TIMEOUT_MS = 5_000;

/** A proxy to Redis that can stop answering: every connection, or those that sent a blocking command. */
async function startRedisProxy(target: string) {
  const { hostname, port } = new URL(target);
  let silent: 'none' | 'all' | 'blocking' = 'none';
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    let blocking = false;
    client.on('data', (chunk: Buffer) => {
      if (/BZPOPMIN/i.test(chunk.toString('latin1'))) blocking = true;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (silent === 'all' || (silent === 'blocking' && blocking)) return;
      client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${address.port}`,
    silence(which: 'all' | 'blocking') {
      silent = which;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('a wedged worker', () => {
  let db: TestDb;
  let sandbox: OdooSandbox;
  let proxy: Awaited<ReturnType<typeof startRedisProxy>>;
  let worker: ChildProcess | undefined;

  beforeAll(async () => {
    db = await createTestDb();
    sandbox = createOdooSandbox({ orders: 4, linesPerOrder: 1, loginCooldown: false });
    await sandbox.start();
    // No scheduled run: the test's job is the only one.
    await setPaused(db.db, bcsFamily.name, 'test');
  });
  afterEach(async () => {
    if (worker && worker.exitCode === null) {
      worker.kill('SIGKILL');
      await once(worker, 'exit');
    }
    await proxy.close();
  });
  afterAll(async () => {
    await sandbox.stop();
    await db.dispose();
  });

  const start = async (prefix: string) => {
    proxy = await startRedisProxy(inject('redisUrl'));
    const started = await startWorkerProcess(
      workerEnv(
        { databaseUrl: db.url, prefix, odoo: sandbox },
        {
          HOST: '127.0.0.1',
          REDIS_URL: proxy.url,
          REDIS_LIVENESS_TIMEOUT_MS: String(LIVENESS_TIMEOUT_MS),
          SHUTDOWN_TIMEOUT_MS: '2000',
        },
      ),
    );
    worker = started.child;
    return { exited: once(worker, 'exit'), output: started.output, http: started.started.http };
  };

  /**
   * /health/live's answer once it is not 200; undefined when the process went first (its shutdown
   * is quick: the not-alive answer may last only milliseconds).
   */
  const notAlive = (http: unknown, exited: Promise<unknown>) => {
    let gone = false;
    void exited.then(() => (gone = true));
    return vi.waitFor(
      async () => {
        if (gone) return undefined;
        const response = await fetch(`${String(http)}/health/live`).catch(() => undefined);
        if (!response && gone) return undefined;
        expect(response?.status).toBe(503);
        return (await response!.json()) as { status: string; reason: string };
      },
      { timeout: 3 * LIVENESS_TIMEOUT_MS, interval: 50 },
    );
  };

  it.each([
    ['answers nothing at all', 'all'],
    ['leaves every blocking command unanswered, and answers the rest', 'blocking'],
  ] as const)('whose Redis %s: not alive, then exits 1, saying why', async (_what, silence) => {
    const { exited, output, http } = await start(`wedge-${randomBytes(4).toString('hex')}`);
    expect(await (await fetch(`${String(http)}/health/live`)).json()).toEqual({ status: 'live' });
    proxy.silence(silence);
    const live = await notAlive(http, exited);
    if (live)
      expect(live).toEqual({
        status: 'dead',
        reason: expect.stringMatching(/^Redis has answered no blocking command for \d+ s$/),
      });
    const [code] = await exited;
    expect(code).toBe(1);
    expect(output.join('\n')).toMatch(
      /the worker is wedged: Redis has answered no blocking command for \d+ s/,
    );
  });
});
