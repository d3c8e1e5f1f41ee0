/** Sync control: state, run log and failures (reader); run and reconcile now (operator). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { SyncControl } from '../../../sync-control.js';
import { authErrors, errorBody, pageLimit } from '../../../schemas/common.js';
import {
  syncFailureSchema,
  syncRunSchema,
  syncStateSchema,
  toFailureBody,
  toRunBody,
  toStateBody,
} from '../../../schemas/sync.js';

export const syncRoutes: FastifyPluginAsyncZod<{ syncControl: SyncControl }> = (
  app,
  { syncControl },
) => {
  const reader = app.authorize('reader');
  const operator = app.authorize('operator');
  const accepted = { 202: z.object({ jobId: z.string() }), 503: errorBody, ...authErrors };

  app.get(
    '/api/sync/state',
    {
      onRequest: reader,
      schema: {
        tags: ['sync'],
        summary: 'Watermark, lease and last runs',
        response: { 200: syncStateSchema, ...authErrors },
      },
    },
    async () => toStateBody(await syncControl.state()),
  );

  app.get(
    '/api/sync/runs',
    {
      onRequest: reader,
      schema: {
        tags: ['sync'],
        summary: 'The run log, newest first',
        querystring: z
          .object({
            limit: pageLimit(20, 200),
            before: z.coerce.number().int().positive().optional(),
          })
          .strict(),
        response: {
          200: z.object({ items: z.array(syncRunSchema), nextBefore: z.number().int().nullable() }),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const rows = await syncControl.runs({
        limit: request.query.limit + 1,
        beforeId: request.query.before,
      });
      const page = rows.slice(0, request.query.limit);
      return {
        items: page.map(toRunBody),
        nextBefore: rows.length > request.query.limit ? (page[page.length - 1]?.id ?? null) : null,
      };
    },
  );

  app.get(
    '/api/sync/failures',
    {
      onRequest: reader,
      schema: {
        tags: ['sync'],
        summary: 'BCs whose last attempt failed',
        response: { 200: z.object({ items: z.array(syncFailureSchema) }), ...authErrors },
      },
    },
    async () => ({ items: (await syncControl.failures()).map(toFailureBody) }),
  );

  app.post(
    '/api/sync/run',
    {
      onRequest: operator,
      schema: {
        tags: ['sync'],
        summary: 'Queue an incremental run now (409 while one runs)',
        response: { ...accepted, 409: errorBody },
      },
    },
    async (request, reply) =>
      reply
        .code(202)
        .send(await syncControl.requestRun(`api:${request.caller?.name ?? 'unknown'}`)),
  );

  app.post(
    '/api/sync/reconcile',
    {
      onRequest: operator,
      schema: { tags: ['sync'], summary: 'Queue a reconcile now', response: accepted },
    },
    async (request, reply) =>
      reply
        .code(202)
        .send(await syncControl.requestReconcile(`api:${request.caller?.name ?? 'unknown'}`)),
  );
  return Promise.resolve();
};
