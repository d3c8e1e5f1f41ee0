/**
 * The reconcile (job `reconcile`, daily and on demand) heals what the incremental runs cannot see
 * or let slip: it lists every BC and line Odoo has (archived included) with its `write_date`,
 * stages the lists in PostgreSQL, and compares them with the copy in SQL — so it works in bounded
 * memory whatever the size of the tables. Then it:
 * - archives the live BCs Odoo no longer lists (never deletes them);
 * - reads again every BC Odoo has that the copy lacks, holds archived or holds at another
 *   `write_date`, and every BC with a line missing, different or gone, and writes it;
 * - archives at once a BC found deleted between its scan and its read.
 *
 * Safety stop: when Odoo lists less than SYNC_RECONCILE_MIN_RATIO of the copy's live BCs (what
 * both hold, over what the copy holds — new BCs in Odoo cannot mask a mass disappearance), it
 * archives nothing: a changed API user or record rule looks exactly like a mass deletion.
 */
import { sql } from 'drizzle-orm';
import type { OdooCallOptions, OdooRecord } from '../clients/odoo/odoo-types.js';
import { parseOdooDatetime } from '../clients/odoo/odoo-values.js';
import type { Db } from '../db/create-db.js';
import type { ReconcileScanKind } from '../db/schema/index.js';
import { rowsOf } from '../db/sql-rows.js';
import { archiveBcs } from './archive.js';
import { mapBc, type MappedBc } from './map-records.js';
import { BC_LINE_MODEL, BC_MODEL, BC_SYNC_KEY, LINE_PARENT_FIELD } from './models.js';
import { countCalls } from './odoo-source.js';
import { confirmGone, readBcPageIsolating, scanAll, type SyncSchema } from './odoo-reads.js';
import {
  countOutcome,
  mergeReports,
  reportOf,
  type RunCounts,
  type RunReport,
} from './run-counts.js';
import { closeAbandonedRuns, closeRun, openRun, recordSkippedRun, toRunError } from './run-log.js';
import { withRunLease, type RunRef } from './run-lease.js';
import { recordFailures } from './sync-failures.js';
import { ReconcileSafetyStop } from './sync-errors.js';
import { markReconciled, readSyncState, releaseLease, takeLease } from './sync-state.js';
import type { SyncDeps } from './sync-deps.js';
import { writeBcBatches } from './write-bcs.js';

export type ReconcileOutcome =
  | { status: 'paused' }
  | { status: 'skipped'; runId: number }
  | ({ status: 'succeeded'; runId: number; odooBcs: number } & RunCounts);

/** Archived BCs per transaction. */
const ARCHIVE_BATCH = 1_000;

export async function reconcile(
  deps: SyncDeps,
  input: { trigger: string; owner: string; scheduled: boolean },
  call?: OdooCallOptions,
): Promise<ReconcileOutcome> {
  const { db, logger, settings } = deps;
  if (input.scheduled && (await readSyncState(db, BC_SYNC_KEY))?.pausedAt) {
    logger.info('scheduled reconcile not started: the schedule is paused');
    return { status: 'paused' };
  }
  const taken = await takeLease(db, {
    key: BC_SYNC_KEY,
    owner: input.owner,
    leaseSeconds: settings.leaseSeconds,
  });
  if (!taken) {
    const heldBy = (await readSyncState(db, BC_SYNC_KEY))?.leaseOwner ?? null;
    const runId = await recordSkippedRun(db, {
      kind: 'reconcile',
      trigger: input.trigger,
      leaseOwner: input.owner,
      error: {
        code: 'SYNC_LEASE_HELD',
        message: `another run holds the lease (${heldBy ?? 'unknown'})`,
      },
    });
    logger.info({ runId, heldBy }, 'reconcile skipped: another run holds the lease');
    return { status: 'skipped', runId };
  }
  await closeAbandonedRuns(db, input.owner);
  const row = await openRun(db, {
    kind: 'reconcile',
    trigger: input.trigger,
    leaseOwner: input.owner,
  });
  const run: RunRef = { runId: row.id, lease: taken.lease };
  const odoo = countCalls(deps.odoo);
  try {
    const { report, odooBcs } = await withRunLease(deps, run.lease, call?.signal, (signal) =>
      reconcileUnderLease({ ...deps, odoo }, run, { signal }),
    );
    const counts = { ...report.counts, odooCalls: odoo.calls };
    await closeRun(db, run.runId, {
      status: counts.failed > 0 ? 'partial' : 'succeeded',
      counts,
      errors: report.errors,
    });
    await markReconciled(db, BC_SYNC_KEY);
    logger.info({ runId: run.runId, odooBcs, ...counts }, 'reconcile done');
    return { status: 'succeeded', runId: run.runId, odooBcs, ...counts };
  } catch (error) {
    await closeRun(db, run.runId, {
      status: 'failed',
      errors: [toRunError(error)],
      counts: { odooCalls: odoo.calls },
    });
    logger.error({ runId: run.runId, err: error }, 'reconcile failed');
    throw error;
  } finally {
    await clearStage(db);
    await releaseLease(db, run.lease);
  }
}

