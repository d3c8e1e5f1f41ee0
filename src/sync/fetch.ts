/**
 * Reading from Odoo for the sync: stored-field lists (cached per process for a while: a schema
 * change in Odoo reaches the copy within minutes, and idle runs stay a handful of calls), id scans
 * with keyset paging, and the fetch of one page of BCs with all their lines.
 */
import { OdooError } from '../clients/odoo/odoo-errors.js';
import type { OdooCallOptions, OdooDomain, OdooRecord } from '../clients/odoo/odoo-types.js';
import { toOdooDatetime } from '../clients/odoo/odoo-values.js';
import { writeDateOf, lineParentId } from './map-records.js';
import {
  BC_LINE_MODEL,
  BC_MODEL,
  LINE_PARENT_FIELD,
  REQUIRED_BC_FIELDS,
  REQUIRED_LINE_FIELDS,
  SYNC_CONTEXT,
} from './models.js';
import type { OdooSource } from './odoo-source.js';
import type { BcPayload } from './upsert-bc.js';

export interface SyncFields {
  readonly bc: readonly string[];
  readonly line: readonly string[];
}

/** How many ids one keyset `search` call returns. Ids are small: large pages keep calls few. */
export const ID_SCAN_PAGE_SIZE = 10_000;

export function createFieldsCache(ttlMs: number, now: () => number = Date.now) {
  let cached: { fields: SyncFields; atMs: number } | undefined;
  return async function syncFields(
    source: OdooSource,
    call?: OdooCallOptions,
  ): Promise<SyncFields> {
    if (cached && now() - cached.atMs < ttlMs) return cached.fields;
    const [bc, line] = await Promise.all([
      source.storedFields(BC_MODEL, call),
      source.storedFields(BC_LINE_MODEL, call),
    ]);
    const names = (fields: typeof bc, required: readonly string[]) =>
      [...new Set([...fields.map((f) => f.name), ...required])].sort();
    const fields = { bc: names(bc, REQUIRED_BC_FIELDS), line: names(line, REQUIRED_LINE_FIELDS) };
    cached = { fields, atMs: now() };
    return fields;
  };
}

export type FieldsCache = ReturnType<typeof createFieldsCache>;

/** All ids matching a domain, keyset-paged on id (never offset: the set changes while we read). */
export async function scanIds(
  source: OdooSource,
  model: string,
  domain: OdooDomain,
  call?: OdooCallOptions,
): Promise<number[]> {
  const ids: number[] = [];
  let lastId = 0;
  for (;;) {
    const page = await source.search(
      model,
      [...domain, ['id', '>', lastId]],
      { order: 'id asc', limit: ID_SCAN_PAGE_SIZE, context: SYNC_CONTEXT },
      call,
    );
    ids.push(...page);
    if (page.length < ID_SCAN_PAGE_SIZE) return ids;
    lastId = page[page.length - 1]!;
  }
}

/** `write_date >= since`, or everything when there is no watermark yet. */
export function changedSince(since: Date | null): OdooDomain {
  return since ? [['write_date', '>=', toOdooDatetime(since)]] : [];
}

export interface LineScan {
  /** BCs whose lines changed in the window, whether or not the BC itself did. */
  readonly bcIds: number[];
  readonly maxWriteDate: Date | null;
}

/** Lines change without their BC's `write_date` moving: find the BCs whose lines did. */
export async function scanChangedLines(
  source: OdooSource,
  since: Date | null,
  pageSize: number,
  call?: OdooCallOptions,
): Promise<LineScan> {
  const bcIds = new Set<number>();
  let maxWriteDate: Date | null = null;
  let lastId = 0;
  for (;;) {
    const page = await source.searchRead(
      BC_LINE_MODEL,
      [...changedSince(since), ['id', '>', lastId]],
      {
        fields: [LINE_PARENT_FIELD, 'write_date'],
        order: 'id asc',
        limit: pageSize,
        context: SYNC_CONTEXT,
        load: '',
      },
      call,
    );
    for (const line of page) {
      bcIds.add(lineParentId(line));
      const date = writeDateOf(line, BC_LINE_MODEL);
      if (!maxWriteDate || date > maxWriteDate) maxWriteDate = date;
    }
    if (page.length < pageSize) break;
    lastId = page[page.length - 1]!.id;
  }
  return { bcIds: [...bcIds].sort((a, b) => a - b), maxWriteDate };
}

