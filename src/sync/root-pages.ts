/**
 * The pages of root records as Odoo has them now, with their children, and the isolation that
 * keeps one poisoned record from taking its page down. Every read passes the schema's context
 * (odoo-reads.ts): `active_test` false, the sync user's `lang` and `tz`.
 */
import { isOdooError, type OdooError } from '../clients/odoo/odoo-errors.js';
import type { OdooCallOptions, OdooDomain, OdooRecord } from '../clients/odoo/odoo-types.js';
import type { ChildModel, RecordFamily } from '../families/family.js';
import type { RootPayload } from '../families/map-record.js';
import type { FamilySchema } from './odoo-reads.js';
import type { OdooSource } from './odoo-source.js';
import { ReadWindows, withinAnswer } from './read-windows.js';

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
  const roots = await readByIds(source, root.model, ids, fields, ids.length, {
    schema,
    call,
    windowed,
  });
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
  const found: OdooRecord[] = [];
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
    for (const record of records) found.push(record);
    const listed = ids?.length ?? records.length;
    if (listed < limit) break;
    lastId = ids?.at(-1) ?? records[records.length - 1]!.id;
    windows.read(listed);
  }
  return byRoot(child, rootIds, found);
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
  const fields = schema.fields[child.model] ?? child.requiredFields;
  const ids = [...new Set(roots.flatMap((root) => listedIds(root[listedBy])))].sort(
    (a, b) => a - b,
  );
  const children = await readByIds(source, child.model, ids, fields, childLimit(roots.length), {
    schema,
    call,
    windowed,
  });
  return byRoot(
    child,
    roots.map((root) => root.id),
    children,
  );
}

/** Children by their root, each root's in id order; a child of no root asked for is left out. */
function byRoot(
  child: ChildModel,
  rootIds: readonly number[],
  children: readonly OdooRecord[],
): Map<number, OdooRecord[]> {
  const grouped = new Map<number, OdooRecord[]>(rootIds.map((id) => [id, []]));
  for (const record of children) grouped.get(rootIdOf(child, record))?.push(record);
  for (const listed of grouped.values()) listed.sort((a, b) => a.id - b.id);
  return grouped;
}

/**
 * Records by id, `size` per call, fewer for a call whose answer is past `call.maxAnswerBytes`
 * (ReadWindows; not `windowed`: such a call fails the read), in the order of `ids`.
 */
async function readByIds(
  source: OdooSource,
  model: string,
  ids: readonly number[],
  fields: readonly string[],
  size: number,
  read: { schema: FamilySchema; call: OdooCallOptions | undefined; windowed: boolean },
): Promise<OdooRecord[]> {
  const { schema, call, windowed } = read;
  const records: OdooRecord[] = [];
  const windows = new ReadWindows(size);
  while (windows.done < ids.length) {
    const window = ids.slice(windows.done, windows.done + windows.next);
    const answer = await withinAnswer(call, windowed ? window.length : 0, (options) =>
      source.read(model, window, fields, { context: schema.context }, options),
    );
    if (answer === undefined) windows.tooLarge(window.length);
    else {
      for (const record of answer) records.push(record);
      windows.read(window.length);
    }
  }
  return records;
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
