/**
 * What the sync reads from Odoo to plan its work: the schema (each model's stored fields and the
 * context of every read) and the change scans that decide a run's records and its watermarks.
 * The pages of root records themselves are read by root-pages.ts.
 *
 * Every read passes `active_test: false` (archived records sync with `active=false` instead of
 * looking deleted) and the sync user's own `lang` and `tz`: over the external API Odoo answers
 * in the context it is given, and without `lang` translated names come back in English.
 */
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
import { parentIdOf } from '../families/map-record.js';
import type { OdooSource } from './odoo-source.js';

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
  /**
   * Each child model's one2many on the root that lists all of them (unfiltered, on the child's
   * link to its root) and is read with the roots, read by id or not: a root whose list disagrees
   * with its children read after it was written between the two reads, and is read again
   * (root-pages.ts). Absent in a schema kept by an earlier version: `childIds`.
   */
  readonly listedBy?: Readonly<Record<string, string>>;
  /**
   * The fields read that may hold a large value, by model: text, html and binary. A record too
   * large for an answer is read with each of them alone (root-pages.ts). Absent in a schema kept
   * by an earlier version: every field of such a record is read alone.
   */
  readonly mayBeLarge?: Readonly<Record<string, readonly string[]>>;
  /**
   * The many2one fields read, by model: a read of roots with their children in one call
   * (root-pages.ts) asks for their names, which `read` gives with them. Absent in a schema kept
   * by an earlier version: roots and children are read in calls of their own.
   */
  readonly many2one?: Readonly<Record<string, readonly string[]>>;
}

/** Field types whose values may be far larger than a page: each read alone in a large record. */
const LARGE_TYPES: ReadonlySet<string> = new Set(['text', 'html', 'binary']);

const MANY2ONE: ReadonlySet<string> = new Set(['many2one']);

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
 * would ever write it again: it stays out of `data`. Each field left out says why (`check`
 * prints it: docs/sources.md, "Checking a deployment").
 */
export function fieldReading(
  family: RecordFamily,
  model: ModelDeclaration,
  stored: readonly OdooStoredField[],
  refused: ReadonlySet<string>,
): { read: string[]; leftOut: { field: string; reason: string }[] } {
  const children = new Set(family.children.map((child) => child.model));
  const linked = new Set(model.links.map((link) => link.field));
  const selection = model.fields;
  const named = new Set([
    ...model.requiredFields,
    ...model.columns.map((column) => column.field),
    ...(selection?.only ?? []),
    ...(selection?.binary ?? []),
  ]);
  /** Why a field is not read; undefined when it is. */
  const whyNot = (field: OdooStoredField): string | undefined => {
    if (field.type === 'one2many' && !children.has(field.relation ?? '') && !linked.has(field.name))
      return 'a one2many the copy could not keep current';
    if (named.has(field.name)) return undefined;
    if (selection?.only !== undefined) return 'not among the fields the declaration selects';
    if (field.type === 'binary') return 'a binary: the declaration names it to copy it';
    if (isSecretField(field.name)) return 'a secret: the declaration names it to copy it';
    if (isAdminOnlyField(field.groups)) return "only Odoo's administrators may read it";
    if (!FIELD_NAME.test(field.name)) return 'its name could not be a column';
    return undefined;
  };
  const read = new Set([
    ...stored.filter((field) => whyNot(field) === undefined).map((field) => field.name),
    ...model.requiredFields,
  ]);
  // A one2many whose targets the sync user may not read (anymore) makes Odoo refuse the whole
  // record: left out of the reads, its link table keeping what it holds, not dropped either.
  for (const name of refused) read.delete(name);
  return {
    read: [...read].sort(),
    leftOut: stored
      .filter((field) => !read.has(field.name) && !refused.has(field.name))
      .map((field) => ({ field: field.name, reason: whyNot(field) ?? 'not read' }))
      .sort((a, b) => a.field.localeCompare(b.field)),
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
      fieldReading(family, model, storedFields[i]!, refused.get(model.model) ?? new Set()),
    );
    const toMany = (i: number) => {
      const read = new Set(selected[i]!.read);
      return storedFields[i]!.some(
        (field) =>
          read.has(field.name) && (field.type === 'many2many' || field.type === 'one2many'),
      );
    };
    /** The fields of `models[i]` read whose type is among `types`. */
    const readOfTypes = (i: number, types: ReadonlySet<string>) => {
      const read = new Set(selected[i]!.read);
      return storedFields[i]!.filter((field) => read.has(field.name) && types.has(field.type))
        .map((field) => field.name)
        .sort();
    };
    const readById = models.filter((model, i) => i > 0 && toMany(i)).map((model) => model.model);
    const listedBy = listingFields(family, rootFields, selected[0]!.read);
    const fresh: FamilySchema = {
      fields: Object.fromEntries(models.map((model, i) => [model.model, selected[i]!.read])),
      unread: Object.fromEntries(
        models.map((model, i) => [model.model, selected[i]!.leftOut.map((left) => left.field)]),
      ),
      context: { ...own, ...configured, active_test: false },
      readById,
      childIds: Object.fromEntries(
        Object.entries(listedBy).filter(([model]) => readById.includes(model)),
      ),
      listedBy,
      mayBeLarge: Object.fromEntries(
        models.map((model, i) => [model.model, readOfTypes(i, LARGE_TYPES)]),
      ),
      many2one: Object.fromEntries(
        models.map((model, i) => [model.model, readOfTypes(i, MANY2ONE)]),
      ),
    };
    cached.set(key, { schema: fresh, atMs: now() });
    await store?.save(key, fresh).catch(() => undefined);
    return fresh;
  };
}

/**
 * The children whose roots' read lists them all, each with the root's one2many that does: read
 * with the root, on the child's link to its root, with no domain or context that would leave some
 * out.
 */
function listingFields(
  family: RecordFamily,
  rootFields: readonly OdooStoredField[],
  rootRead: readonly string[],
): Record<string, string> {
  const read = new Set(rootRead);
  const listed: Record<string, string> = {};
  for (const child of family.children) {
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

/**
 * The schema with a one2many left out of its owner's reads (its targets refused to the user); no
 * children are read by the ids it would have listed (FamilySchema.childIds): they are searched.
 */
export function withoutLink(schema: FamilySchema, owner: string, field: string): FamilySchema {
  const { childIds, listedBy, ...rest } = schema;
  const without = (lists: Readonly<Record<string, string>>) =>
    Object.fromEntries(Object.entries(lists).filter(([, name]) => name !== field));
  return {
    ...rest,
    fields: {
      ...schema.fields,
      [owner]: (schema.fields[owner] ?? []).filter((name) => name !== field),
    },
    ...(childIds === undefined ? {} : { childIds: without(childIds) }),
    ...(listedBy === undefined ? {} : { listedBy: without(listedBy) }),
  };
}
