/**
 * The reconcile (job `reconcile`, daily and on demand) heals what the incremental runs cannot see
 * or let slip: it lists every BC and line Odoo has (archived included) with its `write_date`,
 * stages the lists in PostgreSQL, and compares them with the copy in SQL — so it works in bounded
 * memory whatever the size of the tables. Then it:
 * - archives the live BCs Odoo no longer lists, once Odoo confirms each is gone (a search by id,
 *   as the pages do): a stage that lacks a BC is never reason enough;
 * - reads again every BC Odoo has that the copy lacks, holds archived or holds at another
 *   `write_date`, and every BC with a line missing, different or gone, and writes it;
 * - archives at once a BC found deleted between its scan and its read.
 *
 * What it stages is its own execution's (its run and the lease token it took): a second execution
 * of the same job (BullMQ ran it again while the first went on) takes a new token, which fences
 * the first one's writes out, and neither reads nor deletes the other's rows.
 *
 * Safety stop: when Odoo lists less than SYNC_RECONCILE_MIN_RATIO of the copy's live BCs (what
 * both hold, over what the copy holds — new BCs in Odoo cannot mask a mass disappearance), it
 * archives nothing: a changed API user or record rule looks exactly like a mass deletion.
 */
import { sql } from 'drizzle-orm';
import type { OdooCallOptions, OdooRecord } from '../clients/odoo/odoo-types.js';
import type { Db } from '../db/create-db.js';
import type { ScanKind } from '../db/schema/index.js';
import { rowsOf } from '../db/sql-rows.js';
import { archiveBcs } from './archive.js';
import { mapBc, type MappedBc } from './map-records.js';
import { BC_LINE_MODEL, BC_MODEL, BC_SYNC_KEY } from './models.js';
import { countCalls } from './odoo-source.js';
import {
  confirmGone,
  readBcPageIsolating,
  scannedDate,
  scannedParent,
  scanPages,
  type SyncSchema,
} from './odoo-reads.js';
import {
  countOutcome,
  mergeReports,
  reportOf,
  type RunCounts,
  type RunReport,
} from './run-counts.js';
import { closeAbandonedRuns, closeRun, openRun, recordSkippedRun, toRunError } from './run-log.js';
import { withRunLease, type RunRef } from './run-lease.js';
import { clearEndedStages, clearStage, type StageRef } from './scan-stage.js';
import { recordFailures } from './sync-failures.js';
import { LeaseLostError, ReconcileSafetyStop } from './sync-errors.js';
import { markReconciled, readSyncState, releaseLease, takeLease } from './sync-state.js';
import type { SyncDeps } from './sync-deps.js';
import { writeBcBatches } from './write-bcs.js';

export type ReconcileOutcome =
  | { status: 'paused' }
  | { status: 'skipped'; runId: number }
  | ({ status: 'succeeded'; runId: number; odooBcs: number } & RunCounts);

/** BCs looked up in Odoo, then archived, per batch. */
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
  const stage: StageRef = { runId: run.runId, token: run.lease.token };
  await clearEndedStages(db);
  const odoo = countCalls(deps.odoo);
  try {
    const { report, odooBcs } = await withRunLease(deps, run.lease, call?.signal, (signal) =>
      reconcileUnderLease({ ...deps, odoo }, run, stage, { signal }),
    );
    const counts = { ...report.counts, odooCalls: odoo.calls };
    const { closedNow } = await closeRun(db, run.runId, {
      status: counts.failed > 0 ? 'partial' : 'succeeded',
      counts,
      errors: report.errors,
      heldBy: run.lease,
    });
    if (!closedNow)
      throw new LeaseLostError(
        `${input.owner} no longer holds the sync lease: another execution of this reconcile took it over`,
      );
    await markReconciled(db, BC_SYNC_KEY);
    logger.info({ runId: run.runId, odooBcs, ...counts }, 'reconcile done');
    return { status: 'succeeded', runId: run.runId, odooBcs, ...counts };
  } catch (error) {
    // A superseded execution leaves the run's row to the one that took its place.
    await closeRun(db, run.runId, {
      status: 'failed',
      errors: [toRunError(error)],
      counts: { odooCalls: odoo.calls },
      heldBy: run.lease,
    });
    logger.error({ runId: run.runId, err: error }, 'reconcile failed');
    throw error;
  } finally {
    await clearStage(db, stage);
    await releaseLease(db, run.lease);
  }
}

