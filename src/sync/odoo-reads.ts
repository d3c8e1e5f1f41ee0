/**
 * Everything the sync reads from Odoo: the schema (each model's stored fields and the context of
 * every read), the change scans that decide a run's records and its watermarks, the pages of root
 * records with their children, and the isolation that keeps one poisoned record from taking its
 * page down.
 *
 * Every read passes `active_test: false` (archived records sync with `active=false` instead of
 * looking deleted) and the sync user's own `lang` and `tz`: over the external API Odoo answers
 * in the context it is given, and without `lang` translated names come back in English.
 */
import { isOdooError, type OdooError } from '../clients/odoo/odoo-errors.js';
import type {
  OdooCallOptions,
  OdooContext,
  OdooDomain,
  OdooRecord,
  OdooStoredField,
} from '../clients/odoo/odoo-types.js';
import { parseOdooDatetime, toOdooDatetime } from '../clients/odoo/odoo-values.js';
import {
  familyModels,
  isChild,
  type ChildModel,
  type ModelDeclaration,
  type RecordFamily,
  type RelationScan,
} from '../families/family.js';
import { FIELD_NAME, isAdminOnlyField, isSecretField } from '../families/field-policy.js';
import { parentIdOf, type RootPayload } from '../families/map-record.js';
import type { OdooSource } from './odoo-source.js';
import { ReadWindows, withinAnswer } from './read-windows.js';

/** The stored fields each read of a family asks for, by model, and the context it passes. */
export interface FamilySchema {
  readonly fields: Readonly<Record<string, readonly string[]>>;
  /**
   * The stored fields Odoo lists that the reads leave out on purpose (secrets, binaries, a
   * one2many the copy cannot keep exact, what a declaration does not select), by model: a copy
   * made before they were left out loses them at its next write. Any other field the copy holds
   * and a read lacks is one Odoo no longer lists: its last value is kept (docs/models.md).
   */
  readonly unread: Readonly<Record<string, readonly string[]>>;
  readonly context: OdooContext;
  /**
   * Child models read by id (`search`, then `read`), not by `search_read`: those whose reads hold
   * a many2many or one2many. Odoo's `search_read` drops `active_test` from the context before it
   * reads, so an x2many lists no archived target (a tax archived since, a product); `read` keeps
   * the context. Absent in a schema kept by an earlier version: read by `search_read`.
   */
  readonly readById?: readonly string[];
  /**
   * Child models read by id whose ids the roots' read already lists, each with the root's
   * one2many that lists them (an unfiltered one on the child's link to its root): a page reads
   * those children by the ids its roots hold, with no search first. Absent in a schema kept by
   * an earlier version: searched.
   */
  readonly childIds?: Readonly<Record<string, string>>;
}

export type SchemaCache = (
  family: RecordFamily,
  source: OdooSource,
  call?: OdooCallOptions,
  /** `fresh`: read from Odoo now, whatever is cached (and cache what was read). */
  options?: { fresh?: boolean },
) => Promise<FamilySchema>;

/**
 * Keeps the schema for other processes (see schema-store.ts), under the family's name (and its
 * layout version, for a configured family); failures only cost a read.
 */
export interface SchemaStore {
  load(key: string): Promise<{ schema: FamilySchema; savedAtMs: number } | undefined>;
  save(key: string, schema: FamilySchema): Promise<void>;
}

/**
 * A family's schema is kept under its name and its layout: a configured family's new layout
 * (docs/models.md) reads `fields_get` again, so every row written under it was read with the
 * fields its columns come from.
 */
function schemaKey(family: RecordFamily): string {
  const version = family.root.layoutVersion;
  return version === undefined ? family.name : `${family.name}@${version}`;
}

/**
 * The stored fields of a model its reads ask for: all of them but secrets, fields only Odoo's
 * administrators may read, binaries and names that are no identifiers (field-policy.ts) unless the declaration names them; or its selection.
 * A one2many is read only when the copy keeps it current: a family's children are read with their
 * root, a link table's targets are scanned on their own. Any other one2many changes without its
 * record's stamp moving (a contact added to a company leaves the company's stamp), so no run
 * would ever write it again: it stays out of `data`.
 */
