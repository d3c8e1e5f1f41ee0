/**
 * The worker process: loads the configuration, builds the clients and the sync runtime,
 * upserts the job schedulers, takes jobs, and serves its health and metrics port.
 *
 * On SIGTERM/SIGINT it turns unready at once (the orchestrator stops counting on it), stops
 * taking jobs and lets active ones finish within SHUTDOWN_TIMEOUT_MS, lets in-flight probe and
 * scrape requests finish, then closes its connections and exits 0. An uncaught error is logged
 * before the process exits 1.
 *
 * A run's lease belongs to the run, not to this process: its remaining jobs go on on other
 * workers, and if none is left the lease simply expires.
 */
import { loadFamilies } from '../src/families/load-families.js';
import { loadConfigOrExit } from '../src/config/config.js';
import { createDb } from '../src/db/create-db.js';
import { waitForDatabase } from '../src/db/wait-for-database.js';
import { restoreFastStringMethods } from '../src/lib/fast-string-methods.js';
import { describeError } from '../src/lib/errors.js';
import { createLogger } from '../src/lib/logger.js';
import { redactUrl } from '../src/lib/redact-url.js';
import { createShutdown, onFatalErrors, onSignals, refuseToStart } from '../src/lib/shutdown.js';
import { registerQueueMetrics } from '../src/queues/queue-metrics.js';
import { upsertSchedules } from '../src/queues/schedules.js';
import { registerFeedMetrics } from '../src/feed/feed-metrics.js';
import { postgresFeedListen } from '../src/feed/feed-signal.js';
import { applyDeclaredSubscriptions, resealSecrets } from '../src/feed/subscriptions.js';
import { createSubscriptionSecrets } from '../src/feed/secret.js';
import { createNudgeFlags, nudgeDeliveries } from '../src/queues/feed-nudge.js';
import { upsertFeedSchedules } from '../src/queues/feed-schedules.js';
import { startFeedWake } from './feed-wake.js';
import { startFleetChores } from './fleet-chores.js';
import { startWebhookRequeue } from './webhook-requeue.js';
import { createLiveness } from './liveness.js';
import { startWorkerHeartbeat } from './worker-heartbeat.js';
import { buildWorkerHttp, buildWorkerMetricsHttp } from './worker-http.js';
import {
  createWorkerMetrics,
  registerFamilyMetrics,
  registerUnfitMetrics,
  registerWebhookInboxMetrics,
} from './worker-metrics.js';
import { registerApiKeyMetrics } from '../src/odoo-link/api-key-metrics.js';
import { createSyncRuntimeFromConfig } from './sync-runtime.js';
import { stuckExecutionsOf } from './execution-bounds.js';
import { CODE_FAMILIES } from '../src/families/registry.js';
import { DEFAULT_SOURCE } from '../src/sources/family-key.js';
import { familyModels } from '../src/families/family.js';
import { ModelTakenError } from '../src/sync/model-claims.js';
import { copiedSources } from '../src/config/sources.js';
import { answerUsage } from '../src/lib/command-usage.js';

const USAGE = `Usage: npm run start:worker   (node dist/workers/main.js; the image's "worker")

A sync worker: copies Odoo into PostgreSQL through the queues (scheduled runs, reconciles,
verifies, webhooks, a record's retry), delivers the change feed, and serves its health and
metrics on HOST:WORKER_HTTP_PORT (0.0.0.0:3001). Start as many as the work needs: they share it.

Configuration comes from the environment and an optional .env (every key: .env.example, and the
README's configuration table). It needs DATABASE_URL, REDIS_URL (not with QUEUE_BACKEND=postgres),
and Odoo's ODOO_URL, ODOO_DATABASE, ODOO_USERNAME and ODOO_PASSWORD or ODOO_API_KEY (or the
sources of SYNC_SOURCES_FILE). A missing or bad key stops it before it starts, each one named
(exit 1). On SIGTERM or SIGINT it stops taking jobs, lets active ones finish
(SHUTDOWN_TIMEOUT_MS), and exits 0.

Options:
  -h, --help   this help`;

/** The heartbeat beats this often while the job loops run; readiness wants one within 3 beats. */
const HEARTBEAT_INTERVAL_MS = 10_000;
const HEARTBEAT_MAX_AGE_MS = 3 * HEARTBEAT_INTERVAL_MS;

answerUsage(USAGE);
restoreFastStringMethods();
const config = loadConfigOrExit({
  mode: 'production',
  role: 'worker',
  codeFamilies: CODE_FAMILIES,
});
const logger = createLogger({ ...config.log, name: 'worker' });
const shutdown = createShutdown(logger, config.http.shutdownTimeoutMs + 5_000);
onSignals(shutdown, logger);
onFatalErrors(shutdown, logger);

