/**
 * A read API for every copied model, generated at boot from the families' declarations (reader
 * role, as the BC routes): `GET /api/models/{model}/records` lists with the model's filters and
 * sorts; `…/records/{odooId}` is one record with its children and its links, each paged;
 * `…/links/{field}` pages a link list; `…/history` is the record's audit. Each model has routes of
 * its own, so the OpenAPI document describes its columns and filters.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { OPERATORS_ONLY } from '../../../plugins/archived-access.js';
import type { Db } from '../../../../db/create-db.js';
import {
  familyModels,
  isChild,
  type ModelDeclaration,
  type RecordFamily,
} from '../../../../families/family.js';
import type { Families } from '../../../../families/registry.js';
import { bool } from '../../../records/api-columns.js';
import { FIELD_NAME } from '../../../../families/field-policy.js';
import { HttpError } from '../../../http-error.js';
import { PAGE_ENVELOPE_BYTES } from '../../../records/bounded-page.js';
import { bodyNames, CUT_VALUE_PREFIX, recordSchema } from '../../../records/record-bodies.js';
import { auditSchema, toAuditBody } from '../../../schemas/bc.js';
import {
  authErrors,
  bodyFields,
  errorBody,
  pageLimit,
  positiveId,
} from '../../../schemas/common.js';
import { sendJsonText } from '../../../send-json-text.js';
import { openFieldValue } from '../../../records/field-value.js';
import { findRecord, readDetail, readHistory, readLinkPage } from '../../../records/record-detail.js';
import { modelList } from '../../../records/model-list.js';

export interface ModelRoutesOptions {
  db: Db;
  /** For the lists, whose queries' texts their filters shape (create-db.ts). */
  shapedDb: Db;
  families: Families;
  /** The largest answer of a list page, and of a detail with its child pages. */
  pageMaxBytes: number;
}

/** Children of each child model, and targets of each link, a detail carries. */
const DETAIL_PAGE = 50;

const params = z.object({ odooId: positiveId().describe('the Odoo id of the record') });

/** `account.move.line` → `AccountMoveLine`: a name OpenAPI can give the model's schema. */
const schemaName = (model: string) =>
  model
    .split(/[._]/)
    .filter((part) => part.length > 0)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');

const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/** Whether a route's query asked for records gone from Odoo (only a root's routes take it). */
const includesArchived = (query: object) =>
  'includeArchived' in query && query.includeArchived === true;

