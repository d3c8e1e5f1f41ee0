/**
 * Everything the sync reads from Odoo: the schema (stored fields and the context of every read),
 * the change scans that decide a run's BCs and its watermarks, the pages of BCs with their lines,
 * and the isolation that keeps one poisoned BC from taking its page down.
 *
 * Every read passes `active_test: false` (archived BCs sync with `active=false` instead of
 * looking deleted) and the sync user's own `lang` and `tz`: over the external API Odoo answers
 * in the context it is given, and without `lang` translated names come back in English.
 */
import { isOdooError, type OdooError } from '../clients/odoo/odoo-errors.js';
import type {
  OdooCallOptions,
  OdooContext,
  OdooDomain,
  OdooRecord,
} from '../clients/odoo/odoo-types.js';
import { parseOdooDatetime, toOdooDatetime } from '../clients/odoo/odoo-values.js';
import { lineParentId, type BcPayload } from './map-records.js';
import {
  BC_LINE_MODEL,
  BC_MODEL,
  LINE_PARENT_FIELD,
  REQUIRED_BC_FIELDS,
  REQUIRED_LINE_FIELDS,
} from './models.js';
import type { OdooSource } from './odoo-source.js';

/** The stored fields each read asks for, and the context it passes. */
export interface SyncSchema {
  readonly fields: { readonly bc: readonly string[]; readonly line: readonly string[] };
  readonly context: OdooContext;
}

export type SchemaCache = (source: OdooSource, call?: OdooCallOptions) => Promise<SyncSchema>;

/** Keeps the schema for other processes (see schema-store.ts); failures only cost a read. */
export interface SchemaStore {
  load(): Promise<{ schema: SyncSchema; savedAtMs: number } | undefined>;
  save(schema: SyncSchema): Promise<void>;
}

/**
 * The schema, read once per `ttlMs` (a field added in Odoo reaches the copy within that time),
 * shared with other processes through `store`: a fresh process reads what a sibling saved within
 * the TTL instead of asking Odoo. `configured` (ODOO_CONTEXT) overrides the user's own context;
 * with both `lang` and `tz` given there is no `context_get` call. `active_test` is always false.
 */
export function createSchemaCache(
  ttlMs: number,
  configured: OdooContext = {},
  now: () => number = Date.now,
  store?: SchemaStore,
): SchemaCache {
  let cached: { schema: SyncSchema; atMs: number } | undefined;
  return async function schema(source, call) {
    if (cached && now() - cached.atMs < ttlMs) return cached.schema;
    const stored = await store?.load().catch(() => undefined);
    if (stored && now() - stored.savedAtMs < ttlMs) {
      cached = { schema: stored.schema, atMs: stored.savedAtMs };
      return stored.schema;
    }
    const needsUser = !('lang' in configured && 'tz' in configured);
    const [bc, line, user] = await Promise.all([
      source.storedFields(BC_MODEL, call),
      source.storedFields(BC_LINE_MODEL, call),
      needsUser ? source.userContext(call) : Promise.resolve({}),
    ]);
    const names = (fields: typeof bc, required: readonly string[]) =>
      [...new Set([...fields.map((f) => f.name), ...required])].sort();
    const own = Object.fromEntries(
      Object.entries(user).filter(([key]) => key === 'lang' || key === 'tz'),
    );
    const fresh: SyncSchema = {
      fields: { bc: names(bc, REQUIRED_BC_FIELDS), line: names(line, REQUIRED_LINE_FIELDS) },
      context: { ...own, ...configured, active_test: false },
    };
    cached = { schema: fresh, atMs: now() };
    await store?.save(fresh).catch(() => undefined);
    return fresh;
  };
}

/** Records per scan call: two small fields each, so large pages keep calls few. */
export const SCAN_PAGE_SIZE = 10_000;

/** `write_date >= since`, or everything when there is no watermark yet. */
export function changedSince(since: Date | null): OdooDomain {
  return since ? [['write_date', '>=', toOdooDatetime(since)]] : [];
}

/** What a scan asks of each record: its stamp, and a line's BC. */
function scanFields(model: typeof BC_MODEL | typeof BC_LINE_MODEL): string[] {
  return model === BC_LINE_MODEL ? ['write_date', LINE_PARENT_FIELD] : ['write_date'];
}

/**
 * The records of a model written since `since` (every record, archived included, without it),
 * a page at a time, keyset-paged on id (offsets skip records in a set that changes while it is
 * read): each page is used and dropped before the next is asked for, so a scan holds one page
 * whatever the size of its window.
 */
export async function* scanPages(
  source: OdooSource,
  model: typeof BC_MODEL | typeof BC_LINE_MODEL,
  since: Date | null,
  context: OdooContext,
  call?: OdooCallOptions,
  pageSize: number = SCAN_PAGE_SIZE,
): AsyncGenerator<OdooRecord[]> {
  let lastId = 0;
  for (;;) {
    call?.signal?.throwIfAborted();
    const page = await source.searchRead(
      model,
      [...changedSince(since), ['id', '>', lastId]],
      { fields: scanFields(model), order: 'id asc', limit: pageSize, context, load: '' },
      call,
    );
    if (page.length > 0) yield page;
    if (page.length < pageSize) return;
    lastId = page[page.length - 1]!.id;
  }
}

/**
 * The largest `write_date` of a model in one call: what a scan of every record would give as its
 * next watermark, for the runs that read every BC anyway (the first, a full one) and so need no
 * list of the BCs whose lines changed.
 */
export async function latestWriteDate(
  source: OdooSource,
  model: typeof BC_MODEL | typeof BC_LINE_MODEL,
  context: OdooContext,
  call?: OdooCallOptions,
): Promise<Date | null> {
  const [latest] = await source.searchRead(
    model,
    [['write_date', '!=', false]],
    { fields: ['write_date'], order: 'write_date desc, id desc', limit: 1, context, load: '' },
    call,
  );
  return latest ? (scannedDate(latest) ?? null) : null;
}

