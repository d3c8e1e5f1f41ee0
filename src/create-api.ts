/**
 * Builds the API app from the configuration: queue producers on a fail-fast Redis connection, the
 * rate limiter on another, the shared Tryton client and its cache (on their own Redis
 * connection), readiness probes, metric sources, then the app itself. Each resource, the app
 * included, registers its closer with the shutdown. Used by the API process and the demo; neither
 * listens here.
 */
import { createTrytonCache } from './clients/tryton/tryton-cache.js';
import { createTrytonClient } from './clients/tryton/tryton-client.js';
import type { Config } from './config/config.js';
import { createDb, type DbHandle } from './db/create-db.js';
import { buildApp, type App, type AppDeps } from './http/app.js';
import type { Families } from './families/registry.js';
import type { MetricSource } from './http/metrics.js';
import type { ReadinessCheck } from './fastify/health-routes.js';
import { trytonMetrics } from './http/tryton-metrics.js';
import type { Logger } from './lib/logger.js';
import { packageVersion } from './lib/package-version.js';
import type { Shutdown } from './lib/shutdown.js';
import { createQueues } from './queues/queues.js';
import { shareChecks } from './check/share-checks.js';
import { checkThroughWorker } from './http/worker-check.js';
import { createRedisConnection } from './stores/redis-connection.js';
import { openStores } from './stores/open-stores.js';
import { readSyncState } from './sync/sync-state.js';
import { DEFAULT_SOURCE } from './sources/family-key.js';
import { redactUrl } from './lib/redact-url.js';
import { endRedis } from './lib/end-redis.js';

/** Error codes of a failed run that mean Odoo itself could not be reached or answered badly. */
const ODOO_DOWN: ReadonlySet<string> = new Set([
  'ODOO_NETWORK',
  'ODOO_TIMEOUT',
  'ODOO_HTTP',
  'ODOO_PROTOCOL',
  'ODOO_AUTH',
]);

/** Slowloris guard, and longer than the idle timeout of the load balancers in front. */
const REQUEST_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * The API's database handle: each statement bounded in time, and each prepared statement planned
 * for its parameters (a list's plan depends on its filters' values). `url` names the replica the
 * API reads from (DATABASE_READ_URL); the primary by default.
 */
export function createApiDb(
  config: Config,
  logger: Logger,
  url = config.database.url,
): Promise<DbHandle> {
  return createDb({
    ...config.database,
    ...(url === undefined ? {} : { url }),
    statementTimeoutMs: config.http.statementTimeoutMs,
    planEachCall: true,
    // A query postgres.js lost with its connection makes /health/live answer 503 (app.ts).
    watch: { stuckAfterMs: config.redis.livenessTimeoutMs },
    logger,
  });
}

