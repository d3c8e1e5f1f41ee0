/**
 * Times every request into the HTTP histogram and serves `/metrics` (an operator key of every
 * source: every source's series are in it, docs/sources.md).
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { AppMetrics } from '../metrics.js';
import { DEPLOYMENT } from './api-key-auth.js';

export const metricsPlugin = fp(
  (app: FastifyInstance, { metrics }: { metrics: AppMetrics }) => {
    app.addHook('onResponse', (request, reply, done) => {
      // The route pattern, never the raw URL: ids in paths would explode the label set.
      const route = request.routeOptions.url ?? 'unmatched';
      metrics.httpDuration.observe(
        { method: request.method, route, status: String(reply.statusCode) },
        reply.elapsedTime / 1_000,
      );
      done();
    });
    app.get(
      '/metrics',
      {
        onRequest: app.authorize('operator', DEPLOYMENT),
        schema: { tags: ['health'], summary: 'Prometheus metrics', hide: false },
      },
      async (_request, reply) => {
        const body = await metrics.registry.metrics();
        return reply.type(metrics.registry.contentType).send(body);
      },
    );
  },
  { name: 'metrics', dependencies: ['api-key-auth'] },
);
