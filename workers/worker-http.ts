/**
 * The worker's small HTTP port (WORKER_HTTP_PORT): `/health/live`, `/health/ready` and
 * `/metrics`, for the orchestrator's probes and Prometheus. No API key: it serves no data, and
 * the port is meant for the cluster network only. It never listens here; `workers/main.ts` does.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Registry } from 'prom-client';
import { healthRoutes, type ReadinessCheck } from '../src/http/routes/health/index.js';
import type { Logger } from '../src/lib/logger.js';

export interface WorkerHttpDeps {
  logger: Logger;
  checks: readonly ReadinessCheck[];
  registry: Registry;
  isShuttingDown: () => boolean;
}

export async function buildWorkerHttp(deps: WorkerHttpDeps): Promise<FastifyInstance> {
  const loggerInstance: FastifyBaseLogger = deps.logger;
  // Probes every few seconds would drown the worker's own log lines.
  const app = Fastify({
    loggerInstance,
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(healthRoutes, {
    checks: deps.checks,
    isShuttingDown: deps.isShuttingDown,
    // A port for the cluster network only, serving no data: its readers are the operators.
    showsDetails: () => true,
  });
  app.get('/metrics', async (_request, reply) => {
    const body = await deps.registry.metrics();
    return reply.type(deps.registry.contentType).send(body);
  });
  return app;
}
