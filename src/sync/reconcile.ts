/**
 * The reconcile of a family (job `reconcile`, daily and on demand) heals what the incremental
 * runs cannot see or let slip: it lists every record of each model of the family Odoo has
 * (archived included) with its `write_date`, stages the lists in PostgreSQL, and compares them
 * with the copy in SQL — so it works in bounded memory whatever the size of the tables. Then it:
 * - archives the live roots Odoo no longer lists, once Odoo confirms each is gone (a search by
 *   id, as the pages do): a stage that lacks a root is never reason enough;
 * - reads again every root Odoo has that the copy lacks, holds archived or holds at another
 *   `write_date`, and every root with a child missing, different or gone, and writes it;
 * - archives at once a root found deleted between its scan and its read;
 * - deletes the pieces of large values no record of the family references any more
 *   (`sync_value_piece`: a value made small leaves them to it).
 *
 * What it stages is its own execution's (its run and the lease token it took): a second execution
 * of the same job (BullMQ ran it again while the first went on) takes a new token, which fences
 * the first one's writes out, and neither reads nor deletes the other's rows.
 *
 * Safety stop: when Odoo lists less than SYNC_RECONCILE_MIN_RATIO of the copy's live roots (what
 * both hold, over what the copy holds — new records in Odoo cannot mask a mass disappearance), it
 * archives nothing: a changed API user or record rule looks exactly like a mass deletion.
 */
import { sql } from 'drizzle-orm';
import type { OdooCallOptions, OdooRecord } from '../clients/odoo/odoo-types.js';
import type { Db } from '../db/create-db.js';
import { rowsOf } from '../db/sql-rows.js';
import type { SyncRunError } from '../db/schema/sync-log.js';
import { relationScans, type RecordFamily, type RelationScan } from '../families/family.js';
import { childWriteShape, rootWriteShape, staleLayout } from '../families/write-shape.js';
import { unreferencedPiecesDelete } from '../families/large-values.js';
import { copyTableKey, quotedTable } from '../families/table-names.js';
import { archiveRoots } from './archive.js';
import { countCalls, type OdooSource } from './odoo-source.js';
import {
  relationTargetOf,
  scannedDate,
  scannedOwner,
  scannedParent,
  scanPages,
  scanTargetOf,
  withoutLink,
  type FamilySchema,
  type ScanTarget,
} from './odoo-reads.js';
import { confirmGone } from './isolated-pages.js';
import { heldPageSize } from './page-size.js';
import { archiveGoneRecordFailed, usingPageRead } from './read-roots-again.js';
import {
  isRelationRefused,
  linkTable,
  ownerRoot,
  relationKind,
  relationRefusal,
} from './relations.js';
import {
  countOutcome,
  mergeReports,
  reportOf,
  type RunCounts,
  type RunReport,
} from './run-counts.js';
import { closeFailedRun, closeRun, toRunError } from './run-log.js';
import { openLeasedRun, withRunLease, type RunRef } from './run-lease.js';
import { clearEndedStages, clearStage, type StageRef } from './scan-stage.js';
import { clockBound, shownThrough } from './settled.js';
import { LeaseLostError, ReconcileSafetyStop } from './sync-errors.js';
import { markReconciled, releaseLease } from './sync-state.js';
import type { SyncDeps } from './sync-deps.js';
import { writeRootBatches } from './write-records.js';

export type ReconcileOutcome =
  | { status: 'paused' }
  | { status: 'skipped'; runId: number }
  | ({ status: 'succeeded'; runId: number; odooRecords: number } & RunCounts);

/** Roots looked up in Odoo, then archived, per batch. */
const ARCHIVE_BATCH = 1_000;