/** A scanned record's stamp; undefined when it has none the sync can use. */
export function scannedDate(record: OdooRecord): Date | undefined {
  try {
    return parseOdooDatetime(record.write_date) ?? undefined;
  } catch {
    return undefined;
  }
}

/** A line's BC, or undefined for a line that has none: there is no BC to copy it under. */
export function scannedParent(record: OdooRecord): number | undefined {
  try {
    return lineParentId(record);
  } catch {
    return undefined;
  }
}

/** A page of BCs as Odoo has them now. */
export interface BcPage {
  readonly items: BcPayload[];
  /** Ids asked for that Odoo no longer has (deleted since they were listed). */
  readonly missingIds: number[];
}

/** Lines of one page of BCs per call: pages of big BCs take a few calls. */
function lineLimit(bcs: number): number {
  return Math.max(1_000, bcs * 20);
}

/** BCs by id and every line of those BCs: two calls (more only for huge pages of lines). */
export async function readBcPage(
  source: OdooSource,
  ids: readonly number[],
  schema: SyncSchema,
  call?: OdooCallOptions,
): Promise<BcPage> {
  const { fields, context } = schema;
  const bcs = await source.read(BC_MODEL, ids, fields.bc, { context }, call);
  const linesByBc = new Map<number, OdooRecord[]>(bcs.map((bc) => [bc.id, []]));
  const limit = lineLimit(bcs.length);
  let lastId = 0;
  while (bcs.length > 0) {
    const lines = await source.searchRead(
      BC_LINE_MODEL,
      [
        [LINE_PARENT_FIELD, 'in', bcs.map((bc) => bc.id)],
        ['id', '>', lastId],
      ],
      { fields: fields.line, order: 'id asc', limit, context },
      call,
    );
    for (const line of lines) linesByBc.get(parentOf(line))?.push(line);
    if (lines.length < limit) break;
    lastId = lines[lines.length - 1]!.id;
  }
  const found = new Set(bcs.map((bc) => bc.id));
  return {
    items: bcs.map((bc) => ({ bc, lines: linesByBc.get(bc.id) ?? [] })),
    missingIds: ids.filter((id) => !found.has(id)),
  };
}

/** The BC id of a line found by `bc_id in [...]` (many2one `[id, name]`, or a bare id). */
function parentOf(line: OdooRecord): number {
  const value = line[LINE_PARENT_FIELD];
  return Array.isArray(value) ? (value[0] as number) : (value as number);
}

export interface IsolatedPage extends BcPage {
  /** BCs Odoo would not give even alone: each gets a job of its own. */
  readonly unreadable: { odooId: number; error: OdooError }[];
}

/**
 * A page whose read fails even after the client's own retries is split in halves until the BCs
 * that break it stand alone: a broken computed field (fault 1), an access rule (fault 4), or a
 * record whose read kills Odoo's worker (a reset connection, a 502 from the proxy). When both
 * halves fail on the transport and Odoo does not answer a trivial call either, Odoo is down, not
 * a record: the page fails as a whole and is retried later. Refused credentials and aborts are
 * never about records and always propagate.
 */
export async function readBcPageIsolating(
  source: OdooSource,
  ids: readonly number[],
  schema: SyncSchema,
  call?: OdooCallOptions,
): Promise<IsolatedPage> {
  try {
    return { ...(await readBcPage(source, ids, schema, call)), unreadable: [] };
  } catch (error) {
    if (!isRecordSuspect(error)) throw error;
    if (ids.length === 1)
      return { items: [], missingIds: [], unreadable: [{ odooId: ids[0]!, error }] };
    if (isTransportFailure(error) && !(await odooAnswers(source, schema, call))) throw error;
  }
  const middle = ids.length >>> 1;
  // One half after the other: a page that breaks Odoo's workers must not break two at once.
  const left = await readBcPageIsolating(source, ids.slice(0, middle), schema, call);
  const right = await readBcPageIsolating(source, ids.slice(middle), schema, call);
  return {
    items: [...left.items, ...right.items],
    missingIds: [...left.missingIds, ...right.missingIds],
    unreadable: [...left.unreadable, ...right.unreadable],
  };
}

function isRecordSuspect(error: unknown): error is OdooError {
  return isOdooError(error) && error.code !== 'ODOO_AUTH' && error.code !== 'ODOO_ABORTED';
}

function isTransportFailure(error: OdooError): boolean {
  return ['ODOO_NETWORK', 'ODOO_TIMEOUT', 'ODOO_HTTP', 'ODOO_PROTOCOL'].includes(error.code);
}

/** Whether Odoo answers a call that touches no record (an empty search). */
async function odooAnswers(
  source: OdooSource,
  schema: SyncSchema,
  call?: OdooCallOptions,
): Promise<boolean> {
  try {
    await source.search(BC_MODEL, [['id', '=', 0]], { limit: 1, context: schema.context }, call);
    return true;
  } catch (error) {
    if (isOdooError(error) && isTransportFailure(error)) return false;
    throw error;
  }
}

/**
 * Of BCs a read did not return, those Odoo really has no more: `read` drops deleted ids
 * silently, and archiving on a false "missing" would hide a live BC until the next reconcile.
 */
export async function confirmGone(
  source: OdooSource,
  ids: readonly number[],
  schema: SyncSchema,
  call?: OdooCallOptions,
): Promise<number[]> {
  if (ids.length === 0) return [];
  const present = new Set(
    await source.search(BC_MODEL, [['id', 'in', [...ids]]], { context: schema.context }, call),
  );
  return ids.filter((id) => !present.has(id));
}
