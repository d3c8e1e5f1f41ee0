/**
 * Sync control, per record family: state, run log and failures (reader); run and reconcile now
 * (operator); pause, resume and full resync (admin). Every route takes `?family=`; without it, it
 * acts on (or lists) every family copied.
 */
import type { onRequestHookHandler } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { FAMILY_NAME } from '../../../../families/family.js';
import type { CallPause } from '../../../../odoo-budget/call-budget.js';
import type { LinkStatus } from '../../../../odoo-link/link-status.js';
import type { QueuedJobs, SyncControl } from '../../../sync-control.js';
import { odooLinkSchema, toOdooLinkBody } from '../../../schemas/odoo-link.js';
import { authErrors, errorBody, pageLimit, positiveId } from '../../../schemas/common.js';
import {
  syncFailureSchema,
  syncRunSchema,
  syncStatesSchema,
  toFailureBody,
  toRunBody,
  toStateBody,
} from '../../../schemas/sync.js';

const familyName = z
  .string()
  .regex(FAMILY_NAME, 'a record family name, e.g. bcs')
  .optional()
  .describe('one record family (bcs, partners…); every family copied without it');

/** A failures page's cursor: `<family>/<odoo id>` of the last failure of the page before. */
const failureCursor = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,47}\/\d{1,10}$/, 'nextAfter of the page before')
  .transform((text) => {
    const [family = '', id = ''] = text.split('/');
    return { family, odooId: Number(id) };
  })
  .refine((cursor) => cursor.odooId <= 2_147_483_647, 'nextAfter of the page before');

export const syncRoutes: FastifyPluginAsyncZod<{
  syncControl: SyncControl;
  /** The Odoo link's status (transport, API key); null when this process has no Odoo settings. */
  odooLink: () => Promise<LinkStatus | null>;
  /** A fleet-wide pause of the Odoo calls now on (call budget); null when none, or unknown. */
  callPause: () => Promise<CallPause | null>;
}> = (app, { syncControl, odooLink, callPause }) => {
  const reader = app.authorize('reader');
  const operator = app.authorize('operator');
  const admin = app.authorize('admin');
  const caller = (request: { caller?: { name: string } }) =>
    `api:${request.caller?.name ?? 'unknown'}`;
  const familyOnly = z.object({ family: familyName }).strict();
  const queued = z.object({
    jobs: z.array(z.object({ family: z.string(), jobId: z.string() })),
  });
  const accepted = { 202: queued, 404: errorBody, 503: errorBody, ...authErrors };

  app.get(
    '/api/sync/state',
    {
      onRequest: reader,
      schema: {
        tags: ['sync'],
        summary: "Each family's watermarks, lease and last runs, and the Odoo link",
        querystring: familyOnly,
        response: {
          200: syncStatesSchema.extend({
            odoo: odooLinkSchema.nullable(),
            odooCallPause: z
              .object({
                status: z.number().int().describe('what Odoo answered: 429 or 503'),
                remainingMs: z.number().int(),
              })
              .nullable()
              .describe(
                'every process of the fleet pauses its Odoo calls (Odoo asked it to slow down); null when none is on',
              ),
          }),
          404: errorBody,
          ...authErrors,
        },
      },
    },
    async (request) => {
      const [states, link, pause] = await Promise.all([
        syncControl.state(request.query.family),
        odooLink(),
        callPause(),
      ]);
      return {
        families: states.map(toStateBody),
        odoo: link && toOdooLinkBody(link),
        odooCallPause: pause,
      };
    },
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
            family: familyName,
            limit: pageLimit(20, 200),
            before: positiveId().optional().describe('cursor: the last run id of the page before'),
          })
          .strict(),
        response: {
          200: z.object({ items: z.array(syncRunSchema), nextBefore: z.number().int().nullable() }),
          404: errorBody,
          ...authErrors,
        },
      },
    },
    async (request) => {
      const rows = await syncControl.runs({
        limit: request.query.limit + 1,
        beforeId: request.query.before,
        family: request.query.family,
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
        summary: 'Root records whose last attempt failed, by family and id',
        querystring: z
          .object({
            family: familyName,
            limit: pageLimit(50, 500),
            after: failureCursor.optional().describe('cursor: nextAfter of the page before'),
          })
          .strict(),
        response: {
          200: z.object({
            items: z.array(syncFailureSchema),
            total: z.number().int().describe('pending failures in all'),
            nextAfter: z.string().nullable(),
          }),
          404: errorBody,
          ...authErrors,
        },
      },
    },
    async (request) => {
      const { rows, total } = await syncControl.failures({
        limit: request.query.limit + 1,
        family: request.query.family,
        after: request.query.after,
      });
      const page = rows.slice(0, request.query.limit);
      const last = page[page.length - 1];
      return {
        items: page.map(toFailureBody),
        total,
        nextAfter:
          rows.length > request.query.limit && last ? `${last.family}/${last.odooId}` : null,
      };
    },
  );

  /** A route that queues jobs: 202 with them, 409 when one is refused for now. */
  const queueing = <Q extends z.ZodObject>(
    path: string,
    onRequest: onRequestHookHandler,
    schema: { summary: string; querystring: Q },
    queue: (query: z.output<Q>, trigger: string) => Promise<QueuedJobs>,
  ) =>
    app.post(
      path,
      {
        onRequest,
        schema: { tags: ['sync'], ...schema, response: { ...accepted, 409: errorBody } },
      },
      async (request, reply) =>
        reply.code(202).send(await queue(request.query as z.output<Q>, caller(request))),
    );

  queueing(
    '/api/sync/run',
    operator,
    { summary: 'Queue an incremental run now (409 while one runs)', querystring: familyOnly },
    ({ family }, trigger) => syncControl.requestRun(trigger, { family }),
  );

  queueing(
    '/api/sync/full-resync',
    admin,
    {
      summary:
        'Queue a full resync: every record read again, the copy keeps its data (409 while a run runs)',
      querystring: familyOnly,
    },
    ({ family }, trigger) => syncControl.requestRun(trigger, { full: true, family }),
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
          querystring: familyOnly,
          response: { 200: syncStatesSchema, 404: errorBody, ...authErrors },
        },
      },
      async (request) => ({
        families: (await syncControl.setPaused(by(request), request.query.family)).map(toStateBody),
      }),
    );
  }

  queueing(
    '/api/sync/verify',
    admin,
    {
      summary:
        'Queue a verify: the next slice of the copy (or every record, all=true) compared with Odoo by content, what differs written again (409 while one is queued or running, or within API_RECONCILE_COOLDOWN_SECONDS after one ran)',
      querystring: z
        .object({
          family: familyName,
          all: z
            .enum(['true', 'false'])
            .transform((value) => value === 'true')
            .default(false)
            .describe('every record, not the next slice of the cycle'),
        })
        .strict(),
    },
    ({ all, family }, trigger) => syncControl.requestVerify(trigger, { all, family }),
  );

  queueing(
    '/api/sync/reconcile',
    operator,
    {
      summary:
        'Queue a reconcile now (409 while one is queued or running, or within API_RECONCILE_COOLDOWN_SECONDS after one ran)',
      querystring: familyOnly,
    },
    ({ family }, trigger) => syncControl.requestReconcile(trigger, family),
  );
  return Promise.resolve();
};
