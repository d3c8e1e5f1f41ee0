/**
 * The worker's small HTTP port (WORKER_HTTP_PORT): `/health/live`, `/health/ready` and
 * `/metrics`, for the orchestrator's probes and Prometheus. The probes need no key: they serve
 * no data. The metrics name families, subscriptions and what they cost, and reading them costs
 * the database a little: an operator key of API_KEYS of every source (never one limited to
 * sources: they are every source's) reads them here, or, with
 * WORKER_METRICS_HOST, a listener of their own on an address only Prometheus reaches serves them
 * with no key (`buildWorkerMetricsHttp`), and this port not at all. It never listens here;
 * `workers/main.ts` does.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Registry } from 'prom-client';
import type { ApiKeyEntry } from '../src/config/api-keys.js';
import { createKeyMatcher, requestKey } from '../src/fastify/key-matcher.js';
import { healthRoutes, type ReadinessCheck } from '../src/fastify/health-routes.js';
import type { Logger } from '../src/lib/logger.js';

export interface WorkerHttpDeps {
  logger: Logger;
  checks: readonly ReadinessCheck[];
  registry: Registry;
  isShuttingDown: () => boolean;
  /** Why the worker is not alive (workers/liveness.ts); undefined while it is. */
  deadReason: () => string | undefined;
  /** Who reads /metrics here: an operator key of these, or nobody (a listener of their own). */
  metrics: { readonly keys: readonly ApiKeyEntry[] } | 'elsewhere';
}

function quietFastify(logger: Logger): FastifyInstance {
  const loggerInstance: FastifyBaseLogger = logger;
  // Probes and scrapes every few seconds would drown the worker's own log lines.
  return Fastify({
    loggerInstance,
    logController: new LogController({ disableRequestLogging: true }),
  });
}

/** The metrics on a listener of their own (WORKER_METRICS_HOST): no key, nothing else. */
export function buildWorkerMetricsHttp(registry: Registry, logger: Logger): FastifyInstance {
  const app = quietFastify(logger);
  app.get('/metrics', async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
  return app;
}

export async function buildWorkerHttp(deps: WorkerHttpDeps): Promise<FastifyInstance> {
  const app = quietFastify(deps.logger);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(healthRoutes, {
    checks: deps.checks,
    isShuttingDown: deps.isShuttingDown,
    deadReason: deps.deadReason,
    // A port for the cluster network only, serving no data: its readers are the operators.
    showsDetails: () => true,
  });
  const { metrics } = deps;
  if (metrics !== 'elsewhere') {
    const identify = createKeyMatcher(metrics.keys);
    app.get('/metrics', async (request, reply) => {
      const key = requestKey(request);
      const caller = key === undefined ? undefined : identify(key);
      if (caller?.sources !== undefined)
        return reply.code(403).send({
          error: 'FORBIDDEN',
          message: `the worker's metrics are the deployment's, every source's: the key "${caller.name}" reads the sources ${caller.sources.join(', ')} only`,
        });
      if (caller?.role !== 'operator' && caller?.role !== 'admin')
        return reply
          .code(caller ? 403 : 401)
          .header('www-authenticate', 'Bearer')
          .send({
            error: caller ? 'FORBIDDEN' : 'UNAUTHORIZED',
            message:
              metrics.keys.length === 0
                ? "the worker's metrics need an operator key of API_KEYS, or an address of their own (WORKER_METRICS_HOST)"
                : "the worker's metrics need an operator key of API_KEYS: Authorization: Bearer <key>",
          });
      return reply.type(deps.registry.contentType).send(await deps.registry.metrics());
    });
  }
  return app;
}
