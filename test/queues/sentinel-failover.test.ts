/**
 * The queues on Redis Sentinel (REDIS_SENTINELS): a worker process and a producer find the
 * primary through three sentinels; the primary is killed (SIGKILL) and the sentinels promote its
 * replica. The worker goes on by itself — it is not restarted, and not wedged — and the next run
 * queued through the new primary copies what changed in Odoo meanwhile, exactly.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import { createLogger } from '../../src/lib/logger.js';
import { createQueueEvents, type OwnedQueueEvents } from '../../src/queues/queue-events.js';
import { createQueues, type Queues } from '../../src/queues/queues.js';
import { sentinelOptions } from '../../src/queues/redis-connection.js';
import { setPaused } from '../../src/sync/sync-state.js';
import { startSentinelTopology, type SentinelTopology } from '../helpers/redis-sentinel.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { startWorkerProcess, workerEnv } from '../helpers/worker-process.js';

describe('the queues on Redis Sentinel', () => {
  let topology: SentinelTopology;
  let db: TestDb;
  let sandbox: OdooSandbox;
  let worker: ChildProcess;
  let output: string[];
  let connection: Redis;
  let queues: Queues;
  let events: OwnedQueueEvents;
  const prefix = `sentinel-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    topology = await startSentinelTopology();
    db = await createTestDb();
    sandbox = createOdooSandbox({ orders: 20, linesPerOrder: 2, loginCooldown: false });
    await sandbox.start();
    // No scheduled run: the test's runs are the only ones.
    await setPaused(db.db, bcsFamily.name, 'test');
    const started = await startWorkerProcess(
      workerEnv({ databaseUrl: db.url, prefix, odoo: sandbox }, topology.env),
    );
    worker = started.child;
    output = started.output;
    connection = new Redis(topology.env.REDIS_URL!, {
      ...sentinelOptions({ sentinels: topology.sentinels, name: topology.name }),
      maxRetriesPerRequest: null,
    });
    // The old primary refuses until the sentinels name the new one: expected, and retried.
    connection.on('error', () => undefined);
    queues = createQueues({
      connection,
      prefix,
      settings: { attempts: 3, backoffMs: 100 },
      logger: createLogger({ level: 'silent', pretty: false }),
    });
    events = await createQueueEvents(connection, queues.byName.sync);
  }, 60_000);

  afterAll(async () => {
    if (worker?.exitCode === null) {
      worker.kill('SIGTERM');
      await once(worker, 'exit');
    }
    await events?.close();
    await queues?.close();
    connection?.disconnect();
    await sandbox?.stop();
    await db?.dispose();
    await topology?.stop();
  });

  const run = async () => {
    const job = await queues.add('sync-run', { family: bcsFamily.name, trigger: 'test' });
    return events.waitFor(job);
  };
  const copiedNames = async () =>
    Object.fromEntries(
      (
        await db.sql!<{ odoo_id: number; name: string }[]>`
          select odoo_id, name from scrap_dimagaz_bc order by odoo_id`
      ).map((row) => [row.odoo_id, row.name]),
    );
  const odooNames = () =>
    Object.fromEntries(
      sandbox.control
        .records(BC_MODEL, { fields: ['name'] })
        .map((record) => [record.id, record.name as string]),
    );

  it('copies, fails over, and copies what changed through the new primary', async () => {
    expect(await run()).toMatchObject({ status: 'succeeded' });
    expect(await copiedNames()).toEqual(odooNames());

    const { from, to } = await topology.failOver();
    expect(to).not.toBe(from);
    for (const id of sandbox.control.ids(BC_MODEL).slice(0, 5))
      sandbox.control.write(BC_MODEL, id, { name: `after the failover ${id}` });

    expect(await run()).toMatchObject({ status: 'succeeded' });
    expect(await copiedNames()).toEqual(odooNames());
    expect(
      Object.values(await copiedNames()).filter((name) => name.startsWith('after')),
    ).toHaveLength(5);
    // The same process all along: it noticed the failover, and nothing wedged it.
    expect(worker.exitCode).toBeNull();
    expect(output.join('\n')).not.toMatch(/the worker is wedged/);
  });
});
