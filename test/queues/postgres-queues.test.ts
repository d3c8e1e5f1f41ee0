/**
 * The queues in PostgreSQL and no Redis at all (QUEUE_BACKEND=postgres, REDIS_URL unset): a
 * PostgreSQL server of the test's own holds the copy, BullMQ's tables and the fleet's shared state
 * (the call budget, the login memo, the feed's nudges); a worker process, the API as its process
 * builds it and the test's producer use it. A full copy, Odoo's webhooks through the API, the
 * change feed's deliveries and bull-board run on it; then the server crashes in the middle of a
 * full resync (an immediate stop: every session cut, no checkpoint) and starts again on its data.
 * The worker ends with a copy equal to Odoo and a receiver that got every change once. The test
 * starts it again if it exits, as its supervisor would: a fault of the driver its patch does not
 * mend (docs/postgres-driver.md) may still leave a query pending for good, which the worker finds
 * and exits for (src/db/query-watch.ts); nothing it held is lost.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { startFeedReceiver, type FeedReceiver } from '../../dev/services/feed-receiver.js';
import { createApi } from '../../src/create-api.js';
import { createDb, type DbHandle } from '../../src/db/create-db.js';
import { runMigrations } from '../../src/db/migrate.js';
import { BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import { generateSecret } from '../../src/feed/secret.js';
import type { App } from '../../src/http/app.js';
import { createLogger } from '../../src/lib/logger.js';
import { withDeadline } from '../../src/lib/deadline.js';
import { createShutdown, type Shutdown } from '../../src/lib/shutdown.js';
import {
  postgresQueues,
  runQueueMigrations,
  type PostgresQueueStore,
} from '../../src/stores/queue-store.js';
import { createQueueEvents, type OwnedQueueEvents } from '../../src/queues/queue-events.js';
import { createQueues, type Queues } from '../../src/queues/queues.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import { setPaused } from '../../src/sync/sync-state.js';
import { diffCopyWithSandbox } from '../helpers/copy-diff.js';
import { bcCopyProbe } from '../helpers/bc-copy-probe.js';
import { startLocalPostgres, type LocalPostgres } from '../helpers/local-services.js';
import { KEYS, bearer, memoryLogger, testConfig } from '../helpers/test-app.js';
import { startWorkerProcess, workerEnv } from '../helpers/worker-process.js';

const basic = (key: string) => ({
  authorization: `Basic ${Buffer.from(`admin:${key}`).toString('base64')}`,
});

describe('the queues in PostgreSQL, no Redis (QUEUE_BACKEND=postgres)', () => {
  let server: LocalPostgres;
  let url: string;
  let db: DbHandle;
  let sandbox: OdooSandbox;
  let receiver: FeedReceiver;
  let dir: string;
  let worker: ChildProcess;
  /** What each worker started printed. */
  const outputs: string[][] = [];
  let supervising: Promise<void> | undefined;
  /** The test ends: a worker that exits is not started again. */
  let stopping = false;
  let backend: PostgresQueueStore;
  let queues: Queues;
  let events: OwnedQueueEvents;
  let shutdown: Shutdown;
  let api: App;
  let webhookUrl: string;
  const secret = generateSecret();

  beforeAll(async () => {
    // Durable commits, as production's: the crash below would otherwise lose the last commits
    // the server acknowledged (queue moves, feed changes), which no product can keep.
    server = await startLocalPostgres({ synchronous_commit: 'on' });
    const admin = postgres(server.url, { max: 1, onnotice: () => undefined });
    await admin.unsafe('create database erp_bridge');
    await admin.end();
    url = new URL('/erp_bridge', server.url).toString();
    // As `migrate` does with QUEUE_BACKEND=postgres: the product's tables, then BullMQ's.
    db = await createDb({ url, poolMax: 4 });
    await runMigrations(db);
    await runQueueMigrations(url);
    sandbox = createOdooSandbox({ orders: 300, linesPerOrder: 2, loginCooldown: false });
    await sandbox.start();
    // No scheduled run: the test's runs are the only ones.
    await setPaused(db.db, bcsFamily.name, 'test');
    receiver = await startFeedReceiver({ secret });
    dir = mkdtempSync(join(tmpdir(), 'erp-bridge-pg-queues-'));
    const subscriptions = join(dir, 'subscriptions.yaml');
    writeFileSync(
      subscriptions,
      `subscriptions:\n  - { name: portal, url: "${receiver.url}", secret: "${secret}" }\n`,
    );
    const env = {
      ...workerEnv(
        { databaseUrl: url, prefix: 'unused', odoo: sandbox },
        {
          QUEUE_BACKEND: 'postgres',
          // Pages of 25: a run has twelve of them, and the crash falls among them.
          ODOO_PAGE_SIZE: '25',
          // The call budget, kept in PostgreSQL.
          ODOO_MAX_CONCURRENT_CALLS: '4',
          // A job whose lock lapsed while the server was down is taken over within seconds.
          SYNC_JOB_LOCK_MS: '5000',
          // A query lost with its connection is found in 20 s rather than a minute.
          REDIS_LIVENESS_TIMEOUT_MS: '20000',
          FEED_SUBSCRIPTIONS_FILE: subscriptions,
          // The receiver listens on loopback: allowed explicitly, as a deployment would its own.
          FEED_ALLOWED_HOSTS: '127.0.0.1',
        },
      ),
      REDIS_URL: undefined,
      QUEUE_PREFIX: undefined,
    };
    // The worker's supervisor: a worker that exits, or cannot start (its database away), is
    // started again, until the test ends.
    const supervise = async (): Promise<void> => {
      for (;;) {
        const started = await startWorkerProcess(env).catch(() => undefined);
        if (stopping) {
          started?.child.kill('SIGTERM');
          return;
        }
        if (!started) continue;
        outputs.push(started.output);
        worker = started.child;
        worker.once('exit', () => {
          if (!stopping) supervising = supervise();
        });
        return;
      }
    };
    supervising = supervise();
    await supervising;

    const logger = createLogger({ level: 'silent', pretty: false });
    backend = postgresQueues({
      url,
      listeners: 1,
      applicationName: 'test-producer',
      onError: () => undefined,
    });
    queues = createQueues({ backend, settings: { attempts: 3, backoffMs: 100 }, logger });
    events = await createQueueEvents(backend, queues.byName.sync);

    // The API as its process builds it (create-api.ts), on the same database and no Redis.
    const token = randomBytes(32).toString('base64url');
    const apiLog = memoryLogger('warn');
    shutdown = createShutdown(apiLog.logger, 10_000);
    api = await createApi({
      config: testConfig({
        DATABASE_URL: url,
        REDIS_URL: '',
        QUEUE_BACKEND: 'postgres',
        ODOO_WEBHOOK_TOKENS: createHash('sha256').update(token).digest('hex'),
        ODOO_WEBHOOK_DEBOUNCE_MS: '0',
      }),
      logger: apiLog.logger,
      db,
      shutdown,
    });
    webhookUrl = `${await api.listen({ host: '127.0.0.1', port: 0 })}/hooks/odoo/${token}`;
  }, 120_000);

  afterAll(async () => {
    sandbox?.control.setWebhook(undefined);
    stopping = true;
    await supervising?.catch(() => undefined);
    if (worker?.exitCode === null && worker.signalCode === null) {
      worker.kill('SIGTERM');
      await once(worker, 'exit');
    }
    await shutdown?.run('test');
    await events?.close();
    await queues?.close();
    await backend?.close();
    await receiver?.close();
    await sandbox?.stop();
    await db?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('copies, takes webhooks, delivers the feed, shows its queues, and survives a crash mid-run', async () => {
    // A failure (a timeout above all) says which step it was in, which jobs had not ended, and
    // what each worker last said.
    let step = 'the first run';
    onTestFailed(async () => {
      const jobs = await db.db
        .execute(
          sql`select queue, id, state, attempts_made, stalled_count, failed_reason,
            locked_until_ms - (extract(epoch from now()) * 1000)::bigint as lock_left_ms
            from bullmq.job where state <> 'completed' order by seq`,
        )
        .then(rowsOf, (error: Error) => [`unreadable: ${error.message}`]);
      console.error(
        [
          `failed at: ${step}`,
          'jobs not completed:',
          ...jobs.map((job) => JSON.stringify(job)),
          ...outputs.map(
            (lines, i) => `worker ${i + 1}'s last lines:\n${lines.slice(-40).join('\n')}`,
          ),
        ].join('\n'),
      );
    });
    const { run, expectWebhooksCopied, expectHealed } = bcCopyProbe(db.db, queues, events);
    expect(await run()).toMatchObject({ status: 'succeeded' });
    expect(await diffCopyWithSandbox(db.db, sandbox.control, bcsFamily)).toEqual([]);
    // No Redis anywhere: readiness names the queue database, and the board reads it.
    const ready = await api.inject({ url: '/health/ready', headers: bearer('operator') });
    expect(ready.json()).toMatchObject({
      status: 'ready',
      parts: { postgres: { status: 'up' }, 'queue-database': { status: 'up' } },
    });
    expect(Object.keys(ready.json<{ parts: object }>().parts)).not.toContain('redis');
    const board = await api.inject({
      url: '/admin/queues/api/queues?activeQueue=sync&status=completed',
      headers: basic(KEYS.admin.key),
    });
    expect(board.statusCode).toBe(200);
    const boardQueues = board.json<{ queues: { name: string; counts: Record<string, number> }[] }>()
      .queues;
    expect(boardQueues.map((queue) => queue.name).sort()).toEqual([
      'feed',
      'sync',
      'sync-page',
      'sync-reconcile',
      'sync-record',
      'sync-webhook',
    ]);
    // The test's run, and the scheduler's first, which found the family paused.
    expect(boardQueues.find((queue) => queue.name === 'sync')!.counts.completed).toBe(2);
    expect(boardQueues.find((queue) => queue.name === 'sync-page')!.counts.completed).toBe(12);

    step = 'webhooks';
    // Odoo's webhooks through the API: each edit reaches the copy without a run.
    await expectWebhooksCopied(sandbox, webhookUrl);

    step = 'the full resync, before the crash';
    // A full resync; the server crashes among its pages, and starts again on its data.
    for (const id of sandbox.control.ids(BC_MODEL).slice(100, 140))
      sandbox.control.write(BC_MODEL, id, { origin: `before the crash ${id}` });
    const resync = await queues.add('sync-run', {
      family: bcsFamily.name,
      trigger: 'test',
      full: true,
    });
    await withDeadline(
      (async () => {
        for (let page = 0; page < 3; page += 1)
          await sandbox.control.waitForCall({ method: 'read', model: BC_MODEL });
      })(),
      60_000,
      () => new Error('the resync read fewer than three pages in 60 s'),
    );
    step = 'the crash';
    await server.restart();
    step = 'the resync, after the crash';
    for (const id of sandbox.control.ids(BC_MODEL).slice(200, 220))
      sandbox.control.write(BC_MODEL, id, { origin: `after the crash ${id}` });
    // The run's job was committed before the crash: it ends (its jobs that failed while the
    // server was away retried), or fails for a retry to heal; it is never lost.
    const resyncResult = (await events
      .waitFor(resync)
      .catch((error: Error) => ({ status: 'failed', reason: error.message }))) as {
      status: string;
    };
    expect(['succeeded', 'failed']).toContain(resyncResult.status);

    step = 'healing';
    // The copy healed, and the feed's deliveries, on the same queues, brought every change.
    await expectHealed(sandbox, receiver);

    // Nothing wedged a worker's job loop or silenced its queue database: a worker exits only for
    // a query postgres.js lost.
    const wedged = outputs.flat().filter((line) => line.includes('the worker is wedged'));
    expect(wedged.filter((line) => !line.includes('after its pool lost a connection'))).toEqual([]);
  }, 480_000);
});
