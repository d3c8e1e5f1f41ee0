/**
 * The verify of a family (job `verify`, each night after the reconcile, and on demand) proves
 * the copy equal to Odoo by content, which no stamp can: it reads again from Odoo a slice of the
 * live roots the copy holds (`odoo_id % SYNC_VERIFY_CYCLE_DAYS`, the next slice each night, so
 * every record is checked once per cycle), page by page, compares each with the copy — data,
 * children and links, whatever the stamps say (content-drift.ts) — and writes what differs
 * through the guarded writer, its audit rows saying `drift`. What slips past every cursor is
 * found here: a second version committed in the same second by a transaction longer than the
 * overlap, a stale write of an equal stamp, a field Odoo filled without moving stamps, a renamed
 * many2one target.
 *
 * It runs under the family's lease, as the reconcile does: its writes are fenced, and no run
 * writes between its read and its write. When the fields or the context the family's reads use
 * have changed since the last verify, it checks every record instead of a slice.
 */
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { OdooCallOptions } from '../clients/odoo/odoo-types.js';
import type { Db } from '../db/create-db.js';
import { rowsOf } from '../db/sql-rows.js';
import type { RecordFamily } from '../families/family.js';
import { rootWriteShape } from '../families/write-shape.js';
import { addDrift, contentDrift, type DriftCounts } from './content-drift.js';
import { countCalls } from './odoo-source.js';
import type { FamilySchema } from './odoo-reads.js';
import { archiveGoneRecordFailed, usingPageRead, shownByLatestStamps } from './read-roots-again.js';
import { mergeReports, reportOf, type RunCounts, type RunReport } from './run-counts.js';
import { closeFailedRun, closeRun, toRunError } from './run-log.js';
import { openLeasedRun, withRunLease, type RunRef } from './run-lease.js';
import { LeaseLostError } from './sync-errors.js';
import { markVerified, releaseLease } from './sync-state.js';
import type { SyncDeps } from './sync-deps.js';
import { writeRootBatches } from './write-records.js';
import { heldPageSize } from './page-size.js';

/** SYNC_VERIFY_CYCLE_DAYS's default: every record is checked once a week. */
export const VERIFY_CYCLE_DAYS = 7;

export type VerifyOutcome =
  | { status: 'paused' }
  | { status: 'skipped'; runId: number }
  | ({
      status: 'succeeded' | 'partial';
      family: string;
      runId: number;
      /** Which records it checked: a slice of the cycle, or every record. */
      scope: { slice: number; slices: number } | 'all';
      driftFields: DriftCounts;
    } & RunCounts);

/** What the family's reads ask for: when it changes, the next verify checks every record. */
function schemaHash(schema: FamilySchema): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 16);
}

export async function verify(
  deps: SyncDeps,
  input: {
    family: RecordFamily;
    trigger: string;
    owner: string;
    scheduled: boolean;
    /** Every record, not the next slice. */
    all: boolean;
  },
  call?: OdooCallOptions,
): Promise<VerifyOutcome> {
  const { db, logger, settings } = deps;
  const { family } = input;
  const opened = await openLeasedRun(deps, { ...input, kind: 'verify' });
  if (opened.status === 'paused') return opened;
  if (opened.status === 'skipped') return { status: 'skipped', runId: opened.runId };
  const { run, state } = opened;
  const odoo = countCalls(deps.odoo);
  try {
    const { report, driftFields, scope, next } = await withRunLease(
      deps,
      run.lease,
      call?.signal,
      async (signal) => {
        // Read now, not from the cache: a field Odoo gained an hour ago is part of the proof.
        const schema = await deps.schema(family, odoo, { signal }, { fresh: true });
        const hash = schemaHash(schema);
        const slices = settings.verifyCycleDays ?? VERIFY_CYCLE_DAYS;
        const known = state.verifySchemaHash;
        // Fields or a context that changed: every record, once (a first verify knows no change).
        const everything = input.all || (known !== null && known !== hash);
        const slice = state.verifySlice % slices;
        const checked = await verifyUnderLease(
          { ...deps, odoo },
          family,
          run,
          schema,
          everything ? undefined : { slice, slices },
          { signal },
        );
        return {
          ...checked,
          scope: everything ? ('all' as const) : { slice, slices },
          // A slice moves the cycle on; a verify of everything leaves it where it was.
          next: { slice: everything ? slice : (slice + 1) % slices, schemaHash: hash },
        };
      },
    );
    const counts = { ...report.counts, odooCalls: odoo.calls };
    const status = counts.failed > 0 ? ('partial' as const) : ('succeeded' as const);
    const { closedNow } = await closeRun(db, run.runId, {
      status,
      counts,
      errors: report.errors,
      driftFields,
      heldBy: run.lease,
    });
    if (!closedNow)
      throw new LeaseLostError(
        `${input.owner} no longer holds the ${family.name} lease: another execution of this verify took it over`,
      );
    await markVerified(db, family.name, next);
    logger.info(
      {
        family: family.name,
        runId: run.runId,
        scope,
        checked: counts.recordsSeen,
        drifted: counts.drifted,
        healed: counts.healed,
        driftFields,
        odooCalls: counts.odooCalls,
      },
      `${family.name} verify done: ${counts.recordsSeen} ${family.noun}s checked, ${counts.drifted} differed from Odoo, ${counts.healed} healed`,
    );
    return {
      status,
      family: family.name,
      runId: run.runId,
      scope,
      driftFields,
      ...counts,
    };
  } catch (error) {
    await closeFailedRun(db, run, toRunError(error), odoo.calls);
    logger.error({ family: family.name, runId: run.runId, err: error }, 'verify failed');
    throw error;
  } finally {
    await releaseLease(db, run.lease);
  }
}

