/**
 * `npm run demo`: the whole product in one process on embedded defaults — PGlite in ./.data when
 * there is no DATABASE_URL, a local redis-server when there is no REDIS_URL, the bundled Odoo
 * sandbox when there is no ODOO_URL — with the API, bull-board and the workers, and a first sync
 * started at once. Ctrl-C stops everything it started. Started again, it reuses its data.
 */
import { loadFamilies } from '../../src/families/load-families.js';
import { dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createApi } from '../../src/create-api.js';
import { hashApiKey } from '../../src/config/api-keys.js';
import { BC_MODEL } from '../../src/families/bcs/family.js';
import { loadConfigOrExit, type Config } from '../../src/config/config.js';
import { defaultApiKeyLifecycle, defaultOdooBudget } from '../../src/config/odoo-config.js';
import { createDb, type DbHandle } from '../../src/db/create-db.js';
import { runMigrations } from '../../src/db/migrate.js';
import { runQueueMigrations } from '../../src/stores/queue-store.js';
import { provideDemoRedis } from './local-redis.js';
import { createPgliteDb } from './pglite-db.js';
import { demoAdminKey, demoFeedSecretKey } from './demo-key.js';
import { startDemoFeed } from './demo-feed.js';
import { describeError } from '../../src/lib/errors.js';
import { restoreFastStringMethods } from '../../src/lib/fast-string-methods.js';
import { createLogger, type Logger } from '../../src/lib/logger.js';
import { createShutdown, onSignals } from '../../src/lib/shutdown.js';
import { createQueueEvents } from '../../src/queues/queue-events.js';
import { upsertSchedules } from '../../src/queues/schedules.js';
import { createOdooSandbox, type OdooSandbox } from '../sandbox/odoo-sandbox.js';
import {
  createSyncRuntimeFromConfig,
  type ConfiguredSyncRuntime,
} from '../../workers/sync-runtime.js';
import { CODE_FAMILIES } from '../../src/families/registry.js';
import { answerUsage } from '../../src/lib/command-usage.js';

const USAGE = `Usage: npm run demo

The whole product in one process on embedded defaults: the API, bull-board and the workers, a
first copy started at once, and a BC edited every 30 s to show Odoo's webhooks at work. It
prints where to look and an admin API key. Ctrl-C stops everything it started; started again,
it reuses its data (in .data/).

Each default gives way to its key, from the environment or an optional .env (.env.example):
  DATABASE_URL   else PGlite, in PGLITE_DIR (.data/pglite), no server
  REDIS_URL      else the Redis answering on 127.0.0.1:6379, else a redis-server it starts
  ODOO_URL…      else the bundled Odoo sandbox: 2,500 BCs of 6 lines and 1,000 contacts
  PORT           3000

Options:
  -h, --help   this help`;

/**
 * Size of the sandbox's data: a few thousand BCs and contacts, synced within a minute on a
 * laptop.
 */
const DEMO_ORDERS = 2_500;
const DEMO_LINES_PER_ORDER = 6;
const DEMO_PARTNERS = 1_000;

answerUsage(USAGE);
restoreFastStringMethods();
const base = loadConfigOrExit({ mode: 'demo', role: 'demo', codeFamilies: CODE_FAMILIES });
const logger = createLogger({ ...base.log, name: 'demo' });
const shutdown = createShutdown(logger, base.http.shutdownTimeoutMs + 5_000);
onSignals(shutdown, logger);
const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * DATABASE_URL when set, else PGlite in PGLITE_DIR; migrated either way, BullMQ's tables too when
 * the queues are in PostgreSQL (config.ts refuses those on PGlite).
 */
async function openDatabase(config: Config, log: Logger): Promise<DbHandle> {
  if (config.database.url) {
    const db = await createDb({ ...config.database, logger: log });
    await runMigrations(db);
    if (config.queues.backend === 'postgres') await runQueueMigrations(config.queues.databaseUrl!);
    return db;
  }
  const db = await createPgliteDb(resolve(config.database.pgliteDir));
  await db.migrate();
  return db;
}

