/** BC read endpoints (reader) and the per-BC resync (operator). */
import { and, desc, eq, isNull, lt, sql } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../../../../db/create-db.js';
import { syncAudit } from '../../../../db/schema/index.js';
import { bcsFamily } from '../../../../families/bcs/family.js';
import { scrapDimagazBc, scrapDimagazBcLine } from '../../../../families/bcs/tables.js';
import { HttpError } from '../../../http-error.js';
import { sendJsonText } from '../../../send-json-text.js';
import type { SyncControl } from '../../../sync-control.js';
import { auditSchema, bcLineSchema, bcSchema, toAuditBody } from '../../../schemas/bc.js';
import {
  authErrors,
  bodyFields,
  errorBody,
  odooIdParams,
  pageLimit,
} from '../../../schemas/common.js';
import { boundedPage, PAGE_ENVELOPE_BYTES, type PageQuery } from '../../../bounded-page.js';
import { bodySizeHint, type BodyFields } from '../../../record-bodies.js';
import { bcColumnsJson, bcJson, detailLinesJson, lineJson, lineOrder } from './bc-json.js';
import { listBcs, listQuery } from './list-bcs.js';

export interface BcRoutesOptions {
  db: Db;
  /** For the list, whose query's text its filters shape (create-db.ts). */
  shapedDb: Db;
  syncControl: SyncControl;
  /** The largest answer of a list page, and of a BC with its lines. */
  pageMaxBytes: number;
}

const LINE_CURSOR = /^(-?\d{1,10})_(\d{1,10})$/;

/**
 * A page of a BC's lines in Odoo's order (by sequence, then id), within a budget of bytes
 * (bounded-page.ts); the cursor is the last line's `<sequence>_<odooId>`, so a page never repeats
 * or skips a line.
 */
function pageOfLines(
  odooId: number,
  page: { limit: number; after?: string; fields: BodyFields },
): PageQuery {
  const where = [sql`${scrapDimagazBcLine.bcOdooId} = ${odooId}`];
  if (page.after) {
    const match = LINE_CURSOR.exec(page.after);
    const [sequence, id] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
    if (!Number.isSafeInteger(sequence) || Math.abs(sequence) > 2_147_483_647 || id > 2_147_483_647)
      throw new HttpError(400, 'BAD_CURSOR', 'after is not a cursor this endpoint gave');
    where.push(sql`(${lineOrder}, ${scrapDimagazBcLine.odooId}) > (${sequence}, ${id})`);
  }
  return {
    from: sql`${scrapDimagazBcLine}`,
    where: sql.join(where, sql` and `),
    body: lineJson(page.fields),
    sizeHint: bodySizeHint(bcsFamily.children[0]!, page.fields),
    sortKey: lineOrder,
    sortText: sql`${lineOrder}::text || '_' || ${scrapDimagazBcLine.odooId}`,
    odooId: sql`${scrapDimagazBcLine.odooId}`,
    descending: false,
    limit: page.limit,
    sort: 'lines',
    cursorOf: (row) => row.sort_text,
  };
}

/** Lines a BC detail carries; a BC with more gives the cursor to the rest. */
const DETAIL_LINES = 200;

/** A BC gone from Odoo (archived in the copy) is answered only when asked for, as the list does. */
const includeArchived = z
  .enum(['true', 'false'])
  .transform((value) => value === 'true')
  .default(false)
  .describe('answer a BC gone from Odoo too (404 without it)');

const found = (odooId: number, archivedToo: boolean) =>
  and(
    eq(scrapDimagazBc.odooId, odooId),
    archivedToo ? undefined : isNull(scrapDimagazBc.archivedAt),
  );

const notFound = (odooId: number) =>
  new HttpError(404, 'NOT_FOUND', `no BC with Odoo id ${odooId}`);

export const bcRoutes: FastifyPluginAsyncZod<BcRoutesOptions> = (
  app,
  { db, shapedDb, syncControl, pageMaxBytes },
) => {
  const reader = { onRequest: app.authorize('reader') };
  const itemsMaxBytes = pageMaxBytes - PAGE_ENVELOPE_BYTES;
  // Rendered once: the detail's lines subquery, as bcJson is.
  const detailLines = {
    all: detailLinesJson(DETAIL_LINES, itemsMaxBytes, 'all'),
    columns: detailLinesJson(DETAIL_LINES, itemsMaxBytes, 'columns'),
  };

  app.get(
    '/api/bcs',
    {
      ...reader,
      schema: {
        tags: ['bcs'],
        summary: 'List BCs with filters, sorting and cursor pagination',
        querystring: listQuery,
        response: {
          200: z.object({ items: z.array(bcSchema), nextCursor: z.string().nullable() }),
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { itemsJson, nextCursor } = await listBcs(shapedDb, request.query, itemsMaxBytes);
      return sendJsonText(
        reply,
        `{"items":${itemsJson},"nextCursor":${JSON.stringify(nextCursor)}}`,
      );
    },
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
      const { fields } = request.query;
      const [bc] = await db
        .select({
          body: fields === 'all' ? bcJson : bcColumnsJson,
          lines: detailLines[fields],
        })
        .from(scrapDimagazBc)
        .where(found(odooId, request.query.includeArchived));
      if (!bc) throw notFound(odooId);
      // The BC's object, its closing brace replaced by the two members the detail adds.
      return sendJsonText(reply, `${bc.body.slice(0, bc.body.lastIndexOf('}'))}${bc.lines}}`);
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
          200: z.object({ items: z.array(bcLineSchema), nextCursor: z.string().nullable() }),
          404: errorBody,
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { odooId } = request.params;
      const [bc] = await db
        .select({ odooId: scrapDimagazBc.odooId })
        .from(scrapDimagazBc)
        .where(found(odooId, request.query.includeArchived));
      if (!bc) throw notFound(odooId);
      const lines = await boundedPage(db, pageOfLines(odooId, request.query), itemsMaxBytes);
      return sendJsonText(
        reply,
        `{"items":${lines.itemsJson},"nextCursor":${JSON.stringify(lines.nextCursor)}}`,
      );
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
        querystring: z
          .object({
            limit: pageLimit(50, 500),
            before: z.coerce.number().int().positive().optional(),
          })
          .strict(),
        response: {
          200: z.object({ items: z.array(auditSchema), nextBefore: z.number().int().nullable() }),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const { odooId } = request.params;
      const { limit, before } = request.query;
      const rows = await db
        .select()
        .from(syncAudit)
        .where(
          and(
            eq(syncAudit.family, bcsFamily.name),
            eq(syncAudit.rootOdooId, odooId),
            before === undefined ? undefined : lt(syncAudit.id, before),
          ),
        )
        .orderBy(desc(syncAudit.id))
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      return {
        items: page.map(toAuditBody),
        nextBefore: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null,
      };
    },
  );

  app.post(
    '/api/bcs/:odooId/resync',
    {
      onRequest: app.authorize('operator'),
      schema: {
        tags: ['sync'],
        summary: 'Fetch one BC fresh from Odoo and upsert it',
        params: odooIdParams,
        response: { 202: z.object({ jobId: z.string() }), 503: errorBody, ...authErrors },
      },
    },
    async (request, reply) => {
      const { jobs } = await syncControl.requestResync(
        bcsFamily.name,
        request.params.odooId,
        `api:${request.caller?.name ?? 'unknown'}`,
      );
      return reply.code(202).send({ jobId: jobs[0]!.jobId });
    },
  );
  return Promise.resolve();
};
