/**
 * A read API for every copied model, generated at boot from the families' declarations (reader
 * role, as the BC routes): `GET /api/models/{model}/records` lists with the model's filters and
 * sorts; `…/records/{odooId}` is one record with its children and its links, each paged;
 * `…/links/{field}` pages a link list; `…/history` is the record's audit. Each model has routes of
 * its own, so the OpenAPI document describes its columns and filters.
 */
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../../../../db/create-db.js';
import { syncAudit } from '../../../../db/schema/index.js';
import { rowsOf } from '../../../../db/sql-rows.js';
import {
  familyModels,
  isChild,
  type LinkTable,
  type ModelDeclaration,
  type RecordFamily,
} from '../../../../families/family.js';
import type { Families } from '../../../../families/registry.js';
import { HttpError } from '../../../http-error.js';
import { PAGE_ENVELOPE_BYTES } from '../../../bounded-page.js';
import {
  bodyNames,
  recordJson,
  recordSchema,
  tableColumn,
  type BodyFields,
} from '../../../record-bodies.js';
import { auditSchema, toAuditBody } from '../../../schemas/bc.js';
import {
  authErrors,
  bodyFields,
  errorBody,
  pageLimit,
  positiveId,
} from '../../../schemas/common.js';
import { sendJsonText } from '../../../send-json-text.js';
import { modelList, type ModelList } from './model-query.js';

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

const bool = z.enum(['true', 'false']).transform((value) => value === 'true');

/** Whether a route's query asked for records gone from Odoo (only a root's routes take it). */
const includesArchived = (query: object) =>
  'includeArchived' in query && query.includeArchived === true;

/** A page of a record's link list in Odoo's order; the cursor is the last position. */
async function pageOfLinks(
  db: Db,
  link: LinkTable,
  owner: number,
  limit: number,
  after: number | undefined,
): Promise<{ items: number[]; nextCursor: string | null }> {
  const rows = rowsOf<{ position: number; target_id: number }>(
    await db.execute(sql`
      select position, target_id from ${sql.identifier(link.table)}
      where owner_id = ${owner} and position > ${after ?? 0}
      order by position limit ${limit + 1}`),
  );
  const items = rows.slice(0, limit);
  return {
    items: items.map((row) => row.target_id),
    nextCursor: rows.length > limit ? String(items[items.length - 1]!.position) : null,
  };
}