try {
  const dataDir = resolve(base.database.url ? '.data' : dirname(base.database.pgliteDir));

  const db = await openDatabase(base, logger);
  shutdown.add('database', () => db.close());
  logger.info(
    {
      database:
        db.kind === 'pglite' ? `PGlite in ${resolve(base.database.pgliteDir)}` : 'DATABASE_URL',
    },
    'database ready',
  );

  const redis = base.redis.url
    ? { url: base.redis.url, stop: () => Promise.resolve() }
    : await provideDemoRedis(resolve(dataDir, 'redis'));
  shutdown.add('redis-server', () => redis.stop());
  logger.info({ redis: base.redis.url ? 'REDIS_URL' : redis.url }, 'redis ready');

  let odooSettings = base.odoo;
  let sandbox: OdooSandbox | undefined;
  if (!odooSettings) {
    sandbox = createOdooSandbox({
      orders: DEMO_ORDERS,
      linesPerOrder: DEMO_LINES_PER_ORDER,
      partners: DEMO_PARTNERS,
      seed: 1,
      logger,
    });
    await sandbox.start();
    const started = sandbox;
    shutdown.add('odoo-sandbox', () => started.stop());
    odooSettings = {
      url: sandbox.url,
      database: sandbox.database,
      username: sandbox.username,
      password: sandbox.password,
      // The sandbox takes its password as an API key too: JSON-2, as on a real Odoo 19.
      apiKey: sandbox.password,
      apiKeyLifecycle: defaultApiKeyLifecycle(),
      protocol: 'auto',
      readReplica: false,
      timeoutMs: 30_000,
      retries: 3,
      budget: defaultOdooBudget(),
      pageSize: 1_000,
      pageMaxBytes: 2 * 1024 * 1024,
      valueMaxBytes: 256 * 1024 * 1024,
    };
    logger.info(
      {
        url: sandbox.url,
        orders: DEMO_ORDERS,
        linesPerOrder: DEMO_LINES_PER_ORDER,
        partners: DEMO_PARTNERS,
      },
      'Odoo sandbox ready',
    );
  }

  const admin = demoAdminKey(dataDir);
  // The sandbox pushes its changes as Odoo's automation rule would, to a token of this run.
  const webhookToken = randomBytes(32).toString('base64url');
  const config: Config = {
    ...base,
    webhooks: sandbox
      ? { ...base.webhooks, tokenSha256: [hashApiKey(webhookToken)] }
      : base.webhooks,
    redis: { ...base.redis, url: redis.url, cacheUrl: base.redis.cacheUrl ?? redis.url },
    odoo: odooSettings,
    apiKeys: [...base.apiKeys, admin.entry],
    feed: { ...base.feed, secretKey: base.feed.secretKey ?? demoFeedSecretKey(dataDir) },
  };

  const families = await loadFamilies(db.db, config.sync.families, logger);
  const runtime = createSyncRuntimeFromConfig({
    config,
    odoo: config.odoo,
    db: db.db,
    families,
    logger,
  });
  shutdown.add('sync runtime', () => runtime.close(config.http.shutdownTimeoutMs));

  const feed = await startDemoFeed({ db, runtime, config, logger, shutdown, say });
  const app = await createApi({
    config,
    logger,
    db,
    shutdown,
    families,
    ...(feed.listen ? { feedListen: feed.listen } : {}),
  });
  const address = await app.listen({
    port: config.http.port,
    host: config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host,
  });

  await upsertSchedules(
    runtime.queues,
    runtime.sync.db,
    [...runtime.sync.families.all, ...runtime.sync.families.unavailable],
    { everyMs: config.sync.everyMs, reconcileCron: config.sync.reconcileCron },
  );
  runtime.start();

  // The scheduler's first job starts a run at once; report the first run that was not skipped.
  const { events, close: closeEvents } = await createQueueEvents(
    runtime.stores.backend,
    runtime.queues.byName.sync,
    { onError: (error) => logger.debug({ err: error }, 'queue events: connection error') },
  );
  shutdown.add('queue-events', closeEvents);
  // The first run of each family that was not skipped, said once.
  const reported = new Set<string>();
  events.on('completed', ({ returnvalue }) => {
    const result = returnvalue as unknown as {
      family?: string;
      status?: string;
      counts?: Record<string, number>;
    } | null;
    if (!result?.family || !result.counts || result.status === 'skipped') return;
    if (reported.has(result.family)) return;
    reported.add(result.family);
    const noun = runtime.sync.families.byName(result.family)?.noun ?? 'record';
    const counts = result.counts;
    say(
      `first ${result.family} sync ${result.status ?? 'finished'}: ${counts.created ?? 0} ${noun}s created, ${counts.updated ?? 0} updated, ` +
        `${counts.unchanged ?? 0} unchanged, ${counts.failed ?? 0} failed — try the API now`,
    );
    // The BCs copied, the receiver takes their changes from now on: never the first copy.
    if (result.family === runtime.sync.families.all[0]?.name)
      feed.subscribe().catch((error: unknown) => {
        logger.error(
          { err: error },
          `the demo's receiver could not subscribe: ${describeError(error)}`,
        );
      });
  });

  say('');
  say('erp-bridge demo is running');
  say(`  API:        ${address}/api/bcs`);
  for (const family of runtime.sync.families.all)
    say(`  ${`${family.name}:`.padEnd(11)} ${address}/api/models/${family.root.model}/records`);
  say(
    `  changes:    ${address}/api/changes/stream  (each change as it commits; GET /api/changes pulls)`,
  );
  say(`  Docs:       ${address}/docs`);
  say(`  bull-board: ${address}/admin/queues  (user: anything, password: the API key)`);
  say(`  API key: ${admin.key}`);
  say(`  try:        curl -H "Authorization: Bearer ${admin.key}" "${address}/api/bcs?limit=5"`);
  say('  Ctrl-C stops everything.');
  say('');
  events.on('failed', ({ failedReason }) => {
    if (reported.size < runtime.sync.families.all.length)
      say(`sync job failed: ${failedReason} (see bull-board)`);
  });
  if (sandbox) await showPushedChanges(sandbox, `${address}/hooks/odoo/${webhookToken}`, runtime);
} catch (error) {
  logger.error({ err: error }, `demo could not start: ${describeError(error)}`);
  process.stderr.write(`erp-bridge demo: ${describeError(error)}\n`);
  process.exitCode = 1;
  await shutdown.run('startup failed');
}