export async function createApi(input: {
  config: Config;
  logger: Logger;
  db: DbHandle;
  /** The replica the read API and the change feed read from (DATABASE_READ_URL). */
  replica?: DbHandle;
  shutdown: Shutdown;
  /** The families served; loaded from the configuration when not given. */
  families?: Families;
  /** How the change feed's waiting requests hear of commits (PGlite's own in the demo). */
  feedListen?: AppDeps['feedListen'];
}): Promise<App> {
  const { config, logger, db, shutdown } = input;
  const stores = openStores({
    settings: config,
    role: 'producer',
    // A QueueEvents a check over the API waits on.
    listeners: 1,
    db: db.db,
    logger,
  });
  shutdown.add('queue stores', () => stores.close());
  const queues = createQueues({
    logger,
    backend: stores.backend,
    settings: { attempts: config.sync.jobAttempts, backoffMs: 1_000 },
    // Every source's: bull-board and the metrics show them all.
    sources: config.sources.map((source) => source.name),
  });
  shutdown.add('queues', () => queues.close());
  // Without Redis, each API process counts its own requests.
  const rateLimitRedis =
    config.redis.url === undefined
      ? undefined
      : createRedisConnection(config.redis.url, 'rate-limit', logger, config.redis);
  shutdown.add('rate-limit-redis', async () => {
    if (rateLimitRedis) await endRedis(rateLimitRedis);
  });

  const checks: ReadinessCheck[] = [
    ...stores.checks,
    {
      name: 'odoo',
      optional: true,
      // The API never calls Odoo; the workers' last run of each family says whether they could.
      check: async () => {
        for (const family of config.sync.families.copied) {
          const state = await readSyncState(db.db, family);
          if (
            state?.lastRunStatus === 'failed' &&
            state.lastErrorCode !== null &&
            ODOO_DOWN.has(state.lastErrorCode)
          ) {
            throw new Error(
              `last ${family} sync run could not reach Odoo: ${(state.lastError ?? state.lastErrorCode).slice(0, 150)}`,
            );
          }
        }
      },
    },
  ];

  let tryton: AppDeps['tryton'];
  const metricSources: MetricSource[] = [];
  if (config.tryton) {
    if (config.redis.cacheSharesQueue)
      logger.warn(
        config.tryton.cacheAllowNoEviction
          ? 'the Tryton cache shares the queue Redis (CACHE_REDIS_URL unset or the same), and TRYTON_CACHE_ALLOW_NOEVICTION lets it write there: its budget (TRYTON_CACHE_MAX_ENTRIES, TRYTON_CACHE_MAX_TOTAL_BYTES) is all that keeps it from filling that Redis and stopping the queues'
          : 'the Tryton cache shares the queue Redis (CACHE_REDIS_URL unset or the same): a queue Redis runs with noeviction, so nothing is cached; give CACHE_REDIS_URL a Redis of its own with an evicting policy',
      );
    const { cacheUrl } = config.redis;
    // No Redis at all, or the queues on a Redis Cluster and no CACHE_REDIS_URL (config.ts).
    if (cacheUrl === undefined)
      logger.warn(
        config.redis.url === undefined
          ? 'the Tryton cache is off: no Redis is configured (QUEUE_BACKEND=postgres without REDIS_URL); give CACHE_REDIS_URL a Redis with an evicting policy to cache Tryton answers'
          : 'the Tryton cache is off: the queues are on a Redis Cluster (REDIS_CLUSTER_NODES), which the cache does not use; give CACHE_REDIS_URL a Redis of its own with an evicting policy to cache Tryton answers',
      );
    const cache =
      cacheUrl === undefined
        ? undefined
        : createTrytonCache({
            redisUrl: cacheUrl,
            keyPrefix: 'erp-bridge:tryton:',
            logger,
            maxTtlSeconds: config.tryton.cacheMaxTtlSeconds,
            maxEntries: config.tryton.cacheMaxEntries,
            maxTotalBytes: config.tryton.cacheMaxTotalBytes,
            allowNoEviction: config.tryton.cacheAllowNoEviction,
          });
    const client = createTrytonClient(config.tryton, {
      logger: logger.child({ module: 'tryton' }),
      ...(cache ? { cache } : {}),
    });
    if (cache) shutdown.add('tryton-cache', () => cache.close());
    shutdown.add('tryton', () => client.close());
    tryton = client;
    metricSources.push(trytonMetrics(client, cache));
    checks.push({ name: 'tryton', optional: true, check: async () => void (await client.ping()) });
  }
  const app = await buildApp({
    ...(input.families ? { families: input.families } : {}),
    ...(input.feedListen ? { feedListen: input.feedListen } : {}),
    ...(input.replica ? { replica: input.replica } : {}),
    config,
    logger,
    db,
    queues,
    shared: stores.shared,
    tryton,
    checkOdoo: shareChecks((source: string) =>
      checkThroughWorker({ queues, source, target: odooTargetOf(config, source) }),
    ),
    readinessChecks: checks,
    metricSources,
    ...(rateLimitRedis ? { rateLimitRedis } : {}),
    isShuttingDown: () => shutdown.stopping,
    version: packageVersion(),
  });
  app.server.requestTimeout = REQUEST_TIMEOUT_MS;
  app.server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  shutdown.add('http', () => app.close());
  return app;
}

/** A source's Odoo as a check's heading names it: its URL, database and user, never a secret. */
function odooTargetOf(config: Config, source: string): string {
  const odoo =
    config.sources.find((one) => one.name === source)?.odoo ??
    (source === DEFAULT_SOURCE ? config.odooLink : undefined);
  return odoo ? `${redactUrl(odoo.url)}, database ${odoo.database}, user ${odoo.username}` : source;
}
