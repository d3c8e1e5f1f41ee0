/**
 * The pages of root records as Odoo has them now, with their children (isolated-pages.ts keeps
 * one poisoned record from taking its page down). Every read passes the schema's context
 * (odoo-reads.ts): `active_test` false, the sync user's `lang` and `tz`.
 *
 * A record too large for a page's answer is read alone, in parts, and the fields this process
 * found large in a model are left out of the reads of its records and read apart, in reads bounded
 * by bytes (record-parts.ts; docs/sync.md, "Large values").
 */
import { isOdooError, OdooError } from '../clients/odoo/index.js';
import type {
  OdooCallOptions,
  OdooDomain,
  OdooRecord,
  OdooTree,
  OdooTreeBranch,
} from '../clients/odoo/odoo-types.js';
import type { ChildModel, ModelDeclaration, RecordFamily } from '../families/family.js';
import type { RootPayload } from '../families/map-record.js';
import type { AppError } from '../lib/errors.js';
import type { LargeReads } from './large-reads.js';
import type { FamilySchema } from './odoo-reads.js';
import type { OdooSource } from './odoo-source.js';
import { ReadWindows, withinAnswer } from './read-windows.js';
import { readInParts, type Refuse, withDeferred } from './record-parts.js';
import { RecordChangingError } from './sync-errors.js';

/** A page of root records as Odoo has them now. */
export interface RootPage {
  readonly items: RootPayload[];
  /** Ids asked for that Odoo no longer has (deleted since they were listed). */
  readonly missingIds: number[];
  /**
   * Roots left out because they or a child of theirs cannot be read whole (a value past the
   * largest the copy takes, a record that kept changing while read in parts): each fails alone.
   */
  readonly refused: { odooId: number; error: AppError }[];
}

/** How the reads of one page go. */
interface Reading {
  readonly schema: FamilySchema;
  readonly call: OdooCallOptions | undefined;
  /** False: an answer past `call.maxAnswerBytes` fails the read (no parts, no windows). */
  readonly windowed: boolean;
  /** Where values read alone are staged; without it a record alone is read whole. */
  readonly large: LargeReads | undefined;
}

/** Children of one page of roots per call: pages of big roots take a few calls. */
function childLimit(roots: number): number {
  return Math.max(1_000, roots * 20);
}

/**
 * Roots by id and every child of those roots: one call per model (more for huge pages).
 *
 * With `call.maxAnswerBytes`, a call whose answer is past it is asked again in parts, down to a
 * call of one record; with `large`, a record whose answer alone is past it is read in parts, each
 * large value staged (see the module's header); without, it is read whole, whatever its size.
 */
export async function readRootPage(
  source: OdooSource,
  family: RecordFamily,
  ids: readonly number[],
  schema: FamilySchema,
  call?: OdooCallOptions,
  /** False: an answer past `call.maxAnswerBytes` fails the read with `ODOO_ANSWER_TOO_LARGE`. */
  windowed = true,
  large?: LargeReads,
): Promise<RootPage> {
  const reading: Reading = { schema, call, windowed, large };
  const position = new Map(ids.map((id, i) => [id, i]));
  let page = await readRootsOnce(source, family, ids, reading);
  for (let reads = 1; ; reads += 1) {
    const changed = new Set(childrenChangedSince(family, schema, page.items));
    if (changed.size === 0) return page;
    const kept = page.items.filter((item) => !changed.has(item.root.id));
    if (reads === LISTING_READS) {
      const refused = [...changed].map((odooId) => ({
        odooId,
        error: new RecordChangingError(family.root.model, odooId, reads, 'children'),
      }));
      return { ...page, items: kept, refused: [...page.refused, ...refused] };
    }
    const again = await readRootsOnce(source, family, [...changed], reading);
    page = {
      items: [...kept, ...again.items].sort(
        (a, b) => position.get(a.root.id)! - position.get(b.root.id)!,
      ),
      missingIds: [...page.missingIds, ...again.missingIds],
      refused: [...page.refused, ...again.refused],
    };
  }
}

/**
 * Reads of a root whose list of children disagreed with the children read after it (Odoo
 * committed a deletion or a move between the two calls) before it fails alone.
 */
const LISTING_READS = 3;

/**
 * The roots whose one2many listing their children (FamilySchema.listedBy) names other children
 * than those read under them: a child deleted or moved between the two reads, or one that
 * joined. Odoo moves no stamp of the root for it, so the root is read again, not written so.
 */
function childrenChangedSince(
  family: RecordFamily,
  schema: FamilySchema,
  items: readonly RootPayload[],
): number[] {
  const listings = schema.listedBy ?? schema.childIds ?? {};
  const fields = family.children.map((child) => listings[child.model]);
  return items
    .filter((item) =>
      fields.some((field, i) => {
        if (field === undefined || !(field in item.root)) return false;
        const listed = new Set(listedIds(item.root[field]));
        const read = item.children[i]!;
        return listed.size !== read.length || read.some((child) => !listed.has(child.id));
      }),
    )
    .map((item) => item.root.id);
}