/**
 * Turns the sandbox's webhook rule on, and every 30 s edits a BC in the sandbox and says how
 * long the copy took to have it: a change pushed in about a second, not at the next poll.
 */
async function showPushedChanges(
  odoo: OdooSandbox,
  hookUrl: string,
  runtime: ConfiguredSyncRuntime,
): Promise<void> {
  // Every model copied pushes its changes, as an automation rule per model would in Odoo.
  odoo.control.setWebhook({
    url: hookUrl,
    models: runtime.sync.families.all.flatMap((family) =>
      [family.root, ...family.children].map((model) => model.model),
    ),
    fields: ['write_date'],
  });
  const { events, close } = await createQueueEvents(
    runtime.stores.backend,
    runtime.queues.byName['sync-webhook'],
    { onError: (error) => logger.debug({ err: error }, 'queue events: connection error') },
  );
  shutdown.add('webhook-events', close);
  const edited = new Map<number, number>();
  events.on('completed', ({ returnvalue }) => {
    const odooId = (returnvalue as unknown as { odooId?: number } | null)?.odooId;
    const at = odooId === undefined ? undefined : edited.get(odooId);
    if (at === undefined) return;
    edited.delete(odooId!);
    say(
      `Odoo changed BC ${odooId}: in the copy ${((Date.now() - at) / 1_000).toFixed(1)} s later (webhook)`,
    );
  });
  const timer = setInterval(() => {
    const ids = odoo.control.ids(BC_MODEL);
    const odooId = ids[Math.floor(Math.random() * ids.length)]!;
    edited.set(odooId, Date.now());
    odoo.control.write(BC_MODEL, odooId, {
      origin: `edited in Odoo at ${new Date().toISOString().slice(11, 19)}`,
    });
  }, 30_000);
  shutdown.add('demo-edits', () => {
    clearInterval(timer);
    return Promise.resolve();
  });
}
