/**
 * The queues on Redis Sentinel (REDIS_SENTINELS): a worker process and a producer find the
 * primary through three sentinels; the primary is killed (SIGKILL) and the sentinels promote its
 * replica. The worker goes on by itself — it is not restarted, and not wedged — and the next run
 * queued through the new primary copies what changed in Odoo meanwhile, exactly. A webhook
 * storm through an API on the same sentinels, with the primary killed in the middle of it, loses
 * no change: what the API could not queue, and what the old primary had not passed on, is queued
 * again from the webhook inbox within seconds, not after the inbox's minute.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { setInterval as every } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createOdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import { createLogger } from '../../src/lib/logger.js';
import { createQueueEvents } from '../../src/queues/queue-events.js';
import { createQueues } from '../../src/queues/queues.js';
import { redisQueues } from '../../src/stores/queue-store.js';
import { buildApp } from '../../src/http/app.js';
import { createRedisConnection, sentinelOptions } from '../../src/stores/redis-connection.js';
import { setPaused } from '../../src/sync/sync-state.js';
import { startSentinelTopology } from '../helpers/redis-sentinel.js';
import { memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb } from '../helpers/test-db.js';
import { startWorkerProcess, workerEnv } from '../helpers/worker-process.js';

/** A worker process, a producer and the test's database and Odoo, on a topology of their own. */
async function openDeployment() {
  const topology = await startSentinelTopology();
  const db = await createTestDb();
  const sandbox = createOdooSandbox({ orders: 20, linesPerOrder: 2, loginCooldown: false });
  await sandbox.start();
  // No scheduled run: the test's runs are the only ones.
  await setPaused(db.db, bcsFamily.name, 'test');
  const prefix = `sentinel-${randomBytes(4).toString('hex')}`;
  const started = await startWorkerProcess(
    workerEnv({ databaseUrl: db.url, prefix, odoo: sandbox }, topology.env),
  );
  const connection = new Redis(topology.env.REDIS_URL!, {
    ...sentinelOptions(
      { sentinels: topology.sentinels, name: topology.name },
      topology.env.REDIS_URL!,
    ),
    maxRetriesPerRequest: null,
  });
  // The old primary refuses until the sentinels name the new one: expected, and retried.
  connection.on('error', () => undefined);
  const queues = createQueues({
    backend: redisQueues(connection, prefix),
    settings: { attempts: 3, backoffMs: 100 },
    logger: createLogger({ level: 'silent', pretty: false }),
  });
  const events = await createQueueEvents(queues.backend, queues.byName.sync);
  return {
    topology,
    db,
    sandbox,
    prefix,
    worker: started.child,
    output: started.output,
    queues,
    run: async () => {
      const job = await queues.add('sync-run', { family: bcsFamily.name, trigger: 'test' });
      return events.waitFor(job);
    },
    copiedNames: async () =>
      Object.fromEntries(
        (
          await db.sql!<{ odoo_id: number; name: string }[]>`
            select odoo_id, name from scrap_dimagaz_bc order by odoo_id`
        ).map((row) => [row.odoo_id, row.name]),
      ),
    odooNames: () =>
      Object.fromEntries(
        sandbox.control
          .records(BC_MODEL, { fields: ['name'] })
          .map((record) => [record.id, record.name as string]),
      ),
    async close() {
      const worker: ChildProcess = started.child;
      if (worker.exitCode === null) {
        worker.kill('SIGTERM');
        await once(worker, 'exit');
      }
      await events.close();
      await queues.close();
      connection.disconnect();
      await sandbox.stop();
      await db.dispose();
      await topology.stop();
    },
  };
}

describe('the queues on Redis Sentinel', () => {
  let d: Awaited<ReturnType<typeof openDeployment>>;
  beforeAll(async () => {
    d = await openDeployment();
  }, 60_000);
  afterAll(async () => {
    await d?.close();
  });

  it('copies, fails over, and copies what changed through the new primary', async () => {
    expect(await d.run()).toMatchObject({ status: 'succeeded' });
    expect(await d.copiedNames()).toEqual(d.odooNames());

    const { from, to } = await d.topology.failOver();
    expect(to).not.toBe(from);
    for (const id of d.sandbox.control.ids(BC_MODEL).slice(0, 5))
      d.sandbox.control.write(BC_MODEL, id, { name: `after the failover ${id}` });

    expect(await d.run()).toMatchObject({ status: 'succeeded' });
    expect(await d.copiedNames()).toEqual(d.odooNames());
    expect(
      Object.values(await d.copiedNames()).filter((name) => name.startsWith('after')),
    ).toHaveLength(5);
    // The same process all along: it noticed the failover, and nothing wedged it.
    expect(d.worker.exitCode).toBeNull();
    expect(d.output.join('\n')).not.toMatch(/the worker is wedged/);
  });
});