/** Roots by id and their children, each once (readRootPage). */
async function readRootsOnce(
  source: OdooSource,
  family: RecordFamily,
  ids: readonly number[],
  reading: Reading,
): Promise<RootPage> {
  const tree = await readTreePage(source, family, ids, reading);
  if (tree !== undefined) return tree;
  const { root } = family;
  const { schema } = reading;
  const refused = new Map<number, AppError>();
  const fields = schema.fields[root.model] ?? root.requiredFields;
  const roots = await readByIds(
    source,
    root.model,
    ids,
    fields,
    ids.length,
    reading,
    (partial, error) => refused.set(partial.id, error),
  );
  const rootIds = roots.map((record) => record.id);
  const refuseChild =
    (child: ChildModel, listing?: ReadonlyMap<number, number>): Refuse =>
    (partial, error) => {
      const rootId = listing?.get(partial.id) ?? scannedRoot(child, partial);
      // A child refused before its link to its root was read: its page fails, and is split.
      if (rootId === undefined) throw error;
      refused.set(rootId, error);
    };
  const children = await Promise.all(
    family.children.map((child) => {
      const listedBy = schema.childIds?.[child.model];
      return listedBy === undefined
        ? readChildren(source, child, rootIds, reading, refuseChild(child))
        : readListedChildren(source, child, roots, listedBy, reading, (listing) =>
            refuseChild(child, listing),
          );
    }),
  );
  const found = new Set(rootIds);
  return {
    items: roots
      .filter((record) => !refused.has(record.id))
      .map((record) => ({
        root: record,
        children: children.map((byRoot) => byRoot.get(record.id) ?? []),
      })),
    missingIds: ids.filter((id) => !found.has(id) && !refused.has(id)),
    refused: [...refused].map(([odooId, error]) => ({ odooId, error })),
  };
}

/**
 * Errors of a tree read after which the page is read in calls of its own, which tell its records
 * apart: a root deleted since it was listed (`web_read` refuses the call where `read` leaves the
 * root out), an answer past the call's bound (read in windows), a record or child without a field
 * (one the user may not read), a record that breaks the read.
 */
function readsApart(error: unknown): boolean {
  return (
    error instanceof OdooError &&
    !error.retryable &&
    !['ODOO_AUTH', 'ODOO_ABORTED', 'ODOO_BUDGET', 'ODOO_BUDGET_TIMEOUT'].includes(error.code)
  );
}

/**
 * Roots by id and their children in one call and one transaction, where Odoo can (17.0 on:
 * docs/odoo.md, "Roots and their children in one call"): a family with children, each listed by
 * a one2many the roots' read holds (FamilySchema.listedBy), no field read apart. Undefined when it cannot, or
 * when the call did not give the page whole (readsApart): the page is then read as before.
 */
async function readTreePage(
  source: OdooSource,
  family: RecordFamily,
  ids: readonly number[],
  reading: Reading,
): Promise<RootPage | undefined> {
  const { schema, call, windowed } = reading;
  const many2one = schema.many2one;
  if (
    source.readTree === undefined ||
    many2one === undefined ||
    family.children.length === 0 ||
    ids.length === 0
  )
    return undefined;
  const treeFields = (model: ModelDeclaration) => {
    const fields = schema.fields[model.model] ?? model.requiredFields;
    const whole = deferredFields(model.model, fields, reading).deferred.length === 0;
    return whole ? { fields, many2one: many2one[model.model] ?? [] } : undefined;
  };
  const rootFields = treeFields(family.root);
  const branches = family.children.map((child) => {
    const field = schema.listedBy?.[child.model];
    const fields = treeFields(child);
    return field === undefined || fields === undefined ? undefined : { field, ...fields };
  });
  if (rootFields === undefined || branches.some((branch) => branch === undefined)) return undefined;
  let tree: OdooTree | undefined;
  try {
    tree = await source.readTree(
      family.root.model,
      ids,
      { ...rootFields, branches: branches as OdooTreeBranch[] },
      { context: schema.context },
      call,
    );
  } catch (error) {
    if (!windowed && isOdooError(error, 'ODOO_ANSWER_TOO_LARGE')) throw error;
    if (readsApart(error)) return undefined;
    throw error;
  }
  if (tree === undefined) return undefined;
  const { records } = tree;
  const children = branches.map((branch, i) => {
    const byId = new Map(tree.branches[i]!.map((record) => [record.id, record]));
    return new Map(
      records.map((record) => [
        record.id,
        listedIds(record[branch!.field])
          .flatMap((id) => byId.get(id) ?? [])
          .sort((a, b) => a.id - b.id),
      ]),
    );
  });
  const found = new Set(records.map((record) => record.id));
  return {
    items: records.map((record) => ({
      root: record,
      children: children.map((byRoot) => byRoot.get(record.id) ?? []),
    })),
    missingIds: ids.filter((id) => !found.has(id)),
    refused: [],
  };
}

