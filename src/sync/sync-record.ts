/**
 * One root record read fresh from Odoo and written (job `sync-record` within a run, job
 * `resync-record` on demand): a root its page could not read or write, a pending failure, an
 * operator's resync. A root Odoo no longer has is archived. Success clears its pending failure.
 *
 * A run's record job works under the run's lease while the run lasts. Retried after its run ended
 * (an admin pressing "retry" in bull-board), it is a resync of its own: there is no lease left to
 * fence with, and no run left to interleave with.
 */
import type { OdooCallOptions } from '../clients/odoo/odoo-types.js';
import type { RecordFamily } from '../families/family.js';
import { mapRoot, type MappedRoot, type RootPayload } from '../families/map-record.js';
import { archiveRoots } from './archive.js';
import { countCalls, type CountedSource } from './odoo-source.js';
import { type FamilySchema } from './odoo-reads.js';
import { confirmGone, readRootPageIsolating } from './isolated-pages.js';
import {
  addCounts,
  countOutcome,
  outcomeOf,
  reportOf,
  ZERO_COUNTS,
  type RecordOutcome,
  type RunCounts,
  type RunReport,
} from './run-counts.js';
import { canMoveChildren, movedNeighbours } from './moved-children.js';
import { pageReadCall } from './page-size.js';
import { withRunLease, type RunRef } from './run-lease.js';
import { clearFailures, recordFailures } from './sync-failures.js';
import { NeighbourDeferredError } from './sync-errors.js';
import type { SyncDeps } from './sync-deps.js';
import { readBegins, writeRoots, type WriteContext } from './write-records.js';
import { withLargeReads, type LargeReads } from './large-reads.js';
import { readRun, toRunError } from './run-log.js';

export interface SyncedRecord {
  readonly outcome: RecordOutcome;
  readonly report: RunReport;
}

export interface RecordInput {
  readonly family: RecordFamily;
  readonly odooId: number;
}

export async function syncRunRecord(
  deps: SyncDeps,
  input: RecordInput & { run: RunRef },
  call?: OdooCallOptions,
): Promise<SyncedRecord> {
  if ((await readRun(deps.db, input.run.runId))?.status !== 'running')
    return syncRecord(deps, { ...input, run: null }, call);
  return withRunLease(deps, input.run.lease, call?.signal, (signal) =>
    syncRecord(deps, input, { signal }),
  );
}

export async function syncRecord(
  deps: SyncDeps,
  input: RecordInput & { run: RunRef | null; trigger?: string },
  call?: OdooCallOptions,
): Promise<SyncedRecord> {
  const odoo = countCalls(deps.odoo);
  const cached = await deps.schema(input.family, odoo, call);
  const readSince = await readBegins(deps.db);
  // A record too large for an answer has its values staged as they are read, until its write.
  return withLargeReads(deps, async (large) => {
    const page = await readRootPageIsolating(
      odoo,
      input.family,
      [input.odooId],
      cached,
      pageReadCall(deps.settings, call),
      () => deps.schema(input.family, odoo, call, { fresh: true }),
      large,
    );
    // Alone, an unreadable record is this job's failure: it retries with backoff.
    const [unreadable] = page.unreadable;
    if (unreadable) throw unreadable.error;
    return writeOrArchive(
      deps,
      { ...input, item: page.items[0], readSince },
      { odoo, schema: page.schema, large },
      call,
    );
  });
}

/**
 * Writes a root as just read (`item`), or archives it when Odoo confirms it is gone; clears its
 * pending failure. `trigger` marks the audit rows of a change made outside a run.
 */
export async function writeOrArchive(
  deps: SyncDeps,
  input: RecordInput & {
    run: RunRef | null;
    trigger?: string;
    item: RootPayload | undefined;
    /** When the read of `item` began (`readBegins`): a root archived since is not restored. */
    readSince: Date;
  },
  reading: { odoo: CountedSource; schema: FamilySchema; large: LargeReads },
  call?: OdooCallOptions,
): Promise<SyncedRecord> {
  const { db, logger } = deps;
  const { family, odooId, run, item } = input;
  const { odoo, schema } = reading;
  const context = {
    runId: run?.runId ?? null,
    lease: run?.lease ?? null,
    trigger: run ? undefined : (input.trigger ?? 'resync'),
    odooNow: odoo.serverTime?.(),
    readSince: input.readSince,
  };
  let outcome: RecordOutcome;
  let counts: RunCounts = ZERO_COUNTS;
  if (item) {
    // Read before the write: the copy still holds its children where they were.
    const neighbours = canMoveChildren(family)
      ? await readNeighbours(deps, { family, odooId, context }, reading, item, call)
      : [];
    // One batch: a child passed from one root to the other is a move, not a deletion and a creation.
    const [written, ...others] = await writeRoots(
      db,
      family,
      [mapRoot(family, item, schema.unread), ...neighbours],
      context,
    );
    outcome = written!;
    counts = others.reduce<RunCounts>(
      (sum, other) => addCounts(sum, countOutcome(other)),
      ZERO_COUNTS,
    );
  } else {
    const gone = await confirmGone(odoo, family, [odooId], schema, call);
    const archived = await archiveRoots(db, family, gone, 'deleted in Odoo', context);
    outcome = outcomeOf(odooId, archived.length > 0 ? 'archived' : 'missing');
    await clearFailures(db, family.name, [odooId]);
  }
  logger.info(
    {
      family: family.name,
      runId: context.runId,
      trigger: context.trigger,
      odooId,
      action: outcome.action,
    },
    `${family.noun} ${odooId} synced alone`,
  );
  return {
    outcome,
    report: reportOf({ ...addCounts(counts, countOutcome(outcome)), odooCalls: odoo.calls }),
  };
}