// A query postgres.js lost with its connection is found within the liveness timeout (below).
const db = await createDb({
  ...config.database,
  watch: { stuckAfterMs: config.redis.livenessTimeoutMs },
  logger,
});
shutdown.add('database', () => db.close());
await waitForDatabase(() => db.ping(), { waitMs: config.database.bootWaitMs, logger }).catch(
  (error: unknown) => refuseToStart(shutdown, logger, error),
);

// The sources this worker copies (SYNC_SOURCES), each from its own Odoo (docs/sources.md).
const copying = copiedSources(config.sources, config.sync.sources);
const sources = copying.others;
// The default source's Odoo where this worker copies it; else none, and no secret of it read.
const defaultOdoo = copying.withDefault ? config.odoo : undefined;
// A family waiting for migrate is named in a warning; the others are copied meanwhile.
const families = await loadFamilies(db.db, config.sync.families, logger, copying).catch(
  (error: unknown) => refuseToStart(shutdown, logger, error),
);
const metrics = createWorkerMetrics();
const runtime = createSyncRuntimeFromConfig({
  config,
  odoo: defaultOdoo,
  sources,
  db: db.db,
  families,
  logger,
  odooObserver: (source) => metrics.odooOf(source),
  budgetObserver: (source) => metrics.budgetOf(source),
  withKeyLifecycle: true,
  stuckExecutions: stuckExecutionsOf(db, config.redis.livenessTimeoutMs),
});
registerQueueMetrics(metrics.registry, runtime.queues);
// Each source's key, its own.
const keyLifecycles = [...runtime.links].flatMap(([source, link]) =>
  link.lifecycle ? [{ source, lifecycle: link.lifecycle }] : [],
);
registerApiKeyMetrics(metrics.registry, () =>
  keyLifecycles.map(({ source, lifecycle }) => ({ source, status: lifecycle.status() })),
);
registerFeedMetrics(metrics.registry, db.db);
registerUnfitMetrics(metrics.registry, db.db);
const unseenWebhooks = registerWebhookInboxMetrics(metrics.registry, db.db);
// Every family copied here, one waiting for migrate too: it runs as soon as it is migrated.
const copied = [...families.all, ...families.unavailable];
registerFamilyMetrics(metrics.registry, db.db, copied, config.sync.everyMs);
for (const worker of runtime.workers)
  worker.on('completed', (job, result) => metrics.jobCompleted(job, result));
const heartbeat = startWorkerHeartbeat(runtime.workers, {
  intervalMs: HEARTBEAT_INTERVAL_MS,
  maxAgeMs: HEARTBEAT_MAX_AGE_MS,
});

// A wedged worker says so and exits for its supervisor (workers/liveness.ts); watched from the
// moment its workers take jobs (below).
const { backend } = runtime.stores;
const liveness = createLiveness({
  probe: backend.probe(),
  queues: runtime.watched,
  flow: runtime.flow,
  timeoutMs: config.redis.livenessTimeoutMs,
  stuckQuery: () => db.stuckQuery?.(),
  logger,
  onDead: (reason) => {
    process.exitCode = 1;
    void shutdown.run(`wedged: ${reason}`).then(() => process.exit(1));
  },
});
shutdown.add('liveness', () => liveness.stop());
const http = await buildWorkerHttp({
  logger,
  registry: metrics.registry,
  isShuttingDown: () => shutdown.stopping,
  deadReason: () => liveness.reason,
  metrics: config.http.workerMetrics ? 'elsewhere' : { keys: config.apiKeys },
  checks: [
    { name: 'postgres', check: () => db.ping() },
    ...runtime.stores.checks,
    {
      name: 'jobs',
      check: () => {
        if (!heartbeat.recent())
          throw new Error(`no job heartbeat for ${Math.round(heartbeat.ageMs() / 1_000)} s`);
        return Promise.resolve();
      },
    },
  ],
});
// Closers run last-registered first: jobs drain while probes still get their 503, then HTTP.
shutdown.add('http', () => http.close());
shutdown.add('heartbeat', () => {
  heartbeat.stop();
  return Promise.resolve();
});
shutdown.add('sync runtime', () => runtime.close(config.http.shutdownTimeoutMs));

const address = await http.listen({ port: config.http.workerPort, host: config.http.host });
const metricsHttp = config.http.workerMetrics && buildWorkerMetricsHttp(metrics.registry, logger);
if (metricsHttp) shutdown.add('metrics http', () => metricsHttp.close());
const metricsAddress = metricsHttp
  ? await metricsHttp.listen({ ...config.http.workerMetrics })
  : undefined;
if (!metricsHttp && config.apiKeys.length === 0)
  logger.warn(
    "the worker's /metrics answers no one: set API_KEYS (Prometheus sends an operator key) or WORKER_METRICS_HOST",
  );
