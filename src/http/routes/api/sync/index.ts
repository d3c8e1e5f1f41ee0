/**
 * Sync control, per record family: state, run log and failures (reader); run and reconcile now
 * (operator); pause, resume and full resync (admin). Every route takes `?family=` (a family's key,
 * `acme.bcs` for a source's) and `?source=` (every family of a source, or the one `family` names
 * in it); without them, it acts on (or lists) every family copied — of the sources the key reads.
 */
import type { onRequestHookHandler } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DEFAULT_SOURCE, SOURCE_NAME } from '../../../../sources/family-key.js';
import { FAMILY_KEY, FAMILY_KEY_PATTERN } from '../../../../sync/select-families.js';
import type { CallPause } from '../../../../odoo-budget/call-budget.js';
import type { LinkStatus } from '../../../../odoo-link/link-status.js';
import { readsSource } from '../../../plugins/api-key-auth.js';
import { type Caller } from '../../../../fastify/key-matcher.js';
import type { FamilyScope, QueuedJobs, SyncControl } from '../../../sync-control.js';
import { odooLinkSchema, toOdooLinkBody } from '../../../schemas/odoo-link.js';
import { authErrors, errorBody, pageLimit, positiveId } from '../../../schemas/common.js';
import {
  heldWebhookSchema,
  syncFailureSchema,
  syncRunSchema,
  syncStatesSchema,
  toFailureBody,
  toHeldWebhookBody,
  toRunBody,
  toStateBody,
} from '../../../schemas/sync.js';

const scope = {
  family: z
    .string()
    .regex(FAMILY_KEY, 'a record family, e.g. bcs or acme.bcs')
    .optional()
    .describe(
      "one record family by its key (bcs, partners…; acme.bcs for source acme's), or by its name with source=; every family copied without it",
    ),
  source: z
    .string()
    .regex(SOURCE_NAME, 'a source name, e.g. acme')
    .optional()
    .describe(
      'every family of one source (default: the Odoo of ODOO_*), or with family= its family of that name',
    ),
};

/** A failures page's cursor: `<family key>/<odoo id>` of the last failure of the page before. */
const failureCursor = z
  .string()
  .regex(new RegExp(`^${FAMILY_KEY_PATTERN}/\\d{1,10}$`), 'nextAfter of the page before')
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
  const scopeOnly = z.object(scope).strict();
  /** What a request acts on: the families its query names, of the sources its key reads. */
  const scopeOf = (
    query: { family?: string | undefined; source?: string | undefined },
    requester: Caller | undefined,
  ): FamilyScope => ({ family: query.family, source: query.source, caller: requester });
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
        summary:
          "Each family's watermarks, lease and last runs, and the default source's Odoo link",
        querystring: scopeOnly,
        response: {
          200: syncStatesSchema.extend({
            odoo: odooLinkSchema
              .nullable()
              .describe(
                "the default source's Odoo; null when this process has none, or the key does not read the default source",
              ),
            odooCallPause: z
              .object({
                status: z.number().int().describe('what Odoo answered: 429 or 503'),
                remainingMs: z.number().int(),
              })
              .nullable()
              .describe(
                "every process of the fleet pauses its calls to the default source's Odoo (Odoo asked it to slow down); null when none is on, or the key does not read the default source",
              ),
          }),
          404: errorBody,
          ...authErrors,
        },
      },
    },
    async (request) => {
      const readsDefault = readsSource(request.caller, DEFAULT_SOURCE);
      const [states, link, pause] = await Promise.all([
        syncControl.state(scopeOf(request.query, request.caller)),
        readsDefault ? odooLink() : null,
        readsDefault ? callPause() : null,
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
            ...scope,
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
        ...scopeOf(request.query, request.caller),
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
        summary: 'Root records whose last attempt failed, by family and id',
        querystring: z
          .object({
            ...scope,
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
        ...scopeOf(request.query, request.caller),
        limit: request.query.limit + 1,
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

  app.get(
    '/api/sync/webhooks',
    {
      onRequest: reader,
      schema: {
        tags: ['sync'],
        summary: "Odoo's webhook events the inbox holds: those no read has shown yet, oldest first",
        querystring: z
          .object({
            ...scope,
            limit: pageLimit(50, 500),
            // The inbox's ids are a bigserial: past 2^31 in a long-lived deployment.
            after: z.coerce
              .number()
              .int()
              .positive()
              .max(Number.MAX_SAFE_INTEGER)
              .optional()
              .describe('cursor: nextAfter of the page before'),
          })
          .strict(),
        response: {
          200: z.object({
            items: z.array(heldWebhookSchema),
            total: z.number().int().describe('events held in all'),
            nextAfter: z.number().int().nullable(),
          }),
          404: errorBody,
          ...authErrors,
        },
      },
    },
    async (request) => {
      const { rows, total } = await syncControl.webhooks({
        ...scopeOf(request.query, request.caller),
        limit: request.query.limit + 1,
        afterId: request.query.after,
      });
      const page = rows.slice(0, request.query.limit);
      return {
        items: page.map(toHeldWebhookBody),
        total,
        nextAfter: rows.length > request.query.limit ? (page.at(-1)?.id ?? null) : null,
      };
    },
  );

  /** A route that queues jobs: 202 with them, 409 when one is refused for now. */
  const queueing = <Q extends z.ZodObject>(
    path: string,
    onRequest: onRequestHookHandler,
    schema: { summary: string; querystring: Q },
    queue: (query: z.output<Q>, trigger: string, scoped: FamilyScope) => Promise<QueuedJobs>,
  ) =>
    app.post(
      path,
      {
        onRequest,
        schema: { tags: ['sync'], ...schema, response: { ...accepted, 409: errorBody } },
      },
      async (request, reply) => {
        const query = request.query as z.output<Q>;
        return reply
          .code(202)
          .send(await queue(query, caller(request), scopeOf(query, request.caller)));
      },
    );

  queueing(
    '/api/sync/run',
    operator,
    { summary: 'Queue an incremental run now (409 while one runs)', querystring: scopeOnly },
    (_query, trigger, scoped) => syncControl.requestRun(trigger, scoped),
  );

  queueing(
    '/api/sync/full-resync',
    admin,
    {
      summary:
        'Queue a full resync: every record read again, the copy keeps its data (409 while a run runs)',
      querystring: scopeOnly,
    },
    (_query, trigger, scoped) => syncControl.requestRun(trigger, { ...scoped, full: true }),
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
          querystring: scopeOnly,
          response: { 200: syncStatesSchema, 404: errorBody, ...authErrors },
        },
      },
      async (request) => ({
        families: (
          await syncControl.setPaused(by(request), scopeOf(request.query, request.caller))
        ).map(toStateBody),
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
          ...scope,
          all: z
            .enum(['true', 'false'])
            .transform((value) => value === 'true')
            .default(false)
            .describe('every record, not the next slice of the cycle'),
        })
        .strict(),
    },
    ({ all }, trigger, scoped) => syncControl.requestVerify(trigger, { ...scoped, all }),
  );

  queueing(
    '/api/sync/reconcile',
    operator,
    {
      summary:
        'Queue a reconcile now (409 while one is queued or running, or within API_RECONCILE_COOLDOWN_SECONDS after one ran)',
      querystring: scopeOnly,
    },
    (_query, trigger, scoped) => syncControl.requestReconcile(trigger, scoped),
  );
  return Promise.resolve();
};