export async function reconcile(
  deps: SyncDeps,
  input: { family: RecordFamily; trigger: string; owner: string; scheduled: boolean },
  call?: OdooCallOptions,
): Promise<ReconcileOutcome> {
  const { db, logger } = deps;
  const { family } = input;
  const opened = await openLeasedRun(deps, { ...input, kind: 'reconcile' });
  if (opened.status === 'paused') return opened;
  if (opened.status === 'skipped') return { status: 'skipped', runId: opened.runId };
  const { run } = opened;
  const stage: StageRef = { runId: run.runId, token: run.lease.token };
  await clearEndedStages(db);
  const odoo = countCalls(deps.odoo);
  try {
    const { report, odooRecords } = await withRunLease(deps, run.lease, call?.signal, (signal) =>
      reconcileUnderLease({ ...deps, odoo }, family, run, stage, { signal }),
    );
    const counts = { ...report.counts, odooCalls: odoo.calls };
    const { closedNow } = await closeRun(db, run.runId, {
      status: counts.failed > 0 || report.errors.length > 0 ? 'partial' : 'succeeded',
      counts,
      errors: report.errors,
      heldBy: run.lease,
    });
    if (!closedNow)
      throw new LeaseLostError(
        `${input.owner} no longer holds the ${family.name} lease: another execution of this reconcile took it over`,
      );
    await markReconciled(db, family.name);
    logger.info(
      { family: family.name, runId: run.runId, odooRecords, ...counts },
      'reconcile done',
    );
    return { status: 'succeeded', runId: run.runId, odooRecords, ...counts };
  } catch (error) {
    await closeFailedRun(db, run, toRunError(error), odoo.calls);
    logger.error({ family: family.name, runId: run.runId, err: error }, 'reconcile failed');
    throw error;
  } finally {
    await clearStage(db, stage);
    await releaseLease(db, run.lease);
  }
}

async function reconcileUnderLease(
  deps: SyncDeps,
  family: RecordFamily,
  run: RunRef,
  stage: StageRef,
  call: OdooCallOptions,
): Promise<{ report: RunReport; odooRecords: number }> {
  const { db, settings } = deps;
  const signal = call.signal!;
  let schema = await deps.schema(family, deps.odoo, call);
  let odooRecords = 0;
  const scan = (target: ScanTarget) =>
    scanPages(deps.odoo, target, null, schema.context, call, settings.scanPageSize);
  for await (const page of scan(scanTargetOf(family.root))) {
    odooRecords += page.length;
    await stageRecords(db, stage, family.root.model, undefined, page);
  }
  for (const child of family.children)
    for await (const page of scan(scanTargetOf(child)))
      await stageRecords(db, stage, child.model, (record) => scannedParent(child, record), page);
  // A relation whose targets Odoo refuses to list is left out of the comparison: the copy's
  // links would all look gone.
  const refused: SyncRunError[] = [];
  const compared: RelationScan[] = [];
  for (const relation of relationScans(family)) {
    try {
      for await (const page of scan(relationTargetOf(relation, { listing: true })))
        await stageRecords(
          db,
          stage,
          relationKind(relation),
          (record) => scannedOwner(relation, record),
          page,
        );
      compared.push(relation);
    } catch (error) {
      if (!isRelationRefused(error)) throw error;
      refused.push(relationRefusal(relation, error));
      // Reading the owners with that field would be refused too.
      schema = withoutLink(schema, relation.owner.model, relation.link.field);
      deps.logger.warn(
        { family: family.name, runId: run.runId, err: error },
        refused.at(-1)!.message,
      );
    }
  }

  const roots = rootWriteShape(family.root).table;
  const listedRoot = sql`exists (
    select 1 from sync_scan s
    where ${ours(stage)} and s.kind = ${family.root.model} and s.odoo_id = b.odoo_id)`;
  const [overlap] = rowsOf<{ live: number; listed: number }>(
    await db.execute(sql`
      select count(*)::int as live, count(*) filter (where ${listedRoot})::int as listed
      from ${roots} b where b.archived_at is null`),
  );
  const { live, listed } = overlap!;
  if (live > 0 && listed < live * settings.reconcileMinRatio) {
    throw new ReconcileSafetyStop(
      `Odoo lists only ${listed} of the ${live} live ${family.root.model} records the copy holds (below the ratio ${settings.reconcileMinRatio}); nothing archived. Check the Odoo user's access, then lower SYNC_RECONCILE_MIN_RATIO if the deletions are real.`,
    );
  }

  const reports: RunReport[] = [];
  const shown = await shownByLists(db, stage, deps.odoo, settings.overlapSeconds);
  const context = {
    runId: run.runId,
    lease: run.lease,
    ...(shown ? { shownThrough: shown } : {}),
  };
  for (let lastId = 0; ;) {
    signal.throwIfAborted();
    const unlisted = rowsOf<{ odoo_id: number }>(
      await db.execute(sql`
        select b.odoo_id from ${roots} b
        where b.archived_at is null and b.odoo_id > ${lastId} and not ${listedRoot}
        order by b.odoo_id limit ${ARCHIVE_BATCH}`),
    ).map((row) => row.odoo_id);
    if (unlisted.length === 0) break;
    const gone = await confirmGone(deps.odoo, family, unlisted, schema, call);
    const archived = await archiveRoots(db, family, gone, 'deleted in Odoo', context);
    reports.push(reportOf({ archived: archived.length }));
    lastId = unlisted[unlisted.length - 1]!;
  }

  await stageRefetch(db, family, stage, compared);
  const pageSize = await heldPageSize(db, settings, family);
  for (let lastId = 0; ;) {
    signal.throwIfAborted();
    const ids = rowsOf<{ odoo_id: number }>(
      await db.execute(sql`
        select odoo_id from sync_scan s
        where ${ours(stage)} and s.kind = 'refetch' and s.odoo_id > ${lastId}
        order by odoo_id limit ${pageSize}`),
    ).map((row) => row.odoo_id);
    if (ids.length === 0) break;
    reports.push(await refetch(deps, family, run, ids, schema, call, shown));
    lastId = ids[ids.length - 1]!;
  }
  for (const model of [family.root, ...family.children])
    await db.execute(
      sql.raw(unreferencedPiecesDelete(copyTableKey(model.table), quotedTable(model.table))),
    );
  return { report: mergeReports([...reports, reportOf({}, refused)]), odooRecords };
}

