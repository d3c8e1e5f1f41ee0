/**
 * Writes root records and their children into a family's copy. For each root, all or nothing: the
 * root's row, its children, the deletion of local children Odoo no longer lists for it, and one
 * audit row per change. Several roots share one transaction (a batch); a batch that fails is
 * retried root by root, so one bad root never takes others down with it.
 *
 * Created once: a row the batch found absent and another writer created before this transaction
 * wrote it (a page run again beside its first execution, a webhook's job beside a first copy) is
 * not created twice — the transaction is rolled back and the batch decides again, seeing that row
 * as stored.
 *
 * Guarded: data with an older `write_date` than what is stored never overwrites it (a late retry
 * of a stale job cannot undo a newer change); with an equal stamp the data decide, since two
 * commits in one second share a stamp. Records that did not change are not written and leave no
 * audit row. Fenced: a run's batch commits only while the run holds the lease.
 *
 * Set-based: each batch is a handful of statements whatever its size, every row set passed as one
 * jsonb parameter and expanded by PostgreSQL (`jsonb_to_recordset`). The batch's roots whose copy
 * is already current are sorted out in the same transaction (select-changed.ts), and the pending
 * failures of every root it brings up to date are cleared with it. Round trips are what a page
 * costs most on a busy machine. This module decides what a batch writes; model-rows.ts holds the
 * statements that write a model's rows and links.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { intArray, KEY_LOOKUPS_ONLY, rowsOf } from '../db/sql-rows.js';
import { BadRecordError } from '../families/bad-record-error.js';
import { digestedData, stageLargeValues } from '../families/large-values.js';
import type { ChildModel, RecordFamily } from '../families/family.js';
import { type MappedRoot, type OdooRecordData } from '../families/map-record.js';
import { childWriteShape, rootWriteShape, staleLayout } from '../families/write-shape.js';
import type { Logger } from '../lib/logger.js';
import { auditInsert, type AuditSource } from './audit.js';
import { writeModel, type AuditedUpdate, type ModelWrites, type WriteHow } from './model-rows.js';
import { analyzeTablesPlannedEmpty } from './planner-statistics.js';
import { outcomeOf, type RecordAction, type RecordOutcome } from './run-counts.js';
import { selectChanged } from './select-changed.js';
import { ConcurrentCreateError, LeaseLostError } from './sync-errors.js';
import type { WriteLanes } from './write-lanes.js';
import { clearFailures } from './sync-failures.js';
import { fenceLease, type Lease } from './sync-state.js';
import { CLOCK_SKEW_MARGIN_SECONDS } from './settled.js';
import { noteUnfitValues } from './unfit-values.js';
import { planChildren } from './child-plan.js';
import { decide, type AuditEntry, type Decision, type WriteMode } from './write-rule.js';
import { copyTableKey, linkTableSql } from '../families/table-names.js';

/** Who writes: a run (its log row and lease) or a single resync outside any run. */
export interface WriteContext {
  readonly runId: number | null;
  readonly lease: Lease | null;
  /** What made the change outside a run (`resync`, `webhook`), kept on its audit rows. */
  readonly trigger?: string;
  /**
   * A verify healing what it found different from Odoo (verify.ts): every root is compared by
   * content whatever its stamps, the records whose links differ (by model) are written again
   * though their data is equal, and the audit rows of what is written say `drift`.
   */
  readonly drift?: { readonly relink: ReadonlyMap<string, ReadonlySet<number>> };
  /**
   * Under the family's lease, from Odoo's current record (the reconcile's re-read): Odoo's version
   * is written even when its stamp is older than the copy's (write-rule.ts). A verify is too.
   */
  readonly authoritative?: boolean;
  /** Odoo's clock (its last answer's `Date`): a stored stamp later than it never guards. */
  readonly odooNow?: Date;
  /**
   * With reads that may lag, the latest stamp they show whole (write-rule.ts): an authoritative
   * write leaves a later stored stamp alone.
   */
  readonly shownThrough?: Date;
  /**
   * When its read of Odoo began, by the database's clock (`readBegins`): a root archived since is
   * not restored, and under an authoritative write a row written since is not replaced by a
   * version stamped at or before its own (write-rule.ts).
   */
  readonly readSince?: Date;
  /**
   * Children that no root of the batch lists, which Odoo has under a root the batch does not
   * write (a run's page: moved-children.ts, `childrenMovedAway`), by model: left as they are,
   * not deleted.
   */
  readonly movedAway?: ReadonlyMap<string, ReadonlySet<number>>;
}

