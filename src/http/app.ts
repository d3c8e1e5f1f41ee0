/**
 * Builds the Fastify app from ready dependencies and never listens: `src/server.ts` owns the
 * socket and the process, tests use `app.inject`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  type RawServerDefault,
} from 'fastify';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { QueueRedis } from '../stores/redis-connection.js';
import type { SharedState } from '../stores/shared-state.js';
import type { Config } from '../config/config.js';
import type { DbHandle } from '../db/create-db.js';
import type { Logger } from '../lib/logger.js';
import type { TrytonClient } from '../clients/tryton/tryton-client.js';
import { readCallPause } from '../odoo-budget/call-budget.js';
import { createSubscriptionSecrets } from '../feed/secret.js';
import type { Queues } from '../queues/queues.js';
import { createMetrics, type MetricSource } from './metrics.js';
import { apiKeyAuth, DEPLOYMENT, readsDeployment } from './plugins/api-key-auth.js';
import { createKeyMatcher, requestKey } from '../fastify/key-matcher.js';
import { archivedAccess } from './plugins/archived-access.js';
import { docsPlugin } from './plugins/docs.js';
import { errorHandler } from './plugins/error-handler.js';
import { metricsPlugin } from './plugins/metrics.js';
import { recordsPlugin } from './plugins/records.js';
import { bullBoardRoutes } from './routes/admin/bull-board.js';
import { bcRoutes } from './routes/api/bcs/index.js';
import {
  createWebhookTokenMatcher,
  ODOO_WEBHOOK_ROUTE,
  odooWebhookRoutes,
  type WebhookToken,
} from './routes/hooks/odoo-webhook.js';
import { copiedSources, type SourceConfig } from '../config/sources.js';
import { checkRoutes } from './routes/api/sync/check.js';
import { syncRoutes } from './routes/api/sync/index.js';
import type { CheckSection } from '../check/check-report.js';
import { checkTrytonSection } from '../check/check-sections.js';
import { shareCheck } from '../check/share-checks.js';
import { createGatewayPolicy } from './routes/tryton/gateway-policy.js';
import { trytonRoutes } from './routes/tryton/index.js';
import { HEALTH_ROUTE_PATHS, healthRoutes, type ReadinessCheck } from '../fastify/health-routes.js';
import { rateLimitAddress } from './client-address.js';
import { routedPath, webhookTokenOf } from './routed-path.js';
import { createEarlyRefusal } from './early-refusal.js';
import { HttpError } from './http-error.js';
import { readLinkStatus } from '../odoo-link/link-store.js';
import { createSyncControl } from './sync-control.js';
import { loadFamilies } from '../families/load-families.js';
import { modelRoutes } from './routes/api/models/index.js';
import type { Families } from '../families/registry.js';
import {
  createFeedSignal,
  postgresFeedListen,
  replicaFeedListen,
  type FeedListen,
} from '../feed/feed-signal.js';
import { replicaMetrics } from './replica-metrics.js';
import { changesRoutes } from './routes/api/changes/index.js';
import { DEFAULT_SOURCE } from '../sources/family-key.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  db: DbHandle;
  /**
   * A streaming replica of `db` (DATABASE_READ_URL): the read engine and the change feed's pulls
   * and streams read from it; everything that writes keeps `db`.
   */
  replica?: DbHandle;
  /** The job queues (producer side); without them sync control answers 503 and bull-board is absent. */
  queues?: Queues;
  /** The shared Tryton client (built with its cache); without it the gateway answers 503. */
  tryton?: TrytonClient;
  /**
   * A source's Odoo checked by a worker (GET /api/sync/check: src/http/worker-check.ts); without
   * it the route answers 503.
   */
  checkOdoo?: (source: string) => Promise<CheckSection>;
  /** Extra readiness probes (Redis, Odoo, Tryton) added by the composition root. */
  readinessChecks?: readonly ReadinessCheck[];
  metricSources?: readonly MetricSource[];
  /** Where the rate limiter counts, so limits hold across API replicas; in memory without it. */
  rateLimitRedis?: QueueRedis;
  /** Where the fleet's call budget is (its pause, for the sync state); none: not shown. */
  shared?: SharedState;
  isShuttingDown?: () => boolean;
  version?: string;
  /** The families served; loaded from the configuration and the database when not given. */
  families?: Families;
  /** How the change feed's waiting requests hear of commits; postgres.js's LISTEN by default. */
  feedListen?: FeedListen;
}

