/**
 * A read API for every copied model, generated at boot from the families' declarations (reader
 * role, as the BC routes): `GET /api/models/{model}/records` lists with the model's filters and
 * sorts; `…/records/{odooId}` is one record with its children and its links, each paged;
 * `…/links/{field}` pages a link list; `…/fields/{field}` streams one value; `…/history` is the
 * record's audit; `POST …/records/{odooId}/resync` (operator role) fetches a root record fresh. Each model has routes of its own, so the OpenAPI document describes its columns
 * and filters; each maps its parameters onto the read engine (`app.records`, src/http/records/).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { OPERATORS_ONLY } from '../../../plugins/archived-access.js';
import {
  familyModels,
  isChild,
  type ModelDeclaration,
  type RecordFamily,
} from '../../../../families/family.js';
import type { Families } from '../../../../families/registry.js';
import { DEFAULT_SOURCE, sourceKey, splitFamilyKey } from '../../../../sources/family-key.js';
import { FIELD_NAME } from '../../../../families/field-policy.js';
import { HttpError } from '../../../http-error.js';
import { bool } from '../../../records/api-columns.js';
import { PAGE_ENVELOPE_BYTES } from '../../../records/bounded-page.js';
import { objectJson, pageJson, pageSchema, withMembers } from '../../../records/json-text.js';
import { modelList } from '../../../records/model-list.js';
import { bodyNames, CUT_VALUE_PREFIX, recordSchema } from '../../../records/record-bodies.js';
import { recordsPath } from '../../../../families/records-path.js';
import { historyQuery, historySchema } from '../../../records/record-history.js';
import {
  authErrors,
  bodyFields,
  errorBody,
  pageLimit,
  positiveId,
} from '../../../schemas/common.js';
import { sendJsonText } from '../../../send-json-text.js';
import type { SyncControl } from '../../../sync-control.js';
import { resyncRoute } from '../resync-route.js';

export interface ModelRoutesOptions {
  families: Families;
  syncControl: SyncControl;
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

/** Whether a route's query asked for records gone from Odoo (only a root's routes take it). */
const includesArchived = (query: object) =>
  'includeArchived' in query && query.includeArchived === true;

export const modelRoutes: FastifyPluginAsyncZod<ModelRoutesOptions> = (
  app,
  { families, syncControl },
) => {
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
    // Another source's copy of the model is served under its name (docs/sources.md).
    const { source } = splitFamilyKey(family.name);
    const base = recordsPath(model);
    const nameOf = (name: string) => schemaName(sourceKey(source, name));
    // A key limited to other sources reads nothing of this one.
    const reader = { onRequest: app.authorize('reader', source) };
    const list = modelList(model);
    const record = recordSchema(model, nameOf(model.model));
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
          response: { 200: pageSchema(record), ...authErrors },
        },
      },
      async (request, reply) =>
        sendJsonText(reply, pageJson(await app.records.list(model, request.query))),
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
                      pageSchema(recordSchema(child, nameOf(child.model))).describe(
                        `the first ${DETAIL_PAGE} (fewer when the page's bytes reach its share of API_PAGE_MAX_BYTES); nextCursor continues ${recordsPath(child)}?${modelList(child).parentKey}={odooId}`,
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
                      pageSchema(z.number().int().describe(`a ${link.relation} id`)).describe(
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
        const detail = await app.records.detail(model, id, {
          includeArchived: includesArchived(request.query),
          fields: request.query.fields,
          // By Odoo id: each page continues on its child's list, sorted by odooId.
          children: children.map((child) => ({ child, order: 'id', limit: DETAIL_PAGE })),
          pageEnvelopeBytes: PAGE_ENVELOPE_BYTES,
          linkLimit: DETAIL_PAGE,
        });
        if (!detail) throw notFound(id);
        const childPages = children.map(
          (child, i) => [child.model, pageJson(detail.children[i]!)] as const,
        );
        const links = model.links.map((link, i) => [link.field, detail.links[i]]);
        return sendJsonText(
          reply,
          withMembers(detail.body, [
            ['children', objectJson(childPages)],
            ['links', JSON.stringify(Object.fromEntries(links))],
          ]),
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
            response: { 200: pageSchema(z.number().int()), 404: errorBody, ...authErrors },
          },
        },
        async (request) => {
          const { odooId: id } = request.params;
          const page = await app.records.links(model, link, id, {
            ...request.query,
            includeArchived: includesArchived(request.query),
          });
          if (!page) throw notFound(id);
          return page;
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
        const includeArchived = includesArchived(request.query);
        const value = await app.records.fieldValue(model, id, field, includeArchived);
        if (!value) {
          if (!(await app.records.find(model, id, includeArchived))) throw notFound(id);
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

    if (!isChild(model))
      resyncRoute(app, {
        url: `${base}/:odooId/resync`,
        family: family.name,
        source,
        tags: ['sync', ...tags],
        summary: `Fetch one ${model.model} record fresh from Odoo, with its children, and upsert it`,
        idDescription: 'the Odoo id of the record',
        syncControl,
      });

    app.get(
      `${base}/:odooId/history`,
      {
        ...reader,
        schema: {
          tags,
          summary: `Audit rows of a ${model.model} record${isChild(model) ? '' : ' and its children'}, newest first`,
          params,
          querystring: historyQuery,
          response: { 200: historySchema, 404: errorBody, ...authErrors },
        },
      },
      async (request) => {
        const { odooId: id } = request.params;
        const history = await app.records.history(family, model, id, request.query);
        if (!history) throw notFound(id);
        return history;
      },
    );
  }

  // What no route above answers, under a source's routes: 403 to a key that does not read that
  // source, whether it is copied or not and whatever the model, as its copied models' routes
  // answer; else the 404 of an unknown route. A key limited to sources learns no other source's
  // name, nor which models it copies, from a 403 on one path and a 404 on the next.
  for (const [url, sourceOf] of [
    ['/api/models/*', () => DEFAULT_SOURCE],
    ['/api/sources/:source/*', (params: unknown) => (params as { source: string }).source],
  ] as const)
    app.route({
      method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      url,
      schema: { hide: true },
      onRequest(request, reply, done) {
        app.authorize('reader', sourceOf(request.params)).call(this, request, reply, done);
      },
      handler: (_request, reply) => reply.callNotFound(),
    });
  return Promise.resolve();
};