function selectedFields(
  family: RecordFamily,
  model: ModelDeclaration,
  stored: readonly OdooStoredField[],
  refused: ReadonlySet<string>,
): { read: string[]; unread: string[] } {
  const children = new Set(family.children.map((child) => child.model));
  const linked = new Set(model.links.map((link) => link.field));
  const selection = model.fields;
  const named = new Set([
    ...model.requiredFields,
    ...model.columns.map((column) => column.field),
    ...(selection?.only ?? []),
    ...(selection?.binary ?? []),
  ]);
  const chosen = (field: OdooStoredField) => {
    if (field.type === 'one2many' && !children.has(field.relation ?? '') && !linked.has(field.name))
      return false;
    if (named.has(field.name)) return true;
    if (selection?.only !== undefined) return false;
    return (
      field.type !== 'binary' &&
      !isSecretField(field.name) &&
      !isAdminOnlyField(field.groups) &&
      FIELD_NAME.test(field.name)
    );
  };
  const read = new Set([
    ...stored.filter(chosen).map((field) => field.name),
    ...model.requiredFields,
  ]);
  // A one2many whose targets the sync user may not read (anymore) makes Odoo refuse the whole
  // record: left out of the reads, its link table keeping what it holds, not dropped either.
  for (const name of refused) read.delete(name);
  return {
    read: [...read].sort(),
    unread: stored
      .map((field) => field.name)
      .filter((name) => !read.has(name) && !refused.has(name))
      .sort(),
  };
}

/**
 * The one2many link fields whose targets the sync user may not read, by model: `migrate` kept
 * only readable ones, but rights can be taken away since. One call per target model.
 */
async function refusedLinks(
  source: OdooSource,
  models: readonly ModelDeclaration[],
  call?: OdooCallOptions,
): Promise<Map<string, Set<string>>> {
  const targets = [
    ...new Set(
      models.flatMap((model) =>
        model.links.flatMap((link) => (link.inverse === undefined ? [] : [link.relation])),
      ),
    ),
  ];
  const readable = new Map(
    await Promise.all(
      targets.map(async (target) => [target, await source.canRead(target, call)] as const),
    ),
  );
  return new Map(
    models.map((model) => [
      model.model,
      new Set(
        model.links
          .filter((link) => link.inverse !== undefined && readable.get(link.relation) === false)
          .map((link) => link.field),
      ),
    ]),
  );
}

/**
 * Each family's schema, read once per `ttlMs` (a field added in Odoo reaches the copy within that
 * time), shared with other processes through `store`: a fresh process reads what a sibling saved
 * within the TTL instead of asking Odoo. `configured` (ODOO_CONTEXT) overrides the user's own
 * context; with both `lang` and `tz` given there is no `context_get` call. `active_test` is
 * always false.
 */