async function reconcileUnderLease(
  deps: SyncDeps,
  run: RunRef,
  call: OdooCallOptions,
): Promise<{ report: RunReport; odooBcs: number }> {
  const { db, settings } = deps;
  await clearStage(db);
  const schema = await deps.schema(deps.odoo, call);
  let odooBcs = 0;
  for await (const page of scanAll(deps.odoo, BC_MODEL, schema.context, call)) {
    odooBcs += page.length;
    await stage(db, run.runId, 'bc', page);
  }
  for await (const page of scanAll(deps.odoo, BC_LINE_MODEL, schema.context, call))
    await stage(db, run.runId, 'line', page);

  const [overlap] = rowsOf<{ live: number; listed: number }>(
    await db.execute(sql`
      select count(*)::int as live,
        count(*) filter (where exists (
          select 1 from sync_reconcile_scan s
          where s.run_id = ${run.runId} and s.kind = 'bc' and s.odoo_id = b.odoo_id))::int as listed
      from scrap_dimagaz_bc b where b.archived_at is null`),
  );
  const { live, listed } = overlap!;
  if (live > 0 && listed < live * settings.reconcileMinRatio) {
    throw new ReconcileSafetyStop(
      `Odoo lists only ${listed} of the ${live} live BCs the copy holds (below the ratio ${settings.reconcileMinRatio}); nothing archived. Check the Odoo user's access, then lower SYNC_RECONCILE_MIN_RATIO if the deletions are real.`,
    );
  }

  const reports: RunReport[] = [];
  const context = { runId: run.runId, lease: run.lease };
  for (let lastId = 0; ;) {
    const vanished = rowsOf<{ odoo_id: number }>(
      await db.execute(sql`
        select b.odoo_id from scrap_dimagaz_bc b
        where b.archived_at is null and b.odoo_id > ${lastId} and not exists (
          select 1 from sync_reconcile_scan s
          where s.run_id = ${run.runId} and s.kind = 'bc' and s.odoo_id = b.odoo_id)
        order by b.odoo_id limit ${ARCHIVE_BATCH}`),
    ).map((row) => row.odoo_id);
    if (vanished.length === 0) break;
    const archived = await archiveBcs(db, vanished, 'deleted in Odoo', context);
    reports.push(reportOf({ archived: archived.length }));
    lastId = vanished[vanished.length - 1]!;
  }

  await stageRefetch(db, run.runId);
  for (let lastId = 0; ;) {
    const ids = rowsOf<{ odoo_id: number }>(
      await db.execute(sql`
        select odoo_id from sync_reconcile_scan
        where run_id = ${run.runId} and kind = 'refetch' and odoo_id > ${lastId}
        order by odoo_id limit ${settings.pageSize}`),
    ).map((row) => row.odoo_id);
    if (ids.length === 0) break;
    reports.push(await refetch(deps, run, ids, schema, call));
    lastId = ids[ids.length - 1]!;
  }
  return { report: mergeReports(reports), odooBcs };
}

