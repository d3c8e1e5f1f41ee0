/**
 * Sync control: state, run log and failures (reader); run and reconcile now (operator); pause,
 * resume and full resync (admin).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { SyncControl } from '../../../sync-control.js';
import { authErrors, errorBody, pageLimit, positiveId } from '../../../schemas/common.js';
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
  const admin = app.authorize('admin');
  const caller = (request: { caller?: { name: string } }) =>
    `api:${request.caller?.name ?? 'unknown'}`;
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
            before: positiveId().optional().describe('cursor: the last run id of the page before'),
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
        summary: 'BCs whose last attempt failed, by BC id',
        querystring: z
          .object({
            limit: pageLimit(50, 500),
            after: positiveId().optional().describe('cursor: the last BC id of the page before'),
          })
          .strict(),
        response: {
          200: z.object({
            items: z.array(syncFailureSchema),
            total: z.number().int().describe('pending failures in all'),
            nextAfter: z.number().int().nullable(),
          }),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const { rows, total } = await syncControl.failures({
        limit: request.query.limit + 1,
        afterOdooId: request.query.after,
      });
      const page = rows.slice(0, request.query.limit);
      return {
        items: page.map(toFailureBody),
        total,
        nextAfter:
          rows.length > request.query.limit ? (page[page.length - 1]?.odooId ?? null) : null,
      };
    },
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
    async (request, reply) => reply.code(202).send(await syncControl.requestRun(caller(request))),
  );

  app.post(
    '/api/sync/full-resync',
    {
      onRequest: admin,
      schema: {
        tags: ['sync'],
        summary:
          'Queue a full resync: every BC read again, the copy keeps its data (409 while a run runs)',
        response: { ...accepted, 409: errorBody },
      },
    },
    async (request, reply) =>
      reply.code(202).send(await syncControl.requestRun(caller(request), { full: true })),
  );

  for (const [action, by] of [
    ['pause', (request: { caller?: { name: string } }) => caller(request)],
    ['resume', () => null],
  ] as const) {
    app.post(
      `/api/sync/${action}`,
      {
        onRequest: admin,
        schema: {
          tags: ['sync'],
          summary:
            action === 'pause'
              ? 'Pause the schedule: scheduled runs and reconciles skip until resumed'
              : 'Resume the schedule',
          response: { 200: syncStateSchema, ...authErrors },
        },
      },
      async (request) => toStateBody(await syncControl.setPaused(by(request))),
    );
  }

  app.post(
    '/api/sync/reconcile',
    {
      onRequest: operator,
      schema: { tags: ['sync'], summary: 'Queue a reconcile now', response: accepted },
    },
    async (request, reply) =>
      reply.code(202).send(await syncControl.requestReconcile(caller(request))),
  );
  return Promise.resolve();
};