/** The live roots of the slice after `afterId`, a page of them. */
async function slicePage(
  db: Db,
  family: RecordFamily,
  afterId: number,
  limit: number,
  slice: { slice: number; slices: number } | undefined,
): Promise<number[]> {
  const { table } = rootWriteShape(family.root);
  const inSlice = slice ? sql`and odoo_id % ${slice.slices} = ${slice.slice}` : sql``;
  return rowsOf<{ odoo_id: number }>(
    await db.execute(sql`
      select odoo_id from ${table}
      where archived_at is null and odoo_id > ${afterId} ${inSlice}
      order by odoo_id limit ${limit}`),
  ).map((row) => row.odoo_id);
}

async function verifyUnderLease(
  deps: SyncDeps,
  family: RecordFamily,
  run: RunRef,
  schema: FamilySchema,
  slice: { slice: number; slices: number } | undefined,
  call: OdooCallOptions,
): Promise<{ report: RunReport; driftFields: DriftCounts }> {
  const { db, settings } = deps;
  const reports: RunReport[] = [];
  const driftFields: DriftCounts = {};
  const keptFields: DriftCounts = {};
  const pageSize = await heldPageSize(db, settings, family);
  // Taken before the pages: they read later, so they show at least as much.
  const shown = await shownByLatestStamps(
    deps.odoo,
    family,
    schema.context,
    settings.overlapSeconds,
    call,
  );
  for (let lastId = 0; ;) {
    call.signal?.throwIfAborted();
    const ids = await slicePage(db, family, lastId, pageSize, slice);
    if (ids.length === 0) break;
    reports.push(
      await verifyPage(deps, family, run, ids, schema, call, { driftFields, keptFields, shown }),
    );
    lastId = ids[ids.length - 1]!;
  }
  if (Object.keys(keptFields).length > 0)
    deps.logger.warn(
      { family: family.name, runId: run.runId, kept: keptFields },
      `${family.name} verify: fields Odoo no longer lists are kept in the copy with their last values, not erased: ${Object.entries(
        keptFields,
      )
        .map(([model, fields]) => `${model}: ${Object.keys(fields).sort().join(', ')}`)
        .join('; ')}`,
    );
  return { report: mergeReports(reports), driftFields };
}

/** Reads a page of roots, compares them with the copy, heals what differs. */
async function verifyPage(
  deps: SyncDeps,
  family: RecordFamily,
  run: RunRef,
  ids: readonly number[],
  schema: FamilySchema,
  call: OdooCallOptions,
  page: {
    driftFields: DriftCounts;
    keptFields: DriftCounts;
    /** With reads that may lag, the latest stamp they show whole (write-rule.ts). */
    shown: Date | undefined;
  },
): Promise<RunReport> {
  const { driftFields, keptFields } = page;
  const { db, logger } = deps;
  const { failures, missingIds, drifts, written } = await usingPageRead(
    deps,
    { odoo: deps.odoo, family, ids, schema, call },
    async (read, readSince) => {
      const drift = await contentDrift(db, family, read.mapped);
      addDrift(keptFields, drift.kept);
      const drifted = new Set(drift.drifts.map((found) => found.odooId));
      return {
        ...read,
        drifts: drift.drifts,
        written: await writeRootBatches(
          db,
          family,
          read.mapped.filter((item) => drifted.has(item.odooId)),
          {
            runId: run.runId,
            lease: run.lease,
            trigger: 'verify',
            drift: { relink: drift.relink },
            readSince,
            odooNow: deps.odoo.serverTime?.(),
            ...(page.shown ? { shownThrough: page.shown } : {}),
          },
          logger,
          deps.writeLanes,
        ),
      };
    },
  );
  // Told once the writer has decided: what it wrote, or why not.
  const actions = new Map(written.outcomes.map((outcome) => [outcome.odooId, outcome.action]));
  const failed = new Set(written.failed.map((failure) => failure.odooId));
  for (const drift of drifts) {
    addDrift(driftFields, drift.fields);
    const action = actions.get(drift.odooId);
    logger.warn(
      {
        family: family.name,
        runId: run.runId,
        odooId: drift.odooId,
        fields: drift.fields,
        action: failed.has(drift.odooId) ? 'failed' : action,
      },
      `${family.noun} ${drift.odooId}: the copy differed from Odoo; ${
        failed.has(drift.odooId)
          ? 'its write failed: it waits in the failures'
          : action === 'stale'
            ? "left as it is: the copy's version is newer than the one Odoo's reads showed"
            : 'written again'
      }`,
    );
  }
  // A drifted root written and not found stale holds Odoo's version now, though its write may
  // have found nothing left to change: a child moved between two roots of the page is put back
  // by the write of one, and the other then finds its children as Odoo lists them.
  const healed = written.outcomes.filter((outcome) => outcome.action !== 'stale').length;
  // Roots the copy holds live that Odoo no longer has: gone, once Odoo confirms it.
  const { archived, errors } = await archiveGoneRecordFailed(
    deps,
    family,
    run,
    {
      missingIds,
      failures: [...failures, ...written.failed],
      jobId: `verify-${run.runId}`,
      ...(page.shown ? { shownThrough: page.shown } : {}),
    },
    schema,
    call,
  );
  return reportOf(
    {
      pages: 1,
      recordsSeen: ids.length,
      drifted: drifts.length,
      healed,
      archived,
      failed: errors.length,
    },
    errors,
  );
}