/** The database's clock now: what a write's read began at (`readSince`). */
export async function readBegins(db: Db): Promise<Date> {
  const [row] = rowsOf<{ now: Date | string }>(await db.execute(sql`select now() as now`));
  return new Date(row!.now);
}

interface StoredRoot {
  odoo_id: number;
  odoo_write_date: Date;
  data: OdooRecordData;
  archived_at: Date | null;
  stale_layout: boolean;
  synced_at: Date | string;
}

interface StoredChild {
  odoo_id: number;
  root_id: number;
  odoo_write_date: Date;
  data: OdooRecordData;
  stale_layout: boolean;
  synced_at: Date | string;
}

/**
 * Writes distinct roots in one transaction and returns one outcome per root, in order; their
 * pending failures (sync_failure) are cleared with the write.
 * @throws LeaseLostError when the run no longer holds the lease (nothing is written)
 */
export async function writeRoots(
  db: Db,
  family: RecordFamily,
  items: readonly MappedRoot[],
  context: WriteContext,
): Promise<RecordOutcome[]> {
  if (items.length === 0) return [];
  const ids = items.map((item) => item.odooId);
  if (new Set(ids).size !== ids.length)
    throw new BadRecordError(`a batch holds the same ${family.noun} twice`);

  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(async (tx) => {
        await tx.execute(KEY_LOOKUPS_ONLY);
        if (context.lease) await fenceLease(tx, context.lease);
        // A verify compared the content itself: every root it hands over differs.
        const selection = context.drift
          ? { changed: [...items], anyStored: true }
          : await selectChanged(tx, family, items);
        await clearFailures(tx, family.name, ids);
        const written = await writeChanged(
          tx,
          family,
          selection.changed,
          selection.anyStored,
          context,
        );
        await noteUnfitValues(tx, family, items);
        const byId = new Map(written.map((outcome) => [outcome.odooId, outcome]));
        return ids.map((odooId) => byId.get(odooId) ?? outcomeOf(odooId, 'unchanged'));
      });
    } catch (error) {
      // Rolled back: the next attempt sees the other writer's rows, committed by now (its insert
      // waited for them). A third meeting means writers keep racing: the job's retry takes over.
      if (!(error instanceof ConcurrentCreateError) || attempt >= CONCURRENT_CREATE_ATTEMPTS)
        throw error;
    }
  }
}

/** Attempts of a batch whose new rows another writer keeps creating first. */
const CONCURRENT_CREATE_ATTEMPTS = 3;

/** The stored children of these roots, and these children wherever they are (a child can move). */
export function storedChildrenQuery(
  child: ChildModel,
  rootIds: readonly number[],
  childIds: readonly number[],
): SQL {
  const parent = sql.identifier(child.parentColumn);
  return sql`
    select odoo_id, ${parent} as root_id, odoo_write_date, ${sql.raw(digestedData('data'))} as data,
      ${staleLayout(child)} as stale_layout, synced_at
    from ${childWriteShape(child).table}
    where ${parent} = any(${intArray(rootIds)}::int[]) or odoo_id = any(${intArray(childIds)}::int[])`;
}

/** How this context writes a record (write-rule.ts). */
function modeOf(context: WriteContext, model: string, odooId: number): WriteMode {
  return {
    drift: context.drift !== undefined,
    rewrite: context.drift?.relink.get(model)?.has(odooId) ?? false,
    authoritative: context.authoritative === true || context.drift !== undefined,
    futureAfter: context.odooNow
      ? new Date(context.odooNow.getTime() + CLOCK_SKEW_MARGIN_SECONDS * 1_000)
      : undefined,
    shownThrough: context.shownThrough,
    readSince: context.readSince,
  };
}

/** A record's outcome as a run counts it, from the rule's decision. */
function actionOf(decision: Decision): RecordAction {
  if (!decision.write) return decision.stale ? 'stale' : 'unchanged';
  const { action } = decision.audit;
  return action === 'relaid' || action === 'drift' ? 'updated' : action;
}