export const modelRoutes: FastifyPluginAsyncZod<ModelRoutesOptions> = (
  app,
  { db, shapedDb, families, pageMaxBytes },
) => {
  const reader = { onRequest: app.authorize('reader') };
  const itemsMaxBytes = pageMaxBytes - PAGE_ENVELOPE_BYTES;

  for (const family of families.all)
    for (const model of familyModels(family)) {
      // Two columns that would share a name, or a column named like the list's own parameters.
      for (const { column, natural, name } of bodyNames(model).renamed)
        app.log.warn(
          { model: model.model, field: column.field, natural, name },
          'a field is served under another key than its natural one, which another key has',
        );
      for (const { column, natural, name } of modelList(model).renamed)
        app.log.warn(
          { model: model.model, field: column.field, natural, name },
          'a field is filtered or sorted by another parameter than its natural one, which another parameter has',
        );
      register(family, model);
    }

  function register(family: RecordFamily, model: ModelDeclaration) {
    const base = `/api/models/${model.model}/records`;
    const list = modelList(model);
    const record = recordSchema(model, schemaName(model.model));
    const tags = [`models: ${family.name}`];
    const notFound = (odooId: number) =>
      new HttpError(404, 'NOT_FOUND', `no ${model.model} record with Odoo id ${odooId}`);
    /** What a root's detail and link pages take: the records gone from Odoo, on demand. */
    const archivedQuery = isChild(model)
      ? {}
      : {
          includeArchived: bool()
            .default(false)
            .describe(`answer a record gone from Odoo too (404 without it)${OPERATORS_ONLY}`),
        };

    app.get(
      base,
      {
        ...reader,
        schema: {
          tags,
          summary: `List ${model.model} records with filters, sorting and cursor pagination`,
          querystring: list.querystring,
          response: { 200: page(record), ...authErrors },
        },
      },
      async (request, reply) => {
        const { itemsJson, nextCursor } = await list.page(shapedDb, request.query, itemsMaxBytes);
        return sendJsonText(
          reply,
          `{"items":${itemsJson},"nextCursor":${JSON.stringify(nextCursor)}}`,
        );
      },
    );

    const children = isChild(model) ? [] : family.children;
    app.get(
      `${base}/:odooId`,
      {
        ...reader,
        schema: {
          tags,
          summary: `One ${model.model} record with its children and its links, paged`,
          params,
          querystring: z.object({ ...archivedQuery, fields: bodyFields }).strict(),
          response: {
            200: record.extend({
              children: z
                .object(
                  Object.fromEntries(
                    children.map((child) => [
                      child.model,
                      page(recordSchema(child, schemaName(child.model))).describe(
                        `the first ${DETAIL_PAGE} (fewer when the page's bytes reach its share of API_PAGE_MAX_BYTES); nextCursor continues /api/models/${child.model}/records?${modelList(child).parentKey}={odooId}`,
                      ),
                    ]),
                  ),
                )
                .describe('each child model, the first records by Odoo id'),
              links: z
                .object(
                  Object.fromEntries(
                    model.links.map((link) => [
                      link.field,
                      page(z.number().int().describe(`a ${link.relation} id`)).describe(
                        `the first ${DETAIL_PAGE}, in Odoo's order; nextCursor is after for …/links/${link.field}`,
                      ),
                    ]),
                  ),
                )
                .describe('each many2many and one2many field: the target ids'),
            }),
            404: errorBody,
            ...authErrors,
          },
        },
      },
      async (request, reply) => {
        const { odooId: id } = request.params;
        const detail = await readDetail(db, model, id, {
          includeArchived: includesArchived(request.query),
          fields: request.query.fields,
          // By Odoo id: each page continues on its child's list, sorted by odooId.
          children: children.map((child) => ({ child, order: 'id', limit: DETAIL_PAGE })),
          maxBytes: itemsMaxBytes,
          pageEnvelopeBytes: PAGE_ENVELOPE_BYTES,
          linkLimit: DETAIL_PAGE,
        });
        if (!detail) throw notFound(id);
        const childrenJson = children
          .map(
            (child, i) =>
              `${JSON.stringify(child.model)}:{"items":${detail.children[i]!.itemsJson},"nextCursor":${JSON.stringify(detail.children[i]!.nextCursor)}}`,
          )
          .join(',');
        const linksJson = JSON.stringify(
          Object.fromEntries(model.links.map((link, i) => [link.field, detail.links[i]])),
        );
        // The record's object, its closing brace replaced by the two members the detail adds.
        return sendJsonText(
          reply,
          `${detail.body.slice(0, detail.body.lastIndexOf('}'))},"children":{${childrenJson}},"links":${linksJson}}`,
        );
      },
    );

    for (const link of model.links)
      app.get(
        `${base}/:odooId/links/${link.field}`,
        {
          ...reader,
          schema: {
            tags,
            summary: `The ${link.relation} ids of a ${model.model} record's ${link.field}, in Odoo's order`,
            params,
            querystring: z
              .object({
                ...archivedQuery,
                limit: pageLimit(200, 1_000),
                after: z.coerce
                  .number()
                  .int()
                  .min(0)
                  .max(2_147_483_647)
                  .optional()
                  .describe('cursor: nextCursor of the page before'),
              })
              .strict(),
            response: { 200: page(z.number().int()), 404: errorBody, ...authErrors },
          },
        },
        async (request) => {
          const { odooId: id } = request.params;
          if (!(await findRecord(db, model, id, includesArchived(request.query))))
            throw notFound(id);
          return readLinkPage(db, link, id, request.query.limit, request.query.after);
        },
      );

    app.get(
      `${base}/:odooId/fields/:field`,
      {
        ...reader,
        schema: {
          tags,
          summary: `One field of a ${model.model} record, whole, as Odoo sent it`,
          description: `What a body's marker (${CUT_VALUE_PREFIX}<bytes>:<this path>) stands for: a record larger than half of API_PAGE_MAX_BYTES has its largest values cut in lists and details. A text is answered as its UTF-8 bytes (text/plain), any other value as its JSON; streamed, with its Content-Length.`,
          params: params.extend({
            field: z
              .string()
              // Odoo's field names are PostgreSQL column names: at most 63 bytes.
              .max(63)
              .regex(FIELD_NAME, 'a field name')
              .describe('the field, as named in data'),
          }),
          querystring: z.object({ ...archivedQuery }).strict(),
          response: {
            200: {
              description: 'the value: a text as text/plain, any other value as its JSON',
              content: {
                'text/plain': { schema: z.string() },
                'application/json': { schema: z.unknown() },
              },
            },
            404: errorBody,
            ...authErrors,
          },
        },
      },
      async (request, reply) => {
        const { odooId: id, field } = request.params;
        const value = await openFieldValue(db, model, id, field, includesArchived(request.query));
        if (!value) {
          if (!(await findRecord(db, model, id, includesArchived(request.query))))
            throw notFound(id);
          throw new HttpError(404, 'NOT_FOUND', `${model.model} ${id} has no field ${field}`);
        }
        // The close of the response ends the stream, and with it the query's transaction.
        reply.raw.once('close', () => value.stream.destroy());
        return (
          reply
            .type(
              value.kind === 'string'
                ? 'text/plain; charset=utf-8'
                : 'application/json; charset=utf-8',
            )
            .header('content-length', value.bytes)
            // Fastify pipes the stream as is.
            .send(value.stream)
        );
      },
    );

    app.get(
      `${base}/:odooId/history`,
      {
        ...reader,
        schema: {
          tags,
          summary: `Audit rows of a ${model.model} record${isChild(model) ? '' : ' and its children'}, newest first`,
          params,
          querystring: z
            .object({
              limit: pageLimit(50, 500),
              before: z.coerce.number().int().positive().optional(),
            })
            .strict(),
          response: {
            200: z.object({ items: z.array(auditSchema), nextBefore: z.number().int().nullable() }),
            404: errorBody,
            ...authErrors,
          },
        },
      },
      async (request) => {
        const { odooId: id } = request.params;
        // A child's audit rows are found through the root it has now; a root's, even once gone.
        let root = id;
        if (isChild(model)) {
          const found = await findRecord(db, model, id);
          if (!found) throw notFound(id);
          root = found.parent!;
        }
        const history = await readHistory(db, family, model, { odooId: id, root }, request.query);
        return { items: history.rows.map(toAuditBody), nextBefore: history.nextBefore };
      },
    );
  }
  return Promise.resolve();
};