export const modelRoutes: FastifyPluginAsyncZod<ModelRoutesOptions> = (
  app,
  { db, shapedDb, families, pageMaxBytes },
) => {
  const reader = { onRequest: app.authorize('reader') };
  const itemsMaxBytes = pageMaxBytes - PAGE_ENVELOPE_BYTES;
  const lists = new Map<ModelDeclaration, ModelList>();
  for (const family of families.all)
    for (const model of familyModels(family)) lists.set(model, modelList(model));

  for (const family of families.all)
    for (const model of familyModels(family)) {
      // Two columns that would share a name, or a column named like the list's own parameters.
      for (const { column, natural, name } of bodyNames(model).renamed)
        app.log.warn(
          { model: model.model, field: column.field, natural, name },
          'a field is served under another key than its natural one, which another key has',
        );
      for (const { column, natural, name } of lists.get(model)!.renamed)
        app.log.warn(
          { model: model.model, field: column.field, natural, name },
          'a field is filtered or sorted by another parameter than its natural one, which another parameter has',
        );
      register(family, model);
    }

  function register(family: RecordFamily, model: ModelDeclaration) {
    const base = `/api/models/${model.model}/records`;
    const list = lists.get(model)!;
    const record = recordSchema(model, schemaName(model.model));
    const tags = [`models: ${family.name}`];
    const notFound = (odooId: number) =>
      new HttpError(404, 'NOT_FOUND', `no ${model.model} record with Odoo id ${odooId}`);
    const table = sql.identifier(model.table.name);
    const odooId = tableColumn(model, 'odoo_id');
    // A root gone from Odoo (archived in the copy) is found only when asked for, as the list does.
    const find = async (id: number, includeArchived = false, fields: BodyFields = 'all') =>
      rowsOf<{ body: string; parent: number | null }>(
        await db.execute(sql`
          select ${recordJson(model, fields)} as body,
            ${isChild(model) ? tableColumn(model, model.parentColumn) : sql`null::int`} as parent
          from ${table} where ${odooId} = ${id}
          ${isChild(model) || includeArchived ? sql`` : sql`and ${tableColumn(model, 'archived_at')} is null`}`),
      )[0];
    /** What a root's detail and link pages take: the records gone from Odoo, on demand. */
    const archivedQuery = isChild(model)
      ? {}
      : {
          includeArchived: bool
            .default(false)
            .describe('answer a record gone from Odoo too (404 without it)'),
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
                        `the first ${DETAIL_PAGE} (fewer when the page's bytes reach its share of API_PAGE_MAX_BYTES); nextCursor continues /api/models/${child.model}/records?${lists.get(child)!.parentKey}={odooId}`,
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
        const { fields } = request.query;
        const found = await find(id, includesArchived(request.query), fields);
        if (!found) throw notFound(id);
        // The child pages share what the record leaves of the budget (one child at least each).
        const childMaxBytes = Math.max(
          1,
          Math.floor(
            (itemsMaxBytes - Buffer.byteLength(found.body)) / Math.max(1, children.length),
          ) - PAGE_ENVELOPE_BYTES,
        );
        // One after the other: a request holds one connection of the pool at a time, so a key's
        // requests in flight (in-flight.ts) bound the connections it holds, whatever the model.
        const childPages: { itemsJson: string; nextCursor: string | null }[] = [];
        for (const child of children) {
          const childList = lists.get(child)!;
          childPages.push(
            await childList.page(
              db,
              { [childList.parentKey!]: id, sort: 'odooId', limit: DETAIL_PAGE, fields },
              childMaxBytes,
            ),
          );
        }
        const linkPages: Awaited<ReturnType<typeof pageOfLinks>>[] = [];
        for (const link of model.links)
          linkPages.push(await pageOfLinks(db, link, id, DETAIL_PAGE, undefined));
        const childrenJson = children
          .map(
            (child, i) =>
              `${JSON.stringify(child.model)}:{"items":${childPages[i]!.itemsJson},"nextCursor":${JSON.stringify(childPages[i]!.nextCursor)}}`,
          )
          .join(',');
        const linksJson = JSON.stringify(
          Object.fromEntries(model.links.map((link, i) => [link.field, linkPages[i]])),
        );
        // The record's object, its closing brace replaced by the two members the detail adds.
        return sendJsonText(
          reply,
          `${found.body.slice(0, found.body.lastIndexOf('}'))},"children":{${childrenJson}},"links":${linksJson}}`,
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
          if (!(await find(id, includesArchived(request.query)))) throw notFound(id);
          return pageOfLinks(db, link, id, request.query.limit, request.query.after);
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
        const { limit, before } = request.query;
        // Audit rows are found by their root (one index): a child's through the root it has now.
        let root = id;
        if (isChild(model)) {
          const found = await find(id);
          if (!found) throw notFound(id);
          root = found.parent!;
        }
        const rows = await db
          .select()
          .from(syncAudit)
          .where(
            and(
              eq(syncAudit.family, family.name),
              eq(syncAudit.rootOdooId, root),
              isChild(model)
                ? and(eq(syncAudit.model, model.model), eq(syncAudit.odooId, id))
                : undefined,
              before === undefined ? undefined : lt(syncAudit.id, before),
            ),
          )
          .orderBy(desc(syncAudit.id))
          .limit(limit + 1);
        const items = rows.slice(0, limit);
        return {
          items: items.map(toAuditBody),
          nextBefore: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null,
        };
      },
    );
  }
  return Promise.resolve();
};