/**
 * The roots a moved child left or joined (moved-children.ts), read to be written in the same
 * batch as the root read alone; and theirs in turn, until none is new: a root read with it
 * brings its own children, and one of them may have moved from a root read by no one (the root
 * it left would list it until the verify, the next run's scan finding it where the copy then
 * holds it). One Odoo cannot read now is recorded as a pending failure, for the same reason, and
 * so is each past the page of roots one job reads (`pageSize`): a mass move is a run's to read.
 */
async function readNeighbours(
  deps: SyncDeps,
  input: RecordInput & { context: WriteContext },
  reading: { odoo: CountedSource; schema: FamilySchema; large: LargeReads },
  item: RootPayload,
  call?: OdooCallOptions,
): Promise<MappedRoot[]> {
  const { db, logger } = deps;
  const { family, context } = input;
  // Roots left to a later run wait in sync_failure: no scan would list them again.
  const pend = (failures: readonly { odooId: number; error: unknown }[]) =>
    recordFailures(
      db,
      family.name,
      failures.map(({ odooId, error }) => ({
        odooId,
        error: toRunError(error),
        runId: context.runId,
        jobId: `with-${input.odooId}`,
      })),
      deps.settings.failureBackoffBaseMs,
    );
  const read = new Set([input.odooId]);
  const mapped: MappedRoot[] = [];
  for (let payloads = [item]; payloads.length > 0;) {
    const found = new Set<number>();
    for (const payload of payloads)
      for (const id of await movedNeighbours(
        db,
        reading.odoo,
        family,
        payload,
        reading.schema.context,
        call,
      ))
        if (!read.has(id)) found.add(id);
    if (found.size === 0) break;
    // One job reads a page of roots with its own at most: a mass move leaves the rest to a run.
    const room = Math.max(0, deps.settings.pageSize - (read.size - 1));
    const taken = [...found].slice(0, room);
    const deferred = [...found].slice(room);
    if (deferred.length > 0) {
      await pend(
        deferred.map((odooId) => ({
          odooId,
          error: new NeighbourDeferredError(
            family.noun,
            odooId,
            input.odooId,
            deps.settings.pageSize,
          ),
        })),
      );
      logger.warn(
        { family: family.name, odooId: input.odooId, deferred },
        `${family.noun} ${input.odooId}: ${deferred.length} ${family.noun} records a moved child links to it are past a page; left to the next run`,
      );
    }
    if (taken.length === 0) break;
    for (const id of taken) read.add(id);
    const page = await readRootPageIsolating(
      reading.odoo,
      family,
      taken,
      reading.schema,
      pageReadCall(deps.settings, call),
      undefined,
      reading.large,
    );
    if (page.unreadable.length > 0) await pend(page.unreadable);
    mapped.push(...page.items.map((neighbour) => mapRoot(family, neighbour, page.schema.unread)));
    payloads = page.items;
  }
  if (read.size === 1) return [];
  const neighbours = [...read].filter((id) => id !== input.odooId);
  logger.info(
    { family: family.name, odooId: input.odooId, neighbours },
    `${family.noun} ${input.odooId}: children moved, the ${family.noun} records they left or joined are written with it`,
  );
  return mapped;
}

/** A record job's last attempt failed: the root waits in sync_failure for a later run. */
export async function recordJobFailure(
  deps: SyncDeps,
  input: RecordInput & { runId: number | null; jobId: string; error: unknown },
): Promise<void> {
  await recordFailures(
    deps.db,
    input.family.name,
    [
      {
        odooId: input.odooId,
        error: toRunError(input.error),
        runId: input.runId,
        jobId: input.jobId,
      },
    ],
    deps.settings.failureBackoffBaseMs,
  );
}
