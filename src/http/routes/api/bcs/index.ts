/**
 * The BC routes (reader) and the per-BC resync (operator): the portal's contract, kept as it was,
 * mapped onto the read engine (`app.records`, src/http/records/): the list through the BC model's
 * list (list-bcs.ts), a BC with its first lines in Odoo's order in one round trip, the rest of its
 * lines a page at a time, its history.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { OPERATORS_ONLY } from '../../../plugins/archived-access.js';
import { bcsFamily } from '../../../../families/bcs/family.js';
import { bool } from '../../../records/api-columns.js';
import { HttpError } from '../../../http-error.js';
import { pageJson, pageSchema, withMembers } from '../../../records/json-text.js';
import { historyQuery, historySchema } from '../../../records/record-history.js';
import { bcLineSchema, bcSchema } from '../../../schemas/bc.js';
import {
  authErrors,
  bodyFields,
  errorBody,
  odooIdParams,
  pageLimit,
} from '../../../schemas/common.js';
import { sendJsonText } from '../../../send-json-text.js';
import type { SyncControl } from '../../../sync-control.js';
import { bcModelQuery, listQuery } from './list-bcs.js';
import { resyncRoute } from '../resync-route.js';
import { DEFAULT_SOURCE } from '../../../../sources/family-key.js';

export interface BcRoutesOptions {
  syncControl: SyncControl;
}

const bc = bcsFamily.root;
const [line] = bcsFamily.children as [(typeof bcsFamily.children)[number]];

/** Lines a BC detail carries; a BC with more gives the cursor to the rest. */
const DETAIL_LINES = 200;

/** A BC gone from Odoo (archived in the copy) is answered only when asked for, as the list does. */
const includeArchived = bool()
  .default(false)
  .describe(`answer a BC gone from Odoo too (404 without it)${OPERATORS_ONLY}`);

const notFound = (odooId: number) =>
  new HttpError(404, 'NOT_FOUND', `no BC with Odoo id ${odooId}`);

export const bcRoutes: FastifyPluginAsyncZod<BcRoutesOptions> = (app, { syncControl }) => {
  // The BC routes serve the default source's copy (docs/sources.md).
  const reader = { onRequest: app.authorize('reader', DEFAULT_SOURCE) };

  app.get(
    '/api/bcs',
    {
      ...reader,
      schema: {
        tags: ['bcs'],
        summary: 'List BCs with filters, sorting and cursor pagination',
        querystring: listQuery,
        response: {
          200: pageSchema(bcSchema),
          ...authErrors,
        },
      },
    },
    async (request, reply) =>
      sendJsonText(reply, pageJson(await app.records.list(bc, bcModelQuery(request.query)))),
  );

  app.get(
    '/api/bcs/:odooId',
    {
      ...reader,
      schema: {
        tags: ['bcs'],
        summary: 'One BC with its lines',
        params: odooIdParams,
        querystring: z.object({ includeArchived, fields: bodyFields }).strict(),
        response: {
          200: bcSchema.extend({
            lines: z
              .array(bcLineSchema)
              .describe(
                `the first ${DETAIL_LINES} lines (fewer when the answer reaches API_PAGE_MAX_BYTES)`,
              ),
            linesNextCursor: z
              .string()
              .nullable()
              .describe('when the BC has more lines: `after` for /api/bcs/{odooId}/lines'),
          }),
          404: errorBody,
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { odooId } = request.params;
      const detail = await app.records.detail(bc, odooId, {
        includeArchived: request.query.includeArchived,
        fields: request.query.fields,
        children: [{ child: line, order: 'odoo', limit: DETAIL_LINES }],
        // The lines' keys and cursor are within the answer's own envelope.
        pageEnvelopeBytes: 0,
        linkLimit: 0,
      });
      if (!detail) throw notFound(odooId);
      const [lines] = detail.children as [(typeof detail.children)[number]];
      return sendJsonText(
        reply,
        withMembers(detail.body, [
          ['lines', lines.itemsJson],
          ['linesNextCursor', JSON.stringify(lines.nextCursor)],
        ]),
      );
    },
  );

  app.get(
    '/api/bcs/:odooId/lines',
    {
      ...reader,
      schema: {
        tags: ['bcs'],
        summary: "A BC's lines, a page at a time",
        params: odooIdParams,
        querystring: z
          .object({
            includeArchived,
            limit: pageLimit(200, 1_000),
            after: z.string().max(30).optional().describe('cursor: nextCursor of the page before'),
            fields: bodyFields,
          })
          .strict(),
        response: {
          200: pageSchema(bcLineSchema),
          404: errorBody,
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { odooId } = request.params;
      const lines = await app.records.childPage(bc, line, odooId, request.query);
      if (!lines) throw notFound(odooId);
      return sendJsonText(reply, pageJson(lines));
    },
  );

  app.get(
    '/api/bcs/:odooId/history',
    {
      ...reader,
      schema: {
        tags: ['bcs'],
        summary: 'Audit rows of a BC and its lines, newest first',
        params: odooIdParams,
        querystring: historyQuery,
        response: { 200: historySchema, ...authErrors },
      },
    },
    async (request) => {
      const { odooId } = request.params;
      const history = await app.records.history(bcsFamily, bc, odooId, request.query);
      // Only a child's history can be missing its record: a BC's is answered even once it is gone.
      if (!history) throw notFound(odooId);
      return history;
    },
  );

  resyncRoute(app, {
    url: '/api/bcs/:odooId/resync',
    family: bcsFamily.name,
    source: DEFAULT_SOURCE,
    tags: ['sync'],
    summary: 'Fetch one BC fresh from Odoo and upsert it',
    idDescription: 'the Odoo id of the BC',
    syncControl,
  });
  return Promise.resolve();
};
