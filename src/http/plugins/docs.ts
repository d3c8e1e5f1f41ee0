/**
 * OpenAPI 3 from the routes' zod schemas, served as JSON at `/docs/json` and as a UI at `/docs`
 * — to anyone (`public`), to callers with a key of every source (`protected`: Bearer, or Basic
 * with the key as the password so a browser can open the page), or not at all (`off`). The
 * document describes every source's routes and models (their fields, Studio's included): it is the
 * deployment's, so a key limited to sources is refused it (docs/sources.md).
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { ErrorBody } from '../http-error.js';

export const docsPlugin = fp(
  async (
    app: FastifyInstance,
    options: { version: string; access: 'public' | 'protected' | 'off' },
  ) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'erp-bridge',
          version: options.version,
          description:
            'Purchase orders (BC) copied from Odoo, sync control, and the Tryton gateway. Every route but /health/* needs `Authorization: Bearer <API key>`.',
        },
        components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
        security: [{ apiKey: [] }],
        tags: [
          { name: 'bcs', description: 'Purchase orders copied from Odoo' },
          { name: 'sync', description: 'Sync control' },
          { name: 'tryton', description: 'Tryton gateway' },
          { name: 'health', description: 'Probes and metrics' },
          {
            name: 'hooks',
            description: "Odoo's webhooks (the token in the path is the credential)",
          },
        ],
      },
      transform: jsonSchemaTransform,
      transformObject: jsonSchemaTransformObject,
    });
    if (options.access === 'off') return;
    const protect = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      const caller = app.callerOf(request);
      if (caller?.sources !== undefined) {
        const body: ErrorBody = {
          error: 'FORBIDDEN',
          message: `the API docs describe every source's routes: the key "${caller.name}" reads the sources ${caller.sources.join(', ')} only`,
        };
        void reply.code(403).send(body);
        return;
      }
      if (caller) return done();
      void reply
        .code(401)
        .headers({ 'www-authenticate': 'Basic realm="erp-bridge docs", charset="UTF-8"' })
        .send({
          error: 'UNAUTHORIZED',
          message: 'the API docs need an API key (Bearer, or Basic)',
        });
    };
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      ...(options.access === 'protected' ? { uiHooks: { onRequest: protect } } : {}),
    });
  },
  { name: 'docs' },
);