/** Stage rows `s` of this execution. */
function ours(stage: StageRef) {
  return sql`s.run_id = ${stage.runId} and s.token = ${stage.token}`;
}

/**
 * With reads that may lag (a read replica), the latest stamp whose every version they show
 * (write-rule.ts), from the latest stamp Odoo's lists staged: no call of its own. Undefined when
 * the reads show every commit; the epoch when they listed no stamp at all.
 */
async function shownByLists(
  db: Db,
  stage: StageRef,
  odoo: OdooSource,
  overlapSeconds: number,
): Promise<Date | undefined> {
  if (odoo.readsMayLag?.() !== true) return undefined;
  // A stamp from a clock ahead of Odoo's says nothing of what the reads have replayed.
  const bound = clockBound(odoo.serverTime?.());
  const [row] = rowsOf<{ latest: Date | string | null }>(
    await db.execute(sql`
      select max(s.write_date) as latest from sync_scan s
      where ${ours(stage)} and s.kind <> 'refetch'
        ${bound ? sql`and s.write_date <= ${bound.toISOString()}::timestamptz` : sql``}`),
  );
  const latest = row?.latest === null || row?.latest === undefined ? null : new Date(row.latest);
  return shownThrough(latest, overlapSeconds) ?? new Date(0);
}

/** Reads roots again and writes them; those that fail wait in sync_failure. */
async function refetch(
  deps: SyncDeps,
  family: RecordFamily,
  run: RunRef,
  ids: readonly number[],
  schema: FamilySchema,
  call: OdooCallOptions,
  /** With reads that may lag, the latest stamp they show whole. */
  shown: Date | undefined,
): Promise<RunReport> {
  const { db, logger } = deps;
  const { page, written } = await usingPageRead(
    deps,
    {
      odoo: deps.odoo,
      family,
      ids,
      schema,
      call,
      refresh: () => deps.schema(family, deps.odoo, call, { fresh: true }),
    },
    async (read, readSince) => {
      // Odoo's current record is the truth under the lease, whatever its stamp (write-rule.ts).
      const context = {
        runId: run.runId,
        lease: run.lease,
        authoritative: true,
        readSince,
        odooNow: deps.odoo.serverTime?.(),
        ...(shown ? { shownThrough: shown } : {}),
      };
      return {
        page: read,
        written: await writeRootBatches(db, family, read.mapped, context, logger, deps.writeLanes),
      };
    },
  );
  const { archived, errors } = await archiveGoneRecordFailed(
    deps,
    family,
    run,
    {
      missingIds: page.missingIds,
      failures: [...page.failures, ...written.failed],
      jobId: `reconcile-${run.runId}`,
      ...(shown ? { shownThrough: shown } : {}),
    },
    schema,
    call,
  );
  return mergeReports([
    ...written.outcomes.map((outcome) => reportOf(countOutcome(outcome))),
    reportOf({ archived, failed: errors.length }, errors),
  ]);
}