export interface FetchedPage {
  readonly items: BcPayload[];
  /** Ids asked for that Odoo no longer has (deleted since the scan). */
  readonly missingIds: number[];
  readonly maxWriteDate: Date | null;
}

/** One page of BCs by id, and every line of those BCs: two calls (more only for huge pages of lines). */
export async function fetchBcPage(
  source: OdooSource,
  ids: readonly number[],
  fields: SyncFields,
  lineLimit: number,
  call?: OdooCallOptions,
): Promise<FetchedPage> {
  const bcs = await source.read(BC_MODEL, ids, fields.bc, { context: SYNC_CONTEXT }, call);
  const linesByBc = new Map<number, OdooRecord[]>(bcs.map((bc) => [bc.id, []]));
  let lastId = 0;
  if (bcs.length > 0) {
    for (;;) {
      const lines = await source.searchRead(
        BC_LINE_MODEL,
        [
          [LINE_PARENT_FIELD, 'in', bcs.map((bc) => bc.id)],
          ['id', '>', lastId],
        ],
        { fields: fields.line, order: 'id asc', limit: lineLimit, context: SYNC_CONTEXT },
        call,
      );
      for (const line of lines) linesByBc.get(lineParentId(line))?.push(line);
      if (lines.length < lineLimit) break;
      lastId = lines[lines.length - 1]!.id;
    }
  }
  let maxWriteDate: Date | null = null;
  for (const bc of bcs) {
    const date = writeDateOf(bc, BC_MODEL);
    if (!maxWriteDate || date > maxWriteDate) maxWriteDate = date;
  }
  const found = new Set(bcs.map((bc) => bc.id));
  return {
    items: bcs.map((bc) => ({ bc, lines: linesByBc.get(bc.id) ?? [] })),
    missingIds: ids.filter((id) => !found.has(id)),
    maxWriteDate,
  };
}

export interface IsolatedPage extends FetchedPage {
  /** BCs Odoo refused to give even one by one: each gets a job of its own that reads it fresh. */
  readonly unreadable: { odooId: number; error: OdooError }[];
}

/**
 * A page whose read fails for a reason tied to its records (a fault 1, 2 or 4: a broken computed
 * field, an access rule) is read again BC by BC, so one bad BC fails alone instead of taking its
 * page down with it. Transport failures and refused credentials are not about records: they
 * propagate and the page is retried as a whole.
 */
export async function fetchBcPageIsolating(
  source: OdooSource,
  ids: readonly number[],
  fields: SyncFields,
  lineLimit: number,
  call?: OdooCallOptions,
): Promise<IsolatedPage> {
  try {
    return { ...(await fetchBcPage(source, ids, fields, lineLimit, call)), unreadable: [] };
  } catch (error) {
    if (!isRecordLevelFailure(error) || ids.length === 1) throw error;
  }
  const items: BcPayload[] = [];
  const missingIds: number[] = [];
  const unreadable: { odooId: number; error: OdooError }[] = [];
  let maxWriteDate: Date | null = null;
  for (const id of ids) {
    try {
      const page = await fetchBcPage(source, [id], fields, lineLimit, call);
      items.push(...page.items);
      missingIds.push(...page.missingIds);
      if (page.maxWriteDate && (!maxWriteDate || page.maxWriteDate > maxWriteDate))
        maxWriteDate = page.maxWriteDate;
    } catch (error) {
      if (!isRecordLevelFailure(error)) throw error;
      unreadable.push({ odooId: id, error });
    }
  }
  return { items, missingIds, maxWriteDate, unreadable };
}

function isRecordLevelFailure(error: unknown): error is OdooError {
  return (
    error instanceof OdooError &&
    !error.retryable &&
    (error.code === 'ODOO_USER_ERROR' ||
      error.code === 'ODOO_ACCESS' ||
      error.code === 'ODOO_SERVER_FAULT')
  );
}