/** Writes roots known to differ from the copy, in the caller's transaction. */
async function writeChanged(
  tx: Db,
  family: RecordFamily,
  items: readonly MappedRoot[],
  anyStored: boolean,
  context: WriteContext,
): Promise<RecordOutcome[]> {
  if (items.length === 0) return [];
  const rootIds = items.map((item) => item.odooId);
  const rootShape = rootWriteShape(family.root);
  // When the copy holds none of these roots and none of their children (a first copy), there is
  // nothing to lock or compare. Locked in id order, so two batches that share roots cannot deadlock.
  const storedRoots = anyStored
    ? rowsOf<StoredRoot>(
        await tx.execute(sql`
          select odoo_id, odoo_write_date, ${sql.raw(digestedData('data'))} as data, archived_at,
            ${staleLayout(family.root)} as stale_layout, synced_at
          from ${rootShape.table}
          where odoo_id = any(${intArray(rootIds)}::int[]) order by odoo_id for update`),
      )
    : [];
  const storedChildren: StoredChild[][] = [];
  for (const [i, child] of family.children.entries()) {
    const childIds = items.flatMap((item) => item.children[i]!.map((c) => c.odooId));
    storedChildren.push(
      anyStored
        ? rowsOf<StoredChild>(await tx.execute(storedChildrenQuery(child, rootIds, childIds)))
        : [],
    );
  }
  const rootById = new Map(storedRoots.map((row) => [row.odoo_id, row]));

  const rootWrites: ModelWrites = { records: [], updates: [] };
  const outcomes = items.map((item): RecordOutcome => {
    const stored = rootById.get(item.odooId);
    const decision = decide(
      stored && {
        writeDate: new Date(stored.odoo_write_date),
        data: stored.data,
        archived: stored.archived_at !== null,
        archivedAt: stored.archived_at === null ? undefined : new Date(stored.archived_at),
        staleLayout: stored.stale_layout,
        writtenAt: new Date(stored.synced_at),
      },
      item,
      modeOf(context, family.root.model, item.odooId),
    );
    if (decision.write) {
      rootWrites.records.push(item);
      if (stored) rootWrites.updates.push(auditedUpdate(item.odooId, decision.audit));
    }
    return {
      odooId: item.odooId,
      action: actionOf(decision),
      childrenCreated: 0,
      childrenUpdated: 0,
      childrenDeleted: 0,
    };
  });
  // The children of the roots written (a stale root's stay as they are).
  const writing = items.filter((_, i) => outcomes[i]!.action !== 'stale');
  const childPlans = family.children.map((child, i) =>
    planChildren(
      writing.map((item) => ({ odooId: item.odooId, children: item.children[i]! })),
      storedChildren[i]!.map((row) => ({
        odooId: row.odoo_id,
        rootId: row.root_id,
        writeDate: new Date(row.odoo_write_date),
        data: row.data,
        staleLayout: row.stale_layout,
        writtenAt: new Date(row.synced_at),
      })),
      (odooId) => modeOf(context, child.model, odooId),
      context.movedAway?.get(child.model),
    ),
  );

  const source: AuditSource = { runId: context.runId, trigger: context.trigger ?? null };
  const how: WriteHow = {
    created: context.drift ? 'drift' : 'created',
    overwriteOlder: context.authoritative === true || context.drift !== undefined,
    overwriteThrough: context.shownThrough,
    overwriteWrittenBy: context.readSince,
    overwriteAfter: modeOf(context, family.root.model, 0).futureAfter,
  };
  // The large texts of every row the batch writes, staged once (large-values.ts).
  await stageLargeValues(
    tx,
    new Map(
      [
        ...rootWrites.records,
        ...childPlans.flatMap((plan) => plan.writes.map((write) => write.child)),
      ].flatMap((record) => [...(record.large ?? [])]),
    ),
  );
  await writeModel(tx, family, family.root, rootWrites, source, anyStored, how);
  for (const [i, child] of family.children.entries()) {
    const plan = childPlans[i]!;
    const shape = childWriteShape(child);
    if (plan.deletes.length > 0) {
      const parent = sql.identifier(child.parentColumn);
      const deleted = intArray(plan.deletes);
      // A link table has no foreign key to its owner: its rows go with the child.
      const links = child.links.map(
        (link, l) =>
          sql`${sql.raw(`links${String(l)}`)} as (delete from ${linkTableSql(link)} where owner_id = any(${deleted}::int[]))`,
      );
      const gone = sql`gone as (
          delete from ${shape.table} where odoo_id = any(${deleted}::int[])
          returning odoo_id, ${parent} as root_id, odoo_write_date)`;
      // Nor have its large values' pieces (sync_value_piece).
      const pieces = sql`pieces as (delete from sync_value_piece
          where copy_table = ${copyTableKey(child.table)} and odoo_id = any(${deleted}::int[]))`;
      await tx.execute(sql`
        with ${sql.join([...links, pieces, gone], sql`, `)}
        ${auditInsert(
          family.name,
          child.model,
          source,
          sql`select odoo_id, root_id, 'deleted', '[]'::jsonb, odoo_write_date, null::text from gone`,
        )}`);
    }
    const writes: ModelWrites = {
      records: plan.writes.map((write) => write.child),
      updates: plan.writes.flatMap((write) =>
        write.replaces ? [auditedUpdate(write.child.odooId, write.replaces)] : [],
      ),
    };
    await writeModel(tx, family, child, writes, source, anyStored, how);
  }
  return outcomes.map((outcome) => {
    const counted = childPlans.flatMap((plan) => plan.counts.get(outcome.odooId) ?? []);
    return {
      ...outcome,
      childrenCreated: counted.reduce((sum, counts) => sum + counts.created, 0),
      childrenUpdated: counted.reduce((sum, counts) => sum + counts.updated, 0),
      childrenDeleted: counted.reduce((sum, counts) => sum + counts.deleted, 0),
    };
  });
}

