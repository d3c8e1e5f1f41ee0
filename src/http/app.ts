/**
 * Builds the Fastify app from ready dependencies and never listens: `src/server.ts` owns the
 * socket and the process, tests use `app.inject`.
 */
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type RawServerDefault,
} from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Config } from '../config/config.js';
import type { DbHandle } from '../db/create-db.js';
import type { Logger } from '../lib/logger.js';
import { errorHandler } from './plugins/error-handler.js';
import { healthRoutes, type ReadinessCheck } from './routes/health/index.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  db: DbHandle;
  /** Extra readiness probes (Redis, Odoo, Tryton) added by the composition root. */
  readinessChecks?: readonly ReadinessCheck[];
  isShuttingDown?: () => boolean;
}

/** The app as routes see it: zod schemas drive validation, serialization and types. */
export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export async function buildApp(deps: AppDeps): Promise<App> {
  // Typed as Fastify's logger so the instance type stays the plain App type routes expect.
  const loggerInstance: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance,
    bodyLimit: deps.config.http.bodyLimitBytes,
    disableRequestLogging: false,
    requestIdHeader: 'x-request-id',
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(errorHandler);

  await app.register(healthRoutes, {
    checks: [{ name: 'postgres', check: () => deps.db.ping() }, ...(deps.readinessChecks ?? [])],
    isShuttingDown: deps.isShuttingDown ?? (() => false),
  });
  return app;
}
