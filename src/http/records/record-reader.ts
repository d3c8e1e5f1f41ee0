/**
 * The read engine behind every route that reads the copy (`/api/models`, `/api/bcs`): one reader,
 * built once by the app (plugins/records.ts, `app.records`), that runs the lists, details, child
 * and link pages, histories and field values within the API's page budget. Routes map their
 * parameters onto it and send what it gives; none writes SQL. What it reads with is derived from
 * each model's declaration (model-list.ts, record-bodies.ts); it is not for the sync's own reads.
 */
import type { Db } from '../../db/create-db.js';
import type {
  ChildModel,
  LinkTable,
  ModelDeclaration,
  RecordFamily,
} from '../../families/family.js';
import { boundedPage, PAGE_ENVELOPE_BYTES, type JsonPage } from './bounded-page.js';
import { openFieldValue, type FieldValue } from './field-value.js';
import { modelList, type ListQuery } from './model-list.js';
import type { BodyFields } from './record-bodies.js';
import {
  childPageQuery,
  findRecord,
  readDetail,
  readLinkPage,
  type Detail,
  type DetailRequest,
  type LinkPage,
} from './record-detail.js';
import { readHistory, type HistoryPage, type HistoryQuery } from './record-history.js';

export interface RecordReaderOptions {
  readonly db: Db;
  /** For the lists, whose queries' texts their filters shape (create-db.ts). */
  readonly shapedDb: Db;
  /** The largest answer of a list page, and of a record with its child pages (bytes). */
  readonly pageMaxBytes: number;
}

/** A root's records gone from Odoo are read only when asked for (a child has no such state). */
interface ArchivedOption {
  readonly includeArchived: boolean;
}

export interface RecordReader {
  /** A page of a model's list; `query` as its list's querystring parsed it (model-list.ts). */
  list(model: ModelDeclaration, query: ListQuery): Promise<JsonPage>;
  /** Whether a record is there, and a child's root; undefined when it is not. */
  find(
    model: ModelDeclaration,
    odooId: number,
    includeArchived?: boolean,
  ): Promise<{ parent: number | null } | undefined>;
  /** One record with the first page of its children and links; undefined when it is not there. */
  detail(
    model: ModelDeclaration,
    odooId: number,
    request: DetailRequest,
  ): Promise<Detail | undefined>;
  /** A page of a root's children in Odoo's order after `after`; undefined without the root. */
  childPage(
    root: ModelDeclaration,
    child: ChildModel,
    rootId: number,
    page: ArchivedOption & { limit: number; after?: string | undefined; fields: BodyFields },
  ): Promise<JsonPage | undefined>;
  /** A page of a record's link list; undefined when the record is not there. */
  links(
    model: ModelDeclaration,
    link: LinkTable,
    odooId: number,
    page: ArchivedOption & { limit: number; after?: number | undefined },
  ): Promise<LinkPage | undefined>;
  /** A page of a record's history (record-history.ts); undefined for a child that is not there. */
  history(
    family: RecordFamily,
    model: ModelDeclaration,
    odooId: number,
    page: HistoryQuery,
  ): Promise<HistoryPage | undefined>;
  /** One field of a record, streamed; undefined when the record or the field is not there. */
  fieldValue(
    model: ModelDeclaration,
    odooId: number,
    field: string,
    includeArchived: boolean,
  ): Promise<FieldValue | undefined>;
}

export function createRecordReader({
  db,
  shapedDb,
  pageMaxBytes,
}: RecordReaderOptions): RecordReader {
  // What an answer's items may take: the rest is its envelope (keys, cursor).
  const itemsMaxBytes = pageMaxBytes - PAGE_ENVELOPE_BYTES;
  const find: RecordReader['find'] = (model, odooId, includeArchived) =>
    findRecord(db, model, odooId, includeArchived);
  return {
    list: (model, query) => boundedPage(shapedDb, modelList(model).pageQuery(query), itemsMaxBytes),
    find,
    detail: (model, odooId, request) =>
      readDetail(db, model, odooId, { ...request, maxBytes: itemsMaxBytes }),
    async childPage(root, child, rootId, page) {
      if (!(await find(root, rootId, page.includeArchived))) return undefined;
      return boundedPage(db, childPageQuery(child, rootId, page), itemsMaxBytes);
    },
    async links(model, link, odooId, page) {
      if (!(await find(model, odooId, page.includeArchived))) return undefined;
      return readLinkPage(db, link, odooId, page.limit, page.after);
    },
    history: (family, model, odooId, page) => readHistory(db, family, model, odooId, page),
    fieldValue: (model, odooId, field, includeArchived) =>
      openFieldValue(db, model, odooId, field, includeArchived),
  };
}
