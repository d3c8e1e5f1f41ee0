/**
 * Roots read again by id — a run's page, the reconcile's refetch, a verify's slice — mapped as
 * the writer takes them, and, for the steps that heal outside a run's pages, what follows the
 * write: the roots Odoo confirms gone archived, the roots that failed waiting in sync_failure.
 */
import type { OdooCallOptions, OdooContext } from '../clients/odoo/odoo-types.js';
import type { SyncRunError } from '../db/schema/index.js';
import { familyModels, type RecordFamily } from '../families/family.js';
import { mapRoot, type MappedRoot } from '../families/map-record.js';
import { archiveRoots } from './archive.js';
import { latestWriteDate, type FamilySchema } from './odoo-reads.js';
import { confirmGone, readRootPageIsolating } from './isolated-pages.js';
import type { OdooSource } from './odoo-source.js';
import { toRunError } from './run-log.js';
import type { RunRef } from './run-lease.js';
import type { SyncDeps } from './sync-deps.js';
import { clockBound, shownThrough } from './settled.js';
import { withLargeReads } from './large-reads.js';
import { pageReadCall } from './page-size.js';
import { readBegins } from './write-records.js';
import { recordFailures } from './sync-failures.js';

/** A root that could not be copied, and why. */
export interface RootFailure {
  readonly odooId: number;
  readonly error: unknown;
}

export interface MappedPage {
  readonly mapped: MappedRoot[];
  /** Roots Odoo would not give even alone, and roots that could not be mapped. */
  readonly failures: RootFailure[];
  /** Roots Odoo did not return: gone, or hidden from the sync user. */
  readonly missingIds: number[];
}

/**
 * With reads that may lag (a read replica), the latest stamp whose every version they show
 * (settled.ts), from the latest stamp of each of the family's models: one call each. Undefined
 * when the reads show every commit; the epoch when they have shown no stamp at all.
 */
export async function shownByLatestStamps(
  source: OdooSource,
  family: RecordFamily,
  context: OdooContext,
  overlapSeconds: number,
  call?: OdooCallOptions,
): Promise<Date | undefined> {
  if (source.readsMayLag?.() !== true) return undefined;
  let latest: Date | null = null;
  for (const model of familyModels(family)) {
    const bound = clockBound(source.serverTime?.());
    const stamp = await latestWriteDate(source, model.model, context, call, bound);
    if (stamp && (!latest || stamp > latest)) latest = stamp;
  }
  return shownThrough(latest, overlapSeconds) ?? new Date(0);
}

/** Reads roots with their children, a bad record alone (readRootPageIsolating), and maps them. */
export async function readMappedPage(
  ...read: Parameters<typeof readRootPageIsolating>
): Promise<MappedPage> {
  const [, family] = read;
  const page = await readRootPageIsolating(...read);
  const failures: RootFailure[] = page.unreadable.map(({ odooId, error }) => ({ odooId, error }));
  const mapped: MappedRoot[] = [];
  for (const item of page.items) {
    try {
      mapped.push(mapRoot(family, item, page.schema.unread));
    } catch (error) {
      failures.push({ odooId: item.root.id, error });
    }
  }
  return { mapped, failures, missingIds: page.missingIds };
}

/**
 * A page of roots read as the copy's steps read one (readMappedPage, each answer within the
 * page's budget), handed to `use` with the database's clock taken before the read (`readSince`:
 * a row a webhook or a resync writes meanwhile is not replaced, write-rule.ts) while the values
 * the read staged alone wait for `use`'s write (large-reads.ts).
 */
export async function usingPageRead<T>(
  deps: Pick<SyncDeps, 'db' | 'logger' | 'largeValues' | 'settings'>,
  read: {
    readonly odoo: OdooSource;
    readonly family: RecordFamily;
    readonly ids: readonly number[];
    readonly schema: FamilySchema;
    readonly call: OdooCallOptions;
    /** The family's schema read from Odoo now, when Odoo lacks a field it names. */
    readonly refresh?: () => Promise<FamilySchema>;
  },
  use: (page: MappedPage, readSince: Date) => Promise<T>,
): Promise<T> {
  const readSince = await readBegins(deps.db);
  return withLargeReads(deps, async (large) =>
    use(
      await readMappedPage(
        read.odoo,
        read.family,
        read.ids,
        read.schema,
        pageReadCall(deps.settings, read.call),
        read.refresh,
        large,
      ),
      readSince,
    ),
  );
}

/**
 * After a step outside a run's pages wrote what it read: archives the roots Odoo confirms gone
 * and records the failures in sync_failure under the step's job id.
 * @returns how many roots were archived, and the failures as the run log reports them
 */
export async function archiveGoneRecordFailed(
  deps: SyncDeps,
  family: RecordFamily,
  run: RunRef,
  input: {
    missingIds: readonly number[];
    failures: readonly RootFailure[];
    jobId: string;
    /** With reads that may lag, the latest stamp they show whole (archive.ts). */
    shownThrough?: Date;
  },
  schema: FamilySchema,
  call: OdooCallOptions,
): Promise<{ archived: number; errors: SyncRunError[] }> {
  const { db, settings } = deps;
  const gone = await confirmGone(deps.odoo, family, input.missingIds, schema, call);
  const archived = await archiveRoots(db, family, gone, 'deleted in Odoo', {
    runId: run.runId,
    lease: run.lease,
    ...(input.shownThrough ? { shownThrough: input.shownThrough } : {}),
  });
  const errors = input.failures.map(({ odooId, error }) => toRunError(error, odooId));
  await recordFailures(
    db,
    family.name,
    errors.map((error) => ({ odooId: error.odooId!, error, runId: run.runId, jobId: input.jobId })),
    settings.failureBackoffBaseMs,
  );
  return { archived: archived.length, errors };
}