/** Reads BCs again and writes them; those that fail wait in sync_failure. */
async function refetch(
  deps: SyncDeps,
  run: RunRef,
  ids: readonly number[],
  schema: SyncSchema,
  call: OdooCallOptions,
): Promise<RunReport> {
  const { db, logger, settings } = deps;
  const context = { runId: run.runId, lease: run.lease };
  const page = await readBcPageIsolating(deps.odoo, ids, schema, call);
  const failures: { odooId: number; error: unknown }[] = page.unreadable.map((entry) => ({
    odooId: entry.odooId,
    error: entry.error,
  }));
  const mapped: MappedBc[] = [];
  for (const item of page.items) {
    try {
      mapped.push(mapBc(item));
    } catch (error) {
      failures.push({ odooId: item.bc.id, error });
    }
  }
  const written = await writeBcBatches(db, mapped, context, logger);
  failures.push(...written.failed);
  const gone = await confirmGone(deps.odoo, page.missingIds, schema, call);
  const archived = await archiveBcs(db, gone, 'deleted in Odoo', context);
  const runErrors = failures.map(({ odooId, error }) => toRunError(error, odooId));
  await recordFailures(
    db,
    runErrors.map((error) => ({
      odooId: error.odooId!,
      error,
      runId: run.runId,
      jobId: `reconcile-${run.runId}`,
    })),
    settings.failureBackoffBaseMs,
  );
  return mergeReports([
    ...written.outcomes.map((outcome) => reportOf(countOutcome(outcome))),
    reportOf({ archived: archived.length, failed: failures.length }, runErrors),
  ]);
}

/** One page of Odoo's ids and stamps into the stage. */
async function stage(
  db: Db,
  runId: number,
  kind: ReconcileScanKind,
  records: readonly OdooRecord[],
): Promise<void> {
  const rows = records.map((record) => ({
    id: record.id,
    bc: kind === 'line' ? parentId(record[LINE_PARENT_FIELD]) : null,
    wd: stampOf(record.write_date),
  }));
  await db.execute(sql`
    insert into sync_reconcile_scan (run_id, kind, odoo_id, bc_odoo_id, write_date)
    select ${runId}, ${kind}, x.id, x.bc, x.wd
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(id int, bc int, wd timestamptz)
    on conflict do nothing`);
}

/**
 * The BCs to read again, each once: Odoo has them and the copy lacks them, holds them archived
 * or at another stamp; or one of their lines is missing, different or moved; or the copy holds
 * a line of theirs that Odoo no longer has.
 */
async function stageRefetch(db: Db, runId: number): Promise<void> {
  await db.execute(sql`
    insert into sync_reconcile_scan (run_id, kind, odoo_id)
    select ${runId}, 'refetch', ids.id from (
      select s.odoo_id as id from sync_reconcile_scan s
        left join scrap_dimagaz_bc b on b.odoo_id = s.odoo_id
        where s.run_id = ${runId} and s.kind = 'bc'
          and (b.odoo_id is null or b.archived_at is not null
            or b.odoo_write_date is distinct from s.write_date)
      union
      select s.bc_odoo_id from sync_reconcile_scan s
        left join scrap_dimagaz_bc_line l on l.odoo_id = s.odoo_id
        where s.run_id = ${runId} and s.kind = 'line' and s.bc_odoo_id is not null
          and (l.odoo_id is null or l.bc_odoo_id <> s.bc_odoo_id
            or l.odoo_write_date is distinct from s.write_date)
      union
      select l.bc_odoo_id from scrap_dimagaz_bc_line l
        join scrap_dimagaz_bc b on b.odoo_id = l.bc_odoo_id and b.archived_at is null
        where not exists (
          select 1 from sync_reconcile_scan s
          where s.run_id = ${runId} and s.kind = 'line' and s.odoo_id = l.odoo_id)
    ) ids
    where exists (
      select 1 from sync_reconcile_scan s
      where s.run_id = ${runId} and s.kind = 'bc' and s.odoo_id = ids.id)
    on conflict do nothing`);
}

/** Only the lease holder reconciles, so any staged row is its own or a dead reconcile's. */
async function clearStage(db: Db): Promise<void> {
  await db.execute(sql`truncate sync_reconcile_scan`);
}

function parentId(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (Array.isArray(value) && typeof value[0] === 'number') return value[0];
  return null;
}

function stampOf(value: unknown): string | null {
  try {
    return parseOdooDatetime(value)?.toISOString() ?? null;
  } catch {
    return null;
  }
}
