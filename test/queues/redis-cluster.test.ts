/**
 * The queues on a Redis Cluster (REDIS_CLUSTER_NODES): three primaries on loopback, a worker
 * process, the API (its producers and rate limiter) and the test's producer each on a Cluster
 * client. A full copy, Odoo's webhooks through the API and the change feed's deliveries run on
 * it; the primary that holds the queues' slot is killed in the middle of a run, the cluster goes
 * down (no replica takes its slots), and the node is started again on its port and nodes file:
 * with its append-only file, the run's jobs come back with it; without, it comes back empty and
 * the run is lost, as with a lost disk. Either way the worker ends with a copy equal to Odoo and a
 * receiver that got every change: the same process, unless its liveness check found a job loop
 * that BullMQ left parked, and it exited for its supervisor (the test) to start it again.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { startFeedReceiver, type FeedReceiver } from '../../dev/services/feed-receiver.js';
import { loadConfig } from '../../src/config/config.js';
import { createApi } from '../../src/create-api.js';
import { BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import { CODE_FAMILIES } from '../../src/families/registry.js';
import { generateSecret } from '../../src/feed/secret.js';
import type { App } from '../../src/http/app.js';
import { createLogger } from '../../src/lib/logger.js';
import { createShutdown, type Shutdown } from '../../src/lib/shutdown.js';
import { createQueueEvents, type OwnedQueueEvents } from '../../src/queues/queue-events.js';
import { createQueues, type Queues } from '../../src/queues/queues.js';
import { redisQueues } from '../../src/stores/queue-store.js';
import { createRedisConnection, type QueueRedis } from '../../src/stores/redis-connection.js';
import { setPaused } from '../../src/sync/sync-state.js';
import { diffCopyWithSandbox } from '../helpers/copy-diff.js';
import { bcCopyProbe } from '../helpers/bc-copy-probe.js';
import { startRedisCluster, type ClusterTopology } from '../helpers/redis-cluster.js';
import { bearer, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { startWorkerProcess, workerEnv } from '../helpers/worker-process.js';
import { readPauseOnce } from '../../workers/sync-cli-status.js';

describe.each([
  { restart: 'with its data', appendOnly: true },
  { restart: 'empty', appendOnly: false },
])('the queues on a Redis Cluster, a node restarting $restart', ({ appendOnly }) => {
  let cluster: ClusterTopology;
  let db: TestDb;
  let sandbox: OdooSandbox;
  let receiver: FeedReceiver;
  let dir: string;
  let worker: ChildProcess;
  let output: string[];
  /** Why each worker before the running one exited; set once the test stops it. */
  const restarts: string[] = [];
  let stopping = false;
  let connection: QueueRedis;
  let queues: Queues;
  let events: OwnedQueueEvents;
  let shutdown: Shutdown;
  let api: App;
  let apiLines: string[];
  let webhookUrl: string;
  // The hash tag a Cluster needs (the default's braces): every key of the test's queues, budget
  // and feed is in one slot.
  const prefix = `{cluster-${randomBytes(4).toString('hex')}}`;
  const secret = generateSecret();

  beforeAll(async () => {
    cluster = await startRedisCluster({ appendOnly });
    db = await createTestDb();
    sandbox = createOdooSandbox({ orders: 300, linesPerOrder: 2, loginCooldown: false });
    await sandbox.start();
    // No scheduled run: the test's runs are the only ones.
    await setPaused(db.db, bcsFamily.name, 'test');
    receiver = await startFeedReceiver({ secret });
    dir = mkdtempSync(join(tmpdir(), 'erp-bridge-cluster-feed-'));
    const subscriptions = join(dir, 'subscriptions.yaml');
    writeFileSync(
      subscriptions,
      `subscriptions:\n  - { name: portal, url: "${receiver.url}", secret: "${secret}" }\n`,
    );
    const env = workerEnv(
      { databaseUrl: db.url, prefix, odoo: sandbox },
      {
        ...cluster.env,
        // Pages of 25: a run has twelve of them, and the restart falls among them.
        ODOO_PAGE_SIZE: '25',
        // The call budget's scripts run on the cluster too.
        ODOO_MAX_CONCURRENT_CALLS: '4',
        // A job whose lock lapsed while its node was down is taken over within seconds.
        SYNC_JOB_LOCK_MS: '5000',
        FEED_SUBSCRIPTIONS_FILE: subscriptions,
        // The receiver listens on loopback: allowed explicitly, as a deployment would its own.
        FEED_ALLOWED_HOSTS: '127.0.0.1',
        // A wedged job loop is found within the test's time (longer than the cluster is down).
        REDIS_LIVENESS_TIMEOUT_MS: '30000',
      },
    );
    // The test is the worker's supervisor: a worker that exits as wedged is started again.
    const supervise = async () => {
      const started = await startWorkerProcess(env);
      worker = started.child;
      output = started.output;
      worker.once('exit', (code) => {
        if (stopping) return;
        const wedged = output.find((line) => line.includes('the worker is wedged'));
        restarts.push(wedged ? (JSON.parse(wedged) as { reason: string }).reason : `exit ${code}`);
        void supervise();
      });
    };
    await supervise();

    const logger = createLogger({ level: 'silent', pretty: false });
    // The test's producer waits for Redis as a worker does: its runs outlive the restart.
    connection = createRedisConnection(cluster.env.REDIS_URL!, 'worker', logger, {
      cluster: { nodes: cluster.nodes },
    });
    queues = createQueues({
      backend: redisQueues(connection, prefix),
      settings: { attempts: 3, backoffMs: 100 },
      logger,
    });
    events = await createQueueEvents(queues.backend, queues.byName.sync);

    // The API as its process builds it (create-api.ts), on the same cluster.
    const token = randomBytes(32).toString('base64url');
    const apiLog = memoryLogger('warn');
    apiLines = apiLog.lines;
    shutdown = createShutdown(apiLog.logger, 10_000);
    api = await createApi({
      config: testConfig({
        ...cluster.env,
        QUEUE_PREFIX: prefix,
        ODOO_WEBHOOK_TOKENS: createHash('sha256').update(token).digest('hex'),
        ODOO_WEBHOOK_DEBOUNCE_MS: '0',
        // The gateway's client is made, never called: the cache's fate is what is looked at.
        TRYTON_RPC_URL: 'http://127.0.0.1:1',
        TRYTON_DATABASE: 'unused',
        TRYTON_USER: 'unused',
        TRYTON_PASSWORD: 'unused',
      }),
      logger: apiLog.logger,
      db,
      shutdown,
    });
    webhookUrl = `${await api.listen({ host: '127.0.0.1', port: 0 })}/hooks/odoo/${token}`;
  }, 120_000);

  afterAll(async () => {
    stopping = true;
    sandbox?.control.setWebhook(undefined);
    if (worker?.exitCode === null && worker.signalCode === null) {
      worker.kill('SIGTERM');
      await once(worker, 'exit');
    }
    await shutdown?.run('test');
    await events?.close();
    await queues?.close();
    connection?.disconnect();
    await receiver?.close();
    await sandbox?.stop();
    await db?.dispose();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('copies, takes webhooks, delivers the feed, and survives a node restart mid-run', async () => {
    // A failure (a timeout above all) says which step it was in and what the worker last said.
    let step = 'the first run';
    onTestFailed(() => {
      console.error(
        `failed at: ${step}; the worker's last lines:\n${output.slice(-60).join('\n')}`,
      );
    });
    const { run, expectWebhooksCopied, expectHealed } = bcCopyProbe(db.db, queues, events);
    expect(await run()).toMatchObject({ status: 'succeeded' });
    expect(await diffCopyWithSandbox(db.db, sandbox.control, bcsFamily)).toEqual([]);
    // The status CLI reads the call budget's pause on the cluster: none, rather than unknown.
    const cli = loadConfig(
      {
        ...cluster.env,
        DATABASE_URL: db.url,
        QUEUE_PREFIX: prefix,
        ODOO_URL: sandbox.url,
        ODOO_DATABASE: sandbox.database,
        ODOO_USERNAME: sandbox.username,
        ODOO_PASSWORD: sandbox.password,
      },
      { mode: 'production', role: 'cli', codeFamilies: CODE_FAMILIES },
    );
    expect(await readPauseOnce(cli, createLogger({ level: 'silent', pretty: false }))).toBeNull();
    // The Tryton cache is a single Redis of its own: without CACHE_REDIS_URL, off, and said so.
    expect(apiLines.join('')).toContain('the Tryton cache is off');

    step = 'webhooks';
    // Odoo's webhooks through the API: each edit reaches the copy without a run.
    await expectWebhooksCopied(sandbox, webhookUrl);

    // A full resync; the primary that holds the queues' slot is killed among its pages, and
    // started again on its port and nodes file.
    for (const id of sandbox.control.ids(BC_MODEL).slice(100, 140))
      sandbox.control.write(BC_MODEL, id, { origin: `before the restart ${id}` });
    step = 'the resync until the node is killed';
    const holder = await cluster.portOf(`${prefix}:sync`);
    const resync = queues.add('sync-run', { family: bcsFamily.name, trigger: 'test', full: true });
    for (let page = 0; page < 3; page += 1)
      await sandbox.control.waitForCall({ method: 'read', model: BC_MODEL });
    await cluster.stopNode(holder, 'SIGKILL');
    // Odoo goes on meanwhile; the other nodes call the node failed, and with no replica to take
    // its slots, the whole cluster is down until it returns.
    for (const id of sandbox.control.ids(BC_MODEL).slice(200, 220))
      sandbox.control.write(BC_MODEL, id, { origin: `while a node was down ${id}` });
    step = 'the cluster going down';
    await cluster.down();
    // The API fails fast meanwhile, as on a single Redis that is away: an event Odoo posts is kept
    // in the inbox (202, not queued) and a read is served (the Cluster's retries took 3.4 s and
    // 1.7 s: redis-connection.ts). It says the queues are down: the live nodes answer a PING.
    const ready = await api.inject({ url: '/health/ready', headers: bearer('operator') });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ parts: { redis: { status: 'down' } } });
    const announced = sandbox.control.ids(BC_MODEL)[200]!;
    const hook = await api.inject({
      method: 'POST',
      url: new URL(webhookUrl).pathname,
      payload: { _model: BC_MODEL, _id: announced, _action: 'write' },
    });
    expect(hook.statusCode).toBe(202);
    expect(hook.json()).toEqual({ queued: false, deduplicated: false });
    const read = await api.inject({ url: '/api/bcs?limit=1', headers: bearer('reader') });
    expect(read.statusCode).toBe(200);
    step = 'the node starting again';
    await cluster.startNode(holder);
    // With its data, the node gives the run's jobs back, and the run ends (its jobs that failed
    // while the cluster was down retried); empty, the run's job is gone with it.
    step = 'the resync ending';
    const resyncResult = (await events
      .waitFor(await resync)
      .catch((error: Error) => ({ status: 'lost', reason: error.message }))) as {
      status: string;
      reason?: string;
    };
    if (appendOnly) expect(['succeeded', 'failed']).toContain(resyncResult.status);
    else expect(resyncResult.reason).toMatch(/Missing key|no longer exists/);

    // The copy healed, and the feed's deliveries, on the same queues, brought every change.
    step = 'healing';
    await expectHealed(sandbox, receiver);

    // The same process all along, or, where BullMQ left a queue's job loop parked after the node
    // came back (its due jobs, delayed ones too, were taken by none), a worker that its liveness
    // check ended for its supervisor to start again: nothing else stopped one.
    for (const reason of restarts) expect(reason).toMatch(/^queue [\w:{}-]+: \d+ job\(s\) waited/);
    expect(worker.exitCode).toBeNull();
  }, 480_000);
});