export function createSchemaCache(
  ttlMs: number,
  configured: OdooContext = {},
  now: () => number = Date.now,
  store?: SchemaStore,
): SchemaCache {
  const cached = new Map<string, { schema: FamilySchema; atMs: number }>();
  return async function schema(family, source, call, options = {}) {
    const key = schemaKey(family);
    const hit = cached.get(key);
    if (!options.fresh && hit && now() - hit.atMs < ttlMs) return hit.schema;
    const stored = options.fresh ? undefined : await store?.load(key).catch(() => undefined);
    if (stored && now() - stored.savedAtMs < ttlMs) {
      cached.set(key, { schema: stored.schema, atMs: stored.savedAtMs });
      return stored.schema;
    }
    const needsUser = !('lang' in configured && 'tz' in configured);
    const models = familyModels(family);
    // One call alone first: refused credentials meet one refusal, not one per model and target
    // at once (Odoo locks an address out after ten failed logins a minute).
    const [root, ...others] = models;
    const user = needsUser ? await source.userContext(call) : {};
    const rootFields = await source.storedFields(root!.model, call);
    const [refused, ...otherFields] = await Promise.all([
      refusedLinks(source, models, call),
      ...others.map((model) => source.storedFields(model.model, call)),
    ]);
    const storedFields = [rootFields, ...otherFields];
    const own = Object.fromEntries(
      Object.entries(user).filter(([key]) => key === 'lang' || key === 'tz'),
    );
    const selected = models.map((model, i) =>
      selectedFields(family, model, storedFields[i]!, refused.get(model.model) ?? new Set()),
    );
    const toMany = (i: number) => {
      const read = new Set(selected[i]!.read);
      return storedFields[i]!.some(
        (field) =>
          read.has(field.name) && (field.type === 'many2many' || field.type === 'one2many'),
      );
    };
    const readById = models.filter((model, i) => i > 0 && toMany(i)).map((model) => model.model);
    const fresh: FamilySchema = {
      fields: Object.fromEntries(models.map((model, i) => [model.model, selected[i]!.read])),
      unread: Object.fromEntries(models.map((model, i) => [model.model, selected[i]!.unread])),
      context: { ...own, ...configured, active_test: false },
      readById,
      childIds: listedChildren(family, rootFields, selected[0]!.read, readById),
    };
    cached.set(key, { schema: fresh, atMs: now() });
    await store?.save(key, fresh).catch(() => undefined);
    return fresh;
  };
}

/**
 * The children read by id whose roots' read lists them all: by a one2many of the root, read with
 * it, on the child's link to its root, with no domain or context that would leave some out.
 */
function listedChildren(
  family: RecordFamily,
  rootFields: readonly OdooStoredField[],
  rootRead: readonly string[],
  readById: readonly string[],
): Record<string, string> {
  const read = new Set(rootRead);
  const listed: Record<string, string> = {};
  for (const child of family.children) {
    if (!readById.includes(child.model)) continue;
    const field = rootFields.find(
      (candidate) =>
        candidate.type === 'one2many' &&
        candidate.relation === child.model &&
        candidate.inverse === child.parentField &&
        candidate.unfiltered === true &&
        read.has(candidate.name),
    );
    if (field !== undefined) listed[child.model] = field.name;
  }
  return listed;
}

/** Records per scan call: two small fields each, so large pages keep calls few. */
export const SCAN_PAGE_SIZE = 10_000;

/** `write_date >= since`, or everything when there is no watermark yet. */
export function changedSince(since: Date | null): OdooDomain {
  return since ? [['write_date', '>=', toOdooDatetime(since)]] : [];
}

/** What a change scan lists: a model's records, and the few fields that tell their root. */
export interface ScanTarget {
  readonly model: string;
  /** `write_date` first; then a child's link to its root, or a one2many target's owner. */
  readonly fields: readonly string[];
  /** Only the records this domain keeps. */
  readonly domain?: OdooDomain;
}

/** A model of the family, scanned: its stamp, and a child's root. */
export function scanTargetOf(model: ModelDeclaration): ScanTarget {
  return {
    model: model.model,
    fields: isChild(model) ? ['write_date', model.parentField] : ['write_date'],
  };
}

/**
 * The targets of a one2many link table, scanned: their stamp and their owner now. A change scan
 * lists every target written, whatever the field's domain (a contact archived leaves the
 * `child_ids` of its company: its company must be read again); the reconcile, which compares the
 * whole relation with the copy, lists what reading the field would give (`listing`).
 */
export function relationTargetOf(
  scan: RelationScan,
  options: { listing?: boolean } = {},
): ScanTarget {
  const { domain } = scan.link;
  return {
    model: scan.link.relation,
    fields: ['write_date', scan.link.inverse],
    ...(options.listing === true && domain !== undefined ? { domain } : {}),
  };
}

/**
 * The records of a model written since `since` (every record, archived included, without it),
 * a page at a time, keyset-paged on id (offsets skip records in a set that changes while it is
 * read): each page is used and dropped before the next is asked for, so a scan holds one page
 * whatever the size of its window.
 */