/**
 * One page of Odoo's ids and stamps into the stage, kind the model's name (a one2many's targets:
 * relations.ts), with a child's root or a target's owner.
 */
async function stageRecords(
  db: Db,
  stage: StageRef,
  kind: string,
  rootOf: ((record: OdooRecord) => number | undefined) | undefined,
  records: readonly OdooRecord[],
): Promise<void> {
  const rows = records.map((record) => ({
    id: record.id,
    root: rootOf?.(record) ?? null,
    wd: scannedDate(record)?.toISOString() ?? null,
  }));
  await db.execute(sql`
    insert into sync_scan (run_id, token, kind, odoo_id, root_id, write_date)
    select ${stage.runId}, ${stage.token}, ${kind}, x.id, x.root, x.wd
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(id int, root int, wd timestamptz)
    on conflict do nothing`);
}

/**
 * The roots to read again, each once: Odoo has them and the copy lacks them, holds them archived,
 * at another stamp or written under an older layout of its table; or one of their children is
 * missing, different, moved or written under an older layout; or the copy holds a child of
 * theirs that Odoo no longer has.
 */
async function stageRefetch(
  db: Db,
  family: RecordFamily,
  stage: StageRef,
  relations: readonly RelationScan[],
): Promise<void> {
  const roots = rootWriteShape(family.root).table;
  const childDiffs = family.children.map((child) => {
    const parent = sql.identifier(child.parentColumn);
    const children = childWriteShape(child).table;
    return sql`
      union
      select s.root_id from sync_scan s
        left join ${children} l on l.odoo_id = s.odoo_id
        where ${ours(stage)} and s.kind = ${child.model} and s.root_id is not null
          and (l.odoo_id is null or l.${parent} <> s.root_id
            or l.odoo_write_date is distinct from s.write_date or ${staleLayout(child, 'l')})
      union
      select l.${parent} from ${children} l
        join ${roots} b on b.odoo_id = l.${parent} and b.archived_at is null
        where not exists (
          select 1 from sync_scan s
          where ${ours(stage)} and s.kind = ${child.model} and s.odoo_id = l.odoo_id)`;
  });
  // A one2many whose targets Odoo lists under an owner the copy does not link them to, or the
  // copy links to an owner Odoo does not list them under (gone, or moved).
  const relationDiffs = relations.map((relation) => {
    const kind = relationKind(relation);
    return sql`
      union
      select ${ownerRoot(relation, sql`s.root_id`)} from sync_scan s
        where ${ours(stage)} and s.kind = ${kind} and s.root_id is not null
          and not exists (
            select 1 from ${linkTable(relation)} l where l.owner_id = s.root_id and l.target_id = s.odoo_id)
      union
      select ${ownerRoot(relation, sql`l.owner_id`)} from ${linkTable(relation)} l
        where not exists (
          select 1 from sync_scan s
          where ${ours(stage)} and s.kind = ${kind} and s.odoo_id = l.target_id and s.root_id = l.owner_id)`;
  });
  await db.execute(sql`
    insert into sync_scan (run_id, token, kind, odoo_id)
    select ${stage.runId}, ${stage.token}, 'refetch', ids.id from (
      select s.odoo_id as id from sync_scan s
        left join ${roots} b on b.odoo_id = s.odoo_id
        where ${ours(stage)} and s.kind = ${family.root.model}
          and (b.odoo_id is null or b.archived_at is not null
            or b.odoo_write_date is distinct from s.write_date or ${staleLayout(family.root, 'b')})
      ${sql.join(childDiffs, sql` `)}
      ${sql.join(relationDiffs, sql` `)}
    ) ids
    where ids.id is not null and exists (
      select 1 from sync_scan s
      where ${ours(stage)} and s.kind = ${family.root.model} and s.odoo_id = ids.id)
    on conflict do nothing`);
}
