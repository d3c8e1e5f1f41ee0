/**
 * Builds the Fastify app from ready dependencies and never listens: `src/server.ts` owns the
 * socket and the process, tests use `app.inject`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type RawServerDefault,
} from 'fastify';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Config } from '../config/config.js';
import type { DbHandle } from '../db/create-db.js';
import type { Logger } from '../lib/logger.js';
import type { TrytonClient } from '../clients/tryton/tryton-client.js';
import type { Queues } from '../queues/queues.js';
import { createMetrics, type MetricSource } from './metrics.js';
import { apiKeyAuth } from './plugins/api-key-auth.js';
import { docsPlugin } from './plugins/docs.js';
import { errorHandler } from './plugins/error-handler.js';
import { metricsPlugin } from './plugins/metrics.js';
import { bullBoardRoutes } from './routes/admin/bull-board.js';
import { bcRoutes } from './routes/api/bcs/index.js';
import { syncRoutes } from './routes/api/sync/index.js';
import { createGatewayPolicy } from './routes/tryton/gateway-policy.js';
import { trytonRoutes } from './routes/tryton/index.js';
import { healthRoutes, type ReadinessCheck } from './routes/health/index.js';
import { createSyncControl } from './sync-control.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  db: DbHandle;
  /** The job queues (producer side); without them sync control answers 503 and bull-board is absent. */
  queues?: Queues;
  /** The shared Tryton client (built with its cache); without it the gateway answers 503. */
  tryton?: TrytonClient;
  /** Extra readiness probes (Redis, Odoo, Tryton) added by the composition root. */
  readinessChecks?: readonly ReadinessCheck[];
  metricSources?: readonly MetricSource[];
  isShuttingDown?: () => boolean;
  version?: string;
}

/** The app as routes see it: zod schemas drive validation, serialization, types and OpenAPI. */
export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export async function buildApp(deps: AppDeps): Promise<App> {
  const { config } = deps;
  // Typed as Fastify's logger so the instance type stays the plain App type routes expect.
  const loggerInstance: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance,
    bodyLimit: config.http.bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    routerOptions: { maxParamLength: 200 },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(errorHandler);

  // The two HTML pages (docs, bull-board) load inline scripts: no CSP; every other header stays.
  await app.register(helmet, { contentSecurityPolicy: false });
  if (config.http.corsOrigins.length > 0)
    await app.register(cors, { origin: [...config.http.corsOrigins] });
  await app.register(rateLimit, {
    max: config.http.rateLimitPerMinute,
    timeWindow: 60_000,
    // Per key when one is sent (hashed: the limiter's store must not hold keys), else per address.
    keyGenerator: (request) => {
      const auth = request.headers.authorization;
      return auth ? createHash('sha256').update(auth).digest('base64url') : request.ip;
    },
    allowList: (request) => request.url.startsWith('/health/'),
  });
  await app.register(apiKeyAuth, { keys: config.apiKeys });
  await app.register(docsPlugin, { version: deps.version ?? '0.0.0' });
  await app.register(metricsPlugin, {
    metrics: createMetrics({ db: deps.db.db, queues: deps.queues, sources: deps.metricSources }),
  });

  const syncControl = createSyncControl(deps.db.db, deps.queues);
  await app.register(healthRoutes, {
    checks: [{ name: 'postgres', check: () => deps.db.ping() }, ...(deps.readinessChecks ?? [])],
    isShuttingDown: deps.isShuttingDown ?? (() => false),
  });
  await app.register(bcRoutes, { db: deps.db.db, syncControl });
  await app.register(syncRoutes, { syncControl });
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
    onRequest: app.authorize('operator'),
  });
  if (deps.queues) await app.register(bullBoardRoutes, { queues: deps.queues.all });
  return app;
}