describe('a webhook storm on Redis Sentinel', () => {
  let d: Awaited<ReturnType<typeof openDeployment>>;
  beforeAll(async () => {
    d = await openDeployment();
    expect(await d.run()).toMatchObject({ status: 'succeeded' });
  }, 60_000);
  afterAll(async () => {
    await d?.close();
  });

  it('loses no change of a webhook storm when the primary dies in the middle of it', async () => {
    const silent = createLogger({ level: 'silent', pretty: false });
    const sentinel = { sentinels: d.topology.sentinels, name: d.topology.name };
    // The API's own producer, failing fast as in production: during the failover it keeps the
    // events in the inbox and answers 202.
    const producer = createRedisConnection(d.topology.env.REDIS_URL!, 'producer', silent, {
      sentinel,
    });
    const apiQueues = createQueues({
      backend: redisQueues(producer, d.prefix),
      settings: { attempts: 3, backoffMs: 100 },
      logger: silent,
    });
    const token = randomBytes(32).toString('base64url');
    const app = await buildApp({
      config: testConfig({ ODOO_WEBHOOK_TOKENS: createHash('sha256').update(token).digest('hex') }),
      logger: memoryLogger('fatal').logger,
      db: d.db,
      queues: apiQueues,
    });
    const listening = await app.listen({ host: '127.0.0.1', port: 0 });
    d.sandbox.control.setWebhook({
      url: `${listening}/hooks/odoo/${token}`,
      models: [BC_MODEL],
      fields: ['write_date'],
    });
    const ids = d.sandbox.control.ids(BC_MODEL);
    const edits = new Map<number, number>();
    try {
      // 20 edits a second; the primary dies after two seconds, and 40 more edits come once the
      // sentinels have promoted the replica. A polling run is queued in the middle as well.
      let failover: Promise<unknown> | undefined;
      let promoted = false;
      let afterPromotion = 0;
      let n = 0;
      for await (const _ of every(50)) {
        if (n === 20) await d.queues.add('sync-run', { family: bcsFamily.name, trigger: 'test' });
        if (n === 40) failover = d.topology.failOver().then(() => (promoted = true));
        const id = ids[n % ids.length]!;
        d.sandbox.control.write(BC_MODEL, id, { name: `storm ${n}` });
        edits.set(id, (edits.get(id) ?? 0) + 1);
        n += 1;
        if (promoted) afterPromotion += 1;
        if (afterPromotion >= 40) break;
      }
      await failover;
      await d.sandbox.control.settled();

      // Seconds, not the inbox's minute: the worker queues again, at once, what was queued before
      // its Redis came back, and what the API kept without queueing.
      await vi.waitFor(
        async () => {
          const [inbox] = await d.db.sql!<{ n: number }[]>`
            select count(*)::int as n from sync_webhook_inbox`;
          expect(inbox?.n).toBe(0);
          expect(await d.copiedNames()).toEqual(d.odooNames());
        },
        { timeout: 45_000, interval: 200 },
      );
      // Each change of the copy once in the history and once in the feed: a job queued twice
      // read its record twice and wrote it once.
      const changes = await d.db.sql!<{ odoo_id: number; audited: number; fed: number }[]>`
        select a.odoo_id, count(*)::int as audited, count(f.id)::int as fed
        from sync_audit a left join sync_feed f on f.id = a.id
        where a.model = ${BC_MODEL} and a.action = 'updated'
        group by a.odoo_id`;
      for (const change of changes) {
        expect(change.fed).toBe(change.audited);
        // Some jobs read two edits at once; none wrote one twice (the polling run in the middle
        // may write one more).
        expect(change.audited).toBeLessThanOrEqual((edits.get(change.odoo_id) ?? 0) + 1);
      }
      expect(d.worker.exitCode).toBeNull();
      expect(d.output.join('\n')).not.toMatch(/the worker is wedged/);
    } finally {
      d.sandbox.control.setWebhook(undefined);
      await app.close();
      await apiQueues.close();
      producer.disconnect();
    }
  });
});