function auditedUpdate(odooId: number, audit: AuditEntry): AuditedUpdate {
  return {
    odoo_id: odooId,
    action: audit.action,
    changed: audit.changed,
    reason: audit.reason ?? null,
  };
}

/** Roots per transaction: a few hundred kB of jsonb, and a short lock on the rows it touches. */
export const WRITE_BATCH_SIZE = 100;

export interface BatchWrite {
  readonly outcomes: RecordOutcome[];
  /** Roots whose own write failed: each gets a job of its own, which retries with backoff. */
  readonly failed: { odooId: number; error: unknown }[];
}

/**
 * Writes roots in batches, a second beside the first while the process writes few (`lanes`;
 * without them one at a time); a failed batch is replayed root by root. A lost lease is not a
 * root's fault: it stops the whole write, once the batches in flight have ended.
 */
export async function writeRootBatches(
  db: Db,
  family: RecordFamily,
  items: readonly MappedRoot[],
  context: WriteContext,
  logger: Logger,
  lanes?: WriteLanes,
): Promise<BatchWrite> {
  const outcomes: RecordOutcome[] = [];
  const failed: { odooId: number; error: unknown }[] = [];
  const writeAlone = async (item: MappedRoot) => {
    try {
      outcomes.push(...(await writeRoots(db, family, [item], context)));
    } catch (error) {
      if (error instanceof LeaseLostError) throw error;
      failed.push({ odooId: item.odooId, error });
    }
  };
  const writeBatch = async (batch: readonly MappedRoot[]) => {
    if (batch.length === 1) return writeAlone(batch[0]!);
    try {
      outcomes.push(...(await writeRoots(db, family, batch, context)));
      return;
    } catch (error) {
      if (error instanceof LeaseLostError) throw error;
      logger.warn(
        { family: family.name, runId: context.runId, err: error, records: batch.length },
        `batch write failed; writing its ${family.noun}s one by one`,
      );
    }
    for (const item of batch) await writeAlone(item);
  };
  let next = 0;
  let stopped = false;
  const lane = async (beside: boolean) => {
    while (!stopped && next < items.length) {
      if (lanes && !lanes.take(beside)) return;
      const batch = items.slice(next, (next += WRITE_BATCH_SIZE));
      try {
        await writeBatch(batch);
      } catch (error) {
        stopped = true;
        throw error;
      } finally {
        lanes?.release();
      }
    }
  };
  const ended = await Promise.allSettled([
    lane(false),
    ...(lanes && items.length > WRITE_BATCH_SIZE ? [lane(true)] : []),
  ]);
  const stop = ended.find((lane) => lane.status === 'rejected');
  if (stop) throw stop.reason;
  const analyzed = await analyzeTablesPlannedEmpty(db, family);
  if (analyzed.length > 0)
    logger.info(
      { family: family.name, tables: analyzed },
      'tables analyzed: their statistics said empty, and PostgreSQL planned them so',
    );
  return { outcomes, failed };
}