/** A child's root as its record names it; undefined when it was not read. */
function scannedRoot(child: ChildModel, record: OdooRecord): number | undefined {
  if (!(child.parentField in record)) return undefined;
  const id = rootIdOf(child, record);
  return Number.isSafeInteger(id) ? id : undefined;
}

/** Whether records read alone are read in parts: with a bound, windows and a stage. */
function inParts(reading: Reading): reading is Reading & { large: LargeReads } {
  return (
    reading.large !== undefined && reading.windowed && reading.call?.maxAnswerBytes !== undefined
  );
}

/** Every child of these roots, by root: a window of them per call (readRootPage). */
async function readChildren(
  source: OdooSource,
  child: ChildModel,
  rootIds: readonly number[],
  reading: Reading,
  refuse: Refuse,
): Promise<Map<number, OdooRecord[]>> {
  const { schema, call, windowed } = reading;
  const found: OdooRecord[] = [];
  const fields = schema.fields[child.model] ?? child.requiredFields;
  const { asked, deferred } = deferredFields(child.model, fields, reading);
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
    const records = await withinAnswer(
      call,
      windowed ? limit : 0,
      (answer) =>
        ids === undefined
          ? source.searchRead(child.model, domain, { fields: asked, ...options }, answer)
          : ids.length === 0
            ? Promise.resolve([])
            : source.read(child.model, ids, asked, { context: schema.context }, answer),
      inParts(reading),
    );
    if (records === undefined) {
      if (limit > 1 || !inParts(reading)) {
        windows.tooLarge(limit);
        continue;
      }
      // One child too large for an answer: its id, then its parts.
      const [id] = ids ?? (await source.search(child.model, domain, options, call));
      if (id === undefined) break;
      const read = await readInParts(source, child.model, id, fields, reading);
      if ('record' in read) found.push(read.record);
      else if ('refused' in read) refuse(read.partial ?? { id }, read.refused);
      lastId = id;
      windows.read(1);
      continue;
    }
    const complete =
      deferred.length === 0 || !inParts(reading)
        ? records
        : await withDeferred(source, child.model, records, fields, deferred, reading, refuse);
    for (const record of complete) found.push(record);
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
  reading: Reading,
  refuseOf: (listing: ReadonlyMap<number, number>) => Refuse,
): Promise<Map<number, OdooRecord[]>> {
  const fields = reading.schema.fields[child.model] ?? child.requiredFields;
  const listing = new Map(
    roots.flatMap((root) => listedIds(root[listedBy]).map((id) => [id, root.id] as const)),
  );
  const ids = [...listing.keys()].sort((a, b) => a - b);
  const children = await readByIds(
    source,
    child.model,
    ids,
    fields,
    childLimit(roots.length),
    reading,
    refuseOf(listing),
  );
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

/** The fields of a model its records' reads ask for, and those read apart (found large). */
function deferredFields(
  model: string,
  fields: readonly string[],
  reading: Reading,
): { asked: readonly string[]; deferred: readonly string[] } {
  if (!inParts(reading)) return { asked: fields, deferred: [] };
  const found = reading.large.values.foundLarge(model);
  const deferred = fields.filter((field) => found.has(field) && field !== 'write_date');
  return deferred.length === 0
    ? { asked: fields, deferred }
    : { asked: fields.filter((field) => !found.has(field)), deferred };
}

/**
 * Records by id, `size` per call, fewer for a call whose answer is past `call.maxAnswerBytes`
 * (ReadWindows; not `windowed`: such a call fails the read), in the order of `ids`; a record
 * alone past it in parts (readInParts). A record Odoo no longer has is left out.
 */
async function readByIds(
  source: OdooSource,
  model: string,
  ids: readonly number[],
  fields: readonly string[],
  size: number,
  reading: Reading,
  refuse: Refuse,
): Promise<OdooRecord[]> {
  const { schema, call, windowed } = reading;
  const { asked, deferred } = deferredFields(model, fields, reading);
  const records: OdooRecord[] = [];
  const windows = new ReadWindows(size);
  while (windows.done < ids.length) {
    const window = ids.slice(windows.done, windows.done + windows.next);
    const answer = await withinAnswer(
      call,
      windowed ? window.length : 0,
      (options) => source.read(model, window, asked, { context: schema.context }, options),
      inParts(reading),
    );
    if (answer !== undefined) {
      const complete =
        deferred.length === 0 || !inParts(reading)
          ? answer
          : await withDeferred(source, model, answer, fields, deferred, reading, refuse);
      for (const record of complete) records.push(record);
      windows.read(window.length);
    } else if (window.length > 1 || !inParts(reading)) {
      windows.tooLarge(window.length);
    } else {
      const read = await readInParts(source, model, window[0]!, fields, reading);
      if ('record' in read) records.push(read.record);
      else if ('refused' in read) refuse(read.partial ?? { id: window[0]! }, read.refused);
      windows.read(1);
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