export async function* scanPages(
  source: OdooSource,
  target: ScanTarget,
  since: Date | null,
  context: OdooContext,
  call?: OdooCallOptions,
  pageSize: number = SCAN_PAGE_SIZE,
): AsyncGenerator<OdooRecord[]> {
  let lastId = 0;
  for (;;) {
    call?.signal?.throwIfAborted();
    const page = await source.searchRead(
      target.model,
      [...changedSince(since), ...(target.domain ?? []), ['id', '>', lastId]],
      { fields: [...target.fields], order: 'id asc', limit: pageSize, context, load: '' },
      call,
    );
    if (page.length > 0) yield page;
    if (page.length < pageSize) return;
    lastId = page[page.length - 1]!.id;
  }
}

/**
 * The largest `write_date` of a model in one call: what a scan of every record would give as its
 * next watermark, for the runs that read every root anyway (the first, a full one) and so need
 * no list of the roots whose children changed.
 */
export async function latestWriteDate(
  source: OdooSource,
  model: string,
  context: OdooContext,
  call?: OdooCallOptions,
  /** Odoo's clock plus the margin: a later stamp is never a watermark (run-plan.ts). */
  notAfter?: Date,
): Promise<Date | null> {
  const [latest] = await source.searchRead(
    model,
    [
      ['write_date', '!=', false],
      ...(notAfter ? [['write_date', '<=', toOdooDatetime(notAfter)] as const] : []),
    ],
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

/** A child's root, or undefined for a child that has none: there is no root to copy it under. */
export function scannedParent(child: ChildModel, record: OdooRecord): number | undefined {
  try {
    return parentIdOf(child, record);
  } catch {
    return undefined;
  }
}

/** A one2many target's owner now (its inverse many2one); undefined when it has none. */
export function scannedOwner(scan: RelationScan, record: OdooRecord): number | undefined {
  const value = record[scan.link.inverse];
  const id: unknown = Array.isArray(value) ? value[0] : value;
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/** A page of root records as Odoo has them now. */
export interface RootPage {
  readonly items: RootPayload[];
  /** Ids asked for that Odoo no longer has (deleted since they were listed). */
  readonly missingIds: number[];
}

/** Children of one page of roots per call: pages of big roots take a few calls. */
function childLimit(roots: number): number {
  return Math.max(1_000, roots * 20);
}

/**
 * Roots by id and every child of those roots: one call per model (more for huge pages).
 *
 * With `call.maxAnswerBytes`, a call whose answer is past it is asked again in parts, down to a
 * call of one record, read whatever its size (ReadWindows): a record far larger than a page (a
 * long text, a binary) is read alone, at the cost of Odoo answering a few calls it was part of
 * without their answers being read (docs/sync.md, "One large value").
 */
export async function readRootPage(
  source: OdooSource,
  family: RecordFamily,
  ids: readonly number[],
  schema: FamilySchema,
  call?: OdooCallOptions,
  /** False: an answer past `call.maxAnswerBytes` fails the read with `ODOO_ANSWER_TOO_LARGE`. */
  windowed = true,
): Promise<RootPage> {
  const { root } = family;
  const fields = schema.fields[root.model] ?? root.requiredFields;
  const roots: OdooRecord[] = [];
  const windows = new ReadWindows(ids.length);
  while (windows.done < ids.length) {
    const window = ids.slice(windows.done, windows.done + windows.next);
    const records = await withinAnswer(call, windowed ? window.length : 0, (options) =>
      source.read(root.model, window, fields, { context: schema.context }, options),
    );
    if (records === undefined) windows.tooLarge(window.length);
    else {
      for (const record of records) roots.push(record);
      windows.read(window.length);
    }
  }
  const rootIds = roots.map((record) => record.id);
  const children = await Promise.all(
    family.children.map((child) => {
      const listedBy = schema.childIds?.[child.model];
      return listedBy === undefined
        ? readChildren(source, child, rootIds, schema, call, windowed)
        : readListedChildren(source, child, roots, listedBy, schema, call, windowed);
    }),
  );
  const found = new Set(rootIds);
  return {
    items: roots.map((record) => ({
      root: record,
      children: children.map((byRoot) => byRoot.get(record.id) ?? []),
    })),
    missingIds: ids.filter((id) => !found.has(id)),
  };
}

/** Every child of these roots, by root: a window of them per call (readRootPage). */
async function readChildren(
  source: OdooSource,
  child: ChildModel,
  rootIds: readonly number[],
  schema: FamilySchema,
  call: OdooCallOptions | undefined,
  windowed: boolean,
): Promise<Map<number, OdooRecord[]>> {
  const byRoot = new Map<number, OdooRecord[]>(rootIds.map((id) => [id, []]));
  const fields = schema.fields[child.model] ?? child.requiredFields;
  const byId = schema.readById?.includes(child.model) === true;
  const windows = new ReadWindows(childLimit(rootIds.length));
  let lastId = 0;
  while (rootIds.length > 0) {
    const limit = windows.next;
    const domain: OdooDomain = [
      [child.parentField, 'in', [...rootIds]],
      ['id', '>', lastId],
    ];
    const options = { order: 'id asc', limit, context: schema.context };
    // `read` keeps active_test false for the x2many fields too (see FamilySchema.readById).
    const ids = byId ? await source.search(child.model, domain, options, call) : undefined;
    const records = await withinAnswer(call, windowed ? limit : 0, (answer) =>
      ids === undefined
        ? source.searchRead(child.model, domain, { fields, ...options }, answer)
        : ids.length === 0
          ? Promise.resolve([])
          : source.read(child.model, ids, fields, { context: schema.context }, answer),
    );
    if (records === undefined) {
      windows.tooLarge(limit);
      continue;
    }
    for (const record of records) byRoot.get(rootIdOf(child, record))?.push(record);
    const listed = ids?.length ?? records.length;
    if (listed < limit) break;
    lastId = ids?.at(-1) ?? records[records.length - 1]!.id;
    windows.read(listed);
  }
  for (const children of byRoot.values()) children.sort((a, b) => a.id - b.id);
  return byRoot;
}

/**
 * Every child of these roots by the ids their one2many `listedBy` holds: read a window at a time,
 * with no search (FamilySchema.childIds). A child moved to another root since the roots were read
 * is left out here, and its own change scan brings it to its new root.
 */
async function readListedChildren(
  source: OdooSource,
  child: ChildModel,
  roots: readonly OdooRecord[],
  listedBy: string,
  schema: FamilySchema,
  call: OdooCallOptions | undefined,
  windowed: boolean,
): Promise<Map<number, OdooRecord[]>> {
  const byRoot = new Map<number, OdooRecord[]>(roots.map((root) => [root.id, []]));
  const fields = schema.fields[child.model] ?? child.requiredFields;
  const ids = [...new Set(roots.flatMap((root) => listedIds(root[listedBy])))].sort(
    (a, b) => a - b,
  );
  const windows = new ReadWindows(childLimit(roots.length));
  while (windows.done < ids.length) {
    const window = ids.slice(windows.done, windows.done + windows.next);
    const records = await withinAnswer(call, windowed ? window.length : 0, (answer) =>
      source.read(child.model, window, fields, { context: schema.context }, answer),
    );
    if (records === undefined) {
      windows.tooLarge(window.length);
      continue;
    }
    for (const record of records) byRoot.get(rootIdOf(child, record))?.push(record);
    windows.read(window.length);
  }
  for (const children of byRoot.values()) children.sort((a, b) => a.id - b.id);
  return byRoot;
}

/** The ids a one2many's value holds. */
function listedIds(value: unknown): number[] {
  return Array.isArray(value)
    ? value.filter((id): id is number => typeof id === 'number' && Number.isSafeInteger(id))
    : [];
}

/** The root of a child found by `<parent> in [...]` (many2one `[id, name]`, or a bare id). */
function rootIdOf(child: ChildModel, record: OdooRecord): number {
  const value = record[child.parentField];
  return Array.isArray(value) ? (value[0] as number) : (value as number);
}

export interface IsolatedPage extends RootPage {
  /** Roots Odoo would not give even alone: each gets a job of its own. */
  readonly unreadable: { odooId: number; error: OdooError }[];
  /** The schema the page was read with: a fresher one when the one given named a field Odoo lacks. */
  readonly schema: FamilySchema;
}

/**
 * Whether Odoo may have refused a read for what the schema asks rather than for the records: a
 * field it no longer has (`ValueError: Invalid field …`: a Studio field deleted, a module
 * uninstalled), or a one2many whose targets the sync user may no longer read (an access error on
 * the whole page). A schema read now tells; a record's own access error stays one after it.
 */
function isSchemaFault(error: OdooError): boolean {
  return (
    error.code === 'ODOO_ACCESS' ||
    (error.code === 'ODOO_SERVER_FAULT' && /Invalid field\b/.test(error.message))
  );
}

/** The schema with a one2many left out of its owner's reads (its targets refused to the user). */
export function withoutLink(schema: FamilySchema, owner: string, field: string): FamilySchema {
  return {
    ...schema,
    fields: {
      ...schema.fields,
      [owner]: (schema.fields[owner] ?? []).filter((name) => name !== field),
    },
  };
}

/**
 * A page whose read fails even after the client's own retries is split in halves until the
 * records that break it stand alone: a broken computed field (fault 1), an access rule (fault 4),
 * or a record whose read kills Odoo's worker (a reset connection, a 502 from the proxy). When both
 * halves fail on the transport and Odoo does not answer a trivial call either, Odoo is down, not
 * a record: the page fails as a whole and is retried later. Refused credentials and aborts are
 * never about records and always propagate.
 */
export async function readRootPageIsolating(
  source: OdooSource,
  family: RecordFamily,
  ids: readonly number[],
  schema: FamilySchema,
  call?: OdooCallOptions,
  /** The family's schema read from Odoo now: asked once, when Odoo lacks a field it names. */
  refresh?: () => Promise<FamilySchema>,
): Promise<IsolatedPage> {
  try {
    return { ...(await readRootPage(source, family, ids, schema, call)), unreadable: [], schema };
  } catch (error) {
    if (!isRecordSuspect(error)) throw error;
    if (refresh && isSchemaFault(error))
      return readRootPageIsolating(source, family, ids, await refresh(), call);
    if (ids.length === 1)
      return { items: [], missingIds: [], unreadable: [{ odooId: ids[0]!, error }], schema };
    if (isTransportFailure(error) && !(await odooAnswers(source, family, schema, call)))
      throw error;
  }
  const middle = ids.length >>> 1;
  // One half after the other: a page that breaks Odoo's workers must not break two at once.
  const left = await readRootPageIsolating(source, family, ids.slice(0, middle), schema, call);
  const right = await readRootPageIsolating(source, family, ids.slice(middle), schema, call);
  return {
    items: [...left.items, ...right.items],
    missingIds: [...left.missingIds, ...right.missingIds],
    unreadable: [...left.unreadable, ...right.unreadable],
    schema,
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
  family: RecordFamily,
  schema: FamilySchema,
  call?: OdooCallOptions,
): Promise<boolean> {
  try {
    await source.search(
      family.root.model,
      [['id', '=', 0]],
      { limit: 1, context: schema.context },
      call,
    );
    return true;
  } catch (error) {
    if (isOdooError(error) && isTransportFailure(error)) return false;
    throw error;
  }
}

/**
 * Of roots a read did not return, those Odoo really has no more: `read` drops deleted ids
 * silently, and archiving on a false "missing" would hide a live record until the next reconcile.
 */
export async function confirmGone(
  source: OdooSource,
  family: RecordFamily,
  ids: readonly number[],
  schema: FamilySchema,
  call?: OdooCallOptions,
): Promise<number[]> {
  if (ids.length === 0) return [];
  const present = new Set(
    await source.search(
      family.root.model,
      [['id', 'in', [...ids]]],
      { context: schema.context },
      call,
    ),
  );
  return ids.filter((id) => !present.has(id));
}