/** The app as routes see it: zod schemas drive validation, serialization, types and OpenAPI. */
export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:=+-]{1,64}$/;

function requestId(request: IncomingMessage): string {
  const sent = request.headers['x-request-id'];
  return typeof sent === 'string' && CLIENT_REQUEST_ID.test(sent) ? sent : randomUUID();
}

/** The tokens Odoo posts with: ODOO_WEBHOOK_TOKENS for the default source, each source's own. */
function webhookTokensOf(config: Config): WebhookToken[] {
  return [
    ...config.webhooks.tokenSha256.map((sha256) => ({ source: DEFAULT_SOURCE, sha256 })),
    ...servedSources(config).flatMap((source) =>
      source.webhookTokenSha256.map((sha256) => ({ source: source.name, sha256 })),
    ),
  ];
}

/** The other sources this API serves: those SYNC_SOURCES names (docs/sources.md). */
const servedSources = (config: Config): SourceConfig[] =>
  copiedSources(config.sources, config.sync.sources).others;

export async function buildApp(deps: AppDeps): Promise<App> {
  const { config } = deps;
  // Typed as Fastify's logger so the instance type stays the plain App type routes expect.
  const loggerInstance: FastifyBaseLogger = deps.logger;
  const { trustProxy } = config.http;
  // Odoo's webhooks with a valid token get a bucket of their own, one per source: Odoo posts one
  // per change, and one source's token (or its Odoo's mass edit) never uses another's.
  const webhookTokens = webhookTokensOf(config);
  const webhookToken = createWebhookTokenMatcher(webhookTokens);
  // The source of a request the router took to the webhook route, by the token it decoded: a
  // token spelled with escapes is the same token (routed-path.ts).
  const webhookSourceOf = (request: FastifyRequest) =>
    request.routeOptions.url === ODOO_WEBHOOK_ROUTE
      ? webhookToken((request.params as { token?: string }).token ?? '')
      : undefined;
  // The same before routing, from the URL as the router will read it.
  const isOdooWebhookUrl = (url: string) => {
    const token = webhookTokenOf(url);
    return token !== undefined && webhookToken(token) !== undefined;
  };
  const matchKey = createKeyMatcher(config.apiKeys);
  const earlyRefusal = createEarlyRefusal({
    trustsProxy: trustProxy !== false,
    callerOf: (request) => {
      const key = requestKey(request);
      return key ? matchKey(key) : undefined;
    },
    exempt: (url) => HEALTH_ROUTE_PATHS.has(routedPath(url) ?? '') || isOdooWebhookUrl(url),
  });
  const app = Fastify({
    loggerInstance,
    // An anonymous client over its rate limit is answered here, before routing (early-refusal.ts).
    serverFactory: (handler) =>
      createServer((request, response) => {
        if (!earlyRefusal.refuse(request, response)) handler(request, response);
      }),
    bodyLimit: config.http.bodyLimitBytes,
    // The client's x-request-id goes into every log line of its request and into 5xx bodies:
    // kept only when it is a short, plain id (a proxy's trace id), else one of ours.
    requestIdHeader: false,
    genReqId: requestId,
    trustProxy:
      typeof trustProxy === 'number'
        ? (_address: string, hop: number) => hop < trustProxy
        : typeof trustProxy === 'boolean'
          ? trustProxy
          : [...trustProxy],
    routerOptions: {
      maxParamLength: 200,
      // Answered by the router itself, before any hook: the same JSON error shape as the rest.
      onMaxParamLength: (_path, _request, response) => {
        response.statusCode = 414;
        response.setHeader('content-type', 'application/json; charset=utf-8');
        response.end(
          JSON.stringify({
            error: 'URI_TOO_LONG',
            message: 'a path segment is over 200 characters',
          }),
        );
      },
    },
    // One line per request, written below with the calling key's name.
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(errorHandler);

  // The two HTML pages (docs, bull-board) load inline scripts: no CSP; every other header stays.
  await app.register(helmet, { contentSecurityPolicy: false });
  if (config.http.corsOrigins.length > 0)
    await app.register(cors, { origin: [...config.http.corsOrigins] });
  await app.register(apiKeyAuth, {
    keys: config.apiKeys,
    maxInFlightPerKey: config.http.maxInFlightPerKey,
  });
  await app.register(archivedAccess, { readersSeeArchived: config.http.readersSeeArchived });
  app.addHook('onResponse', (request, reply, done) => {
    // Skipped whole when info is off: building the line (the caller, the address) costs per request.
    if (deps.logger.isLevelEnabled('info'))
      request.log.info(
        {
          method: request.method,
          // Masked (the webhook token) and bounded by the logger's url serializer.
          url: request.url,
          statusCode: reply.statusCode,
          responseTimeMs: Math.round(reply.elapsedTime * 10) / 10,
          caller: request.caller?.name ?? app.callerOf(request)?.name ?? null,
          ip: request.ip,
        },
        'request completed',
      );
    done();
  });
  await app.register(rateLimit, {
    global: false,
    redis: deps.rateLimitRedis,
    nameSpace: `${config.redis.queuePrefix}:rate-limit:`,
    // Redis away: serve rather than refuse everyone (BC reads must stay up).
    skipOnError: true,
    errorResponseBuilder: (request, context) => {
      // An anonymous client: its next requests are refused before routing until the window ends.
      if (webhookSourceOf(request) === undefined && !app.callerOf(request))
        earlyRefusal.note(request.raw, Date.now() + context.ttl);
      return new HttpError(
        context.statusCode,
        'RATE_LIMITED',
        `rate limit exceeded, retry in ${context.after}`,
      );
    },
  });
  // A hook of the root, so it runs before each route's own key check and for unknown routes:
  // refused keys and probing count too. A known key has its own bucket; anything else counts
  // against the client's address (an IPv6 client's /64).
  app.addHook(
    'onRequest',
    app.rateLimit({
      keyGenerator: (request) => {
        const source = webhookSourceOf(request);
        if (source !== undefined) return `hook:odoo:${source}`;
        const caller = app.callerOf(request);
        return caller ? `key:${caller.name}` : `ip:${rateLimitAddress(request.ip)}`;
      },
      max: (_request, key) =>
        key.startsWith('hook:')
          ? config.webhooks.rateLimitPerMinute
          : key.startsWith('key:')
            ? config.http.rateLimitPerMinute
            : config.http.rateLimitAnonymousPerMinute,
      timeWindow: 60_000,
      // By the route matched, never the raw URL: `/health/../x` and `/health/anything` are
      // probes of unknown paths like any other, and count.
      allowList: (request) => HEALTH_ROUTE_PATHS.has(request.routeOptions.url ?? ''),
    }),
  );
  await app.register(docsPlugin, {
    version: deps.version ?? '0.0.0',
    access: config.http.docs,
  });
  if (config.http.docs === 'public' && config.apiKeys.some((entry) => entry.sources))
    deps.logger.warn(
      "API_DOCS=public serves the API document, every source's routes and models, to anyone, keys limited to sources included: set API_DOCS=protected (docs/sources.md)",
    );
  // What the API only reads; the primary when no replica is given.
  const reads = deps.replica ?? deps.db;
  const metrics = createMetrics({
    db: deps.db.db,
    queues: deps.queues,
    sources: [
      ...(deps.metricSources ?? []),
      earlyRefusal.metrics,
      ...(deps.replica?.sql ? [replicaMetrics(deps.replica.sql)] : []),
    ],
  });
  await app.register(metricsPlugin, { metrics });

  // The default source's families, and those of the other sources SYNC_SOURCES names
  // (docs/sources.md): each served under /api/sources/{source}/.
  const families =
    deps.families ??
    (await loadFamilies(deps.db.db, config.sync.families, deps.logger, {
      // The default source where ODOO_* name it, or where no file names any (an API of one Odoo
      // needs none of its settings: it calls no Odoo).
      withDefault: config.sync.sources.includes(DEFAULT_SOURCE) || config.sources.length === 0,
      others: servedSources(config),
    }));
  const syncControl = createSyncControl(deps.db.db, families, deps.queues, {
    reconcileCooldownSeconds: config.http.reconcileCooldownSeconds,
  });
  await app.register(healthRoutes, {
    checks: [
      { name: 'postgres', check: () => deps.db.ping() },
      ...(deps.replica ? [{ name: 'postgres-replica', check: () => reads.ping() }] : []),
      ...(deps.readinessChecks ?? []),
    ],
    isShuttingDown: deps.isShuttingDown ?? (() => false),
    // A pool that lost a query with its connection serves nothing more: its orchestrator restarts
    // the API (src/db/query-watch.ts).
    deadReason: () => deps.db.stuckQuery?.() ?? deps.replica?.stuckQuery?.(),
    // Why a part is down names the deployment's hosts and every source's Odoo: operators of
    // every source only.
    showsDetails: (request) => {
      const caller = app.callerOf(request);
      return readsDeployment(caller) && (caller!.role === 'operator' || caller!.role === 'admin');
    },
  });
  await app.register(recordsPlugin, {
    db: reads.db,
    shapedDb: reads.shapedDb ?? reads.db,
    pageMaxBytes: config.http.pageMaxBytes,
  });
  await app.register(bcRoutes, { syncControl });
  await app.register(modelRoutes, { families, syncControl });
  const { odooLink } = deps.config;
  const { shared } = deps;
  await app.register(syncRoutes, {
    syncControl,
    odooLink: () => readLinkStatus(deps.db.db, odooLink),
    // Unknown (null) while its store does not answer: the state is still answered.
    callPause: () =>
      odooLink && shared
        ? readCallPause(shared, odooLink).catch(() => null)
        : Promise.resolve(null),
  });
  const trytonConfig = config.tryton;
  await app.register(checkRoutes, {
    // The default source is checked whenever the API names its Odoo (ODOO_URL…).
    sources: [
      ...(odooLink ? [DEFAULT_SOURCE] : []),
      ...config.sources.filter((one) => one.name !== DEFAULT_SOURCE).map((one) => one.name),
    ],
    ...(deps.checkOdoo ? { checkOdoo: deps.checkOdoo } : {}),
    ...(trytonConfig
      ? {
          // Shared as the Odoo checks are (check/share-checks.ts): no caller makes more logins.
          checkTryton: shareCheck(() =>
            checkTrytonSection({ tryton: trytonConfig, logger: deps.logger }),
          ),
        }
      : {}),
  });
  await app.register(changesRoutes, {
    db: deps.db.db,
    readDb: reads.db,
    families,
    signal: createFeedSignal(deps.feedListen ?? feedListenOf(deps), deps.logger),
    ...(deps.queues ? { queues: deps.queues } : {}),
    secrets: createSubscriptionSecrets(config.feed.secretKey),
  });
  const trytonPolicy = createGatewayPolicy({
    models: config.tryton?.models ?? [],
    methodPatterns: config.tryton?.allowedMethods ?? [],
    maxSearchLimit: config.tryton?.maxSearchLimit ?? 0,
  });
  for (const warning of trytonPolicy.warnings) deps.logger.warn(warning);
  await app.register(trytonRoutes, {
    client: deps.tryton,
    policy: trytonPolicy,
    cacheTtlSeconds: config.tryton?.cacheTtlSeconds ?? 0,
    // One Tryton for the whole deployment: no source's key reaches it.
    onRequest: app.authorize('operator', DEPLOYMENT),
  });
  await app.register(odooWebhookRoutes, {
    db: deps.db.db,
    families,
    tokens: webhookTokens,
    debounceMs: config.webhooks.debounceMs,
    inboxMaxEvents: config.webhooks.inboxMaxEvents,
    queues: deps.queues,
    registry: metrics.registry,
  });
  if (deps.queues) await app.register(bullBoardRoutes, { queues: deps.queues.all });
  return app;
}

/**
 * How the feed's readers hear of commits: the primary's notifications, passed on once the
 * replica they read from has replayed them.
 */
function feedListenOf({ db, replica, logger }: AppDeps): FeedListen | undefined {
  if (!db.sql) return undefined;
  return replica?.sql ? replicaFeedListen(db.sql, replica.sql, logger) : postgresFeedListen(db.sql);
}