async function reconcileUnderLease(
  deps: SyncDeps,
  run: RunRef,
  stage: StageRef,
  call: OdooCallOptions,
): Promise<{ report: RunReport; odooBcs: number }> {
  const { db, settings } = deps;
  const signal = call.signal!;
  const schema = await deps.schema(deps.odoo, call);
  let odooBcs = 0;
  const scan = (model: typeof BC_MODEL | typeof BC_LINE_MODEL) =>
    scanPages(deps.odoo, model, null, schema.context, call, settings.scanPageSize);
  for await (const page of scan(BC_MODEL)) {
    odooBcs += page.length;
    await stageRecords(db, stage, 'bc', page);
  }
  for await (const page of scan(BC_LINE_MODEL)) await stageRecords(db, stage, 'line', page);

  const [overlap] = rowsOf<{ live: number; listed: number }>(
    await db.execute(sql`
      select count(*)::int as live,
        count(*) filter (where exists (
          select 1 from sync_scan s
          where ${ours(stage)} and s.kind = 'bc' and s.odoo_id = b.odoo_id))::int as listed
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
    signal.throwIfAborted();
    const unlisted = rowsOf<{ odoo_id: number }>(
      await db.execute(sql`
        select b.odoo_id from scrap_dimagaz_bc b
        where b.archived_at is null and b.odoo_id > ${lastId} and not exists (
          select 1 from sync_scan s
          where ${ours(stage)} and s.kind = 'bc' and s.odoo_id = b.odoo_id)
        order by b.odoo_id limit ${ARCHIVE_BATCH}`),
    ).map((row) => row.odoo_id);
    if (unlisted.length === 0) break;
    const gone = await confirmGone(deps.odoo, unlisted, schema, call);
    const archived = await archiveBcs(db, gone, 'deleted in Odoo', context);
    reports.push(reportOf({ archived: archived.length }));
    lastId = unlisted[unlisted.length - 1]!;
  }

  await stageRefetch(db, stage);
  for (let lastId = 0; ;) {
    signal.throwIfAborted();
    const ids = rowsOf<{ odoo_id: number }>(
      await db.execute(sql`
        select odoo_id from sync_scan s
        where ${ours(stage)} and s.kind = 'refetch' and s.odoo_id > ${lastId}
        order by odoo_id limit ${settings.pageSize}`),
    ).map((row) => row.odoo_id);
    if (ids.length === 0) break;
    reports.push(await refetch(deps, run, ids, schema, call));
    lastId = ids[ids.length - 1]!;
  }
  return { report: mergeReports(reports), odooBcs };
}

/** Stage rows `s` of this execution. */
function ours(stage: StageRef) {
  return sql`s.run_id = ${stage.runId} and s.token = ${stage.token}`;
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
async function stageRecords(
  db: Db,
  stage: StageRef,
  kind: Extract<ScanKind, 'bc' | 'line'>,
  records: readonly OdooRecord[],
): Promise<void> {
  const rows = records.map((record) => ({
    id: record.id,
    bc: kind === 'line' ? (scannedParent(record) ?? null) : null,
    wd: scannedDate(record)?.toISOString() ?? null,
  }));
  await db.execute(sql`
    insert into sync_scan (run_id, token, kind, odoo_id, root_id, write_date)
    select ${stage.runId}, ${stage.token}, ${kind}, x.id, x.bc, x.wd
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(id int, bc int, wd timestamptz)
    on conflict do nothing`);
}

/**
 * The BCs to read again, each once: Odoo has them and the copy lacks them, holds them archived
 * or at another stamp; or one of their lines is missing, different or moved; or the copy holds
 * a line of theirs that Odoo no longer has.
 */
async function stageRefetch(db: Db, stage: StageRef): Promise<void> {
  await db.execute(sql`
    insert into sync_scan (run_id, token, kind, odoo_id)
    select ${stage.runId}, ${stage.token}, 'refetch', ids.id from (
      select s.odoo_id as id from sync_scan s
        left join scrap_dimagaz_bc b on b.odoo_id = s.odoo_id
        where ${ours(stage)} and s.kind = 'bc'
          and (b.odoo_id is null or b.archived_at is not null
            or b.odoo_write_date is distinct from s.write_date)
      union
      select s.root_id from sync_scan s
        left join scrap_dimagaz_bc_line l on l.odoo_id = s.odoo_id
        where ${ours(stage)} and s.kind = 'line' and s.root_id is not null
          and (l.odoo_id is null or l.bc_odoo_id <> s.root_id
            or l.odoo_write_date is distinct from s.write_date)
      union
      select l.bc_odoo_id from scrap_dimagaz_bc_line l
        join scrap_dimagaz_bc b on b.odoo_id = l.bc_odoo_id and b.archived_at is null
        where not exists (
          select 1 from sync_scan s
          where ${ours(stage)} and s.kind = 'line' and s.odoo_id = l.odoo_id)
    ) ids
    where exists (
      select 1 from sync_scan s
      where ${ours(stage)} and s.kind = 'bc' and s.odoo_id = ids.id)
    on conflict do nothing`);
}
