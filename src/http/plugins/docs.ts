/** OpenAPI 3 from the routes' zod schemas, served as JSON at `/docs/json` and as a UI at `/docs`. */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

export const docsPlugin = fp(
  async (app: FastifyInstance, options: { version: string }) => {
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
        ],
      },
      transform: jsonSchemaTransform,
      transformObject: jsonSchemaTransformObject,
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  },
  { name: 'docs' },
);