await upsertSchedules(runtime.queues, db.db, copied, {
  everyMs: config.sync.everyMs,
  reconcileCron: config.sync.reconcileCron,
});
// The fleet's chores while this worker runs: families and subscriptions noted, schedulers kept.
const chores = startFleetChores({
  db: db.db,
  queues: runtime.queues,
  families: copied,
  schedule: { everyMs: config.sync.everyMs, reconcileCron: config.sync.reconcileCron },
  subscriptions: config.feed.declared.subscriptions,
  logger,
  onStoreBack: (listener) => backend.onBack(listener),
});
shutdown.add('fleet chores', () => chores.stop());
// A family whose model another family of the fleet copies is named now; its jobs fail saying so.
for (const family of families.all)
  await runtime.claims
    .ensure(
      family.name,
      familyModels(family).map((model) => model.model),
    )
    .catch((error: unknown) => {
      if (!(error instanceof ModelTakenError)) throw error;
      logger.warn({ family: family.name, code: error.code, taken: error.taken }, error.message);
    });
// The change feed: the file's subscriptions, its schedulers, and a wake-up at every commit.
const feedSecrets = createSubscriptionSecrets(config.feed.secretKey);
// Secrets an earlier version stored in the clear, or sealed under FEED_SECRET_KEY_PREVIOUS.
for (const name of await resealSecrets(db.db, feedSecrets))
  logger.warn(
    { subscription: name, code: 'FEED_SECRET_UNREADABLE' },
    `subscription ${name}: its secret does not open with FEED_SECRET_KEY; its deliveries fail until FEED_SECRET_KEY_PREVIOUS names the key that sealed it`,
  );
const { undeclared, notices } = await applyDeclaredSubscriptions(
  db.db,
  config.feed.declared,
  feedSecrets,
).catch((error: unknown) => refuseToStart(shutdown, logger, error));
for (const { subscription, code, message } of notices) logger.warn({ subscription, code }, message);
for (const name of undeclared)
  logger.warn(
    { subscription: name },
    `subscription ${name} comes from another process's FEED_SUBSCRIPTIONS_FILE and is not in this one's: kept, with its cursor; a file deletes it by listing it under removed, and it is deleted once no process has declared it for a day`,
  );
await upsertFeedSchedules(runtime.queues);
const feedWake = await startFeedWake({
  listen: db.sql ? postgresFeedListen(db.sql) : undefined,
  nudge: () =>
    nudgeDeliveries({
      db: db.db,
      queues: runtime.queues,
      flags: createNudgeFlags(runtime.stores.shared),
    }),
  logger,
});
shutdown.add('feed wake', () => feedWake.stop());
const webhookRequeue = startWebhookRequeue(
  {
    db: db.db,
    queues: runtime.queues,
    families: copied.map((family) => family.name),
    debounceMs: config.webhooks.debounceMs,
    logger,
    unseen: unseenWebhooks,
  },
  (listener) => backend.onBack(listener),
);
shutdown.add('webhook requeue', () => webhookRequeue.stop());
runtime.start();
liveness.start();
// The default source's transport is chosen here, once, so the start line says which and why; an
// Odoo away at boot (and another source's) is chosen at the first call instead. The key's
// lifecycle then checks it at once. Neither is asked in a worker that does not copy it.
const bootSignal = () => AbortSignal.timeout(defaultOdoo!.timeoutMs);
const defaultLink = runtime.links.get(DEFAULT_SOURCE);
const odooTransport = await defaultLink?.client
  .transport({ signal: bootSignal() })
  .catch((error: unknown) => ({ pending: `not chosen yet: ${describeError(error)}` }));
const odooApiKey = await defaultLink?.lifecycle?.check(bootSignal()).then(
  (status) => status.summary,
  (error: unknown) => `not checked yet: ${describeError(error)}`,
);
for (const { lifecycle } of keyLifecycles) lifecycle.start();
logger.info(
  {
    families: families.all.map((family) => family.name),
    ...(families.unavailable.length > 0
      ? { waitingForMigrate: families.unavailable.map((family) => family.name) }
      : {}),
    everyMs: config.sync.everyMs,
    reconcileCron: config.sync.reconcileCron,
    concurrency: config.sync.concurrency,
    ...(defaultOdoo ? { odoo: redactUrl(defaultOdoo.url) } : {}),
    ...(sources.length > 0
      ? {
          sources: Object.fromEntries(
            sources.map((source) => [source.name, redactUrl(source.odoo.url)]),
          ),
        }
      : {}),
    odooTransport,
    ...(odooApiKey === undefined ? {} : { odooApiKey }),
    http: address,
    ...(metricsAddress ? { metrics: metricsAddress } : {}),
  },
  'worker started',
);
