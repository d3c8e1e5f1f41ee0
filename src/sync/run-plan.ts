/**
 * A run's plan, staged in PostgreSQL (`sync_scan`, kind `plan`): the change scans list which root
 * records to read — those changed, and those whose children changed — and each page of a scan is
 * staged as soon as Odoo answers it, with what the settled stamps prove of it (settled.ts), then
 * dropped. A run's pages are read back from the stage a wave at a time. So a worker holds one
 * scan page and one wave of page jobs, whatever the window: a mass update of millions of children
 * needs no more memory than a quiet run (docs/sync.md, "Bounded memory").
 *
 * The next watermark is the largest stamp the scan saw, bounded by Odoo's own clock: a record
 * stamped in the future (a database clock stepped ahead, a stamp set by SQL) is read by every
 * run, counted and logged, but never moves the watermark past the present.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { OdooCallOptions, OdooContext } from '../clients/odoo/odoo-types.js';
import { odooDatetimeIso } from '../clients/odoo/odoo-values.js';
import type { Db } from '../db/create-db.js';
import { intArray, rowsOf } from '../db/sql-rows.js';
import {
  isChild,
  isRelationScan,
  type ChildModel,
  type ModelDeclaration,
  type RecordFamily,
  type RelationScan,
} from '../families/family.js';
import { childWriteShape, rootWriteShape } from '../families/write-shape.js';
import {
  relationTargetOf,
  scannedDate,
  scannedOwner,
  scannedParent,
  scanPages,
  scanTargetOf,
} from './odoo-reads.js';
import { linkTable, ownerRoot } from './relations.js';
import type { OdooSource } from './odoo-source.js';
import type { StageRef } from './scan-stage.js';
import { CLOCK_SKEW_MARGIN_SECONDS } from './settled.js';

/** What a settling run proved (sync_state), for the proof of each scanned record. */
export interface SettledStamps {
  readonly settledThrough: Date;
  readonly settledAt: Date;
  /**
   * The settling run, and the last audit row committed when it started: a row it wrote itself
   * after `settledAt` is proven too (null: a run of an earlier version settled).
   */
  readonly byRun: { readonly runId: number; readonly auditAfter: number } | null;
}

/** What one change scan saw. */
export interface ChangeScan {
  /** Records the scan listed. */
  readonly listed: number;
  /** The largest `write_date` the scan saw, bounded by Odoo's clock: the next watermark. */
  readonly maxWriteDate: Date | null;
  /** Records the scan could not use (an empty `write_date`, a child without its root). */
  readonly skipped: number;
  /**
   * Records stamped later than Odoo's clock (plus a margin): read, but not a watermark. Rare, so
   * kept whole: a record two scans list (its model's and a one2many's) is one record.
   */
  readonly futureIds: readonly number[];
}

/**
 * Scans the records of a model of the family written since `since` and stages, page by page, the
 * roots they name into the run's plan. With `settled`, each record also says whether the copy
 * holds it for good; a root is proven only when every record of it that any scan listed is.
 */
export async function stageChanges(
  db: Db,
  source: OdooSource,
  ref: StageRef,
  input: {
    family: RecordFamily;
    /** A model of the family, or the targets of one of its one2many link tables. */
    scanned: ModelDeclaration | RelationScan;
    since: Date | null;
    context: OdooContext;
    settled: SettledStamps | null;
    scanPageSize?: number;
  },
  call?: OdooCallOptions,
): Promise<ChangeScan> {
  const { scanned } = input;
  const relation = isRelationScan(scanned) ? scanned : undefined;
  const child = !isRelationScan(scanned) && isChild(scanned) ? scanned : undefined;
  let listed = 0;
  // Kept as a number: `>` on two Dates converts both to primitives, and a mass update's scan
  // compares millions of stamps (a fifth of its worker's time, when it compared Dates).
  let maxWriteMs = -Infinity;
  let skipped = 0;
  const futureIds: number[] = [];
  const pages = scanPages(
    source,
    isRelationScan(scanned) ? relationTargetOf(scanned) : scanTargetOf(scanned),
    input.since,
    input.context,
    call,
    input.scanPageSize,
  );
  // The next page is asked for while this one is staged: Odoo and PostgreSQL work side by side,
  // and a worker holds two pages at most.
  let next = pages.next();
  let staging: Promise<void> = Promise.resolve();
  for (;;) {
    const answer = await next.catch(async (error: unknown) => {
      await staging.catch(() => undefined);
      throw error;
    });
    if (answer.done) break;
    const page = answer.value;
    // Odoo's clock as it answered this page: no transaction that committed before the answer
    // can carry a later stamp (the margin covers Odoo's web and database servers' skew).
    const answeredAt = source.serverTime?.();
    next = pages.next();
    const futureAfterMs =
      answeredAt === undefined
        ? Infinity
        : answeredAt.getTime() + CLOCK_SKEW_MARGIN_SECONDS * 1_000;
    const rows: ScannedRow[] = [];
    // A child's root now (or none), against the root the copy holds it under: that one is read
    // again too, or its data would keep listing a child that left it until the verify.
    const placed: { id: number; root: number | null }[] = [];
    for (const record of page) {
      // A target of a one2many names its owner (or none: it left every owner).
      const root = relation
        ? (scannedOwner(relation, record) ?? null)
        : child
          ? scannedParent(child, record)
          : record.id;
      if (child) placed.push({ id: record.id, root: root ?? null });
      if (root === undefined) {
        skipped += 1;
        continue;
      }
      const date = scannedDate(record);
      // The stamp's text, which scannedDate read as a datetime, rearranged into ISO form.
      const wd = date === undefined ? null : odooDatetimeIso(record.write_date as string);
      rows.push({ id: record.id, root, wd });
      if (date === undefined) {
        skipped += 1;
        continue;
      }
      const writeMs = date.getTime();
      if (writeMs > futureAfterMs) {
        futureIds.push(record.id);
      } else if (writeMs > maxWriteMs) {
        maxWriteMs = writeMs;
      }
    }
    listed += page.length;
    try {
      await staging;
    } catch (error) {
      // The page asked for meanwhile is dropped; its failure, if any, is not this one's.
      next.catch(() => undefined);
      await pages.return(undefined);
      throw error;
    }
    staging = relation
      ? stageRelationPage(db, ref, relation, rows)
      : stageScanPage(
          db,
          ref,
          input.family,
          child,
          rows.filter((row): row is ScannedRow & { root: number } => row.root !== null),
          input.settled,
        ).then(() => (child ? stageFormerRoots(db, ref, child, placed) : undefined));
  }
  await staging;
  const maxWriteDate = maxWriteMs === -Infinity ? null : new Date(maxWriteMs);
  return { listed, maxWriteDate, skipped, futureIds };
}

export interface ScannedRow {
  readonly id: number;
  /** The record's root; for a one2many target, its owner (null: none). */
  readonly root: number | null;
  /** The stamp as `Date.toISOString()` writes it: one format, so ordered as text is in time. */
  readonly wd: string | null;
}

/**
 * Stages the roots a page of one2many targets names: the owner each has now and the owner the
 * copy links it to. Never proven: the target's stamp says nothing of its place in the owner's
 * list (a rename can reorder it).
 */
async function stageRelationPage(
  db: Db,
  ref: StageRef,
  scan: RelationScan,
  rows: readonly ScannedRow[],
): Promise<void> {
  if (rows.length === 0) return;
  const targets = sql`jsonb_to_recordset(${JSON.stringify(rows.map((row) => ({ id: row.id, owner: row.root })))}::jsonb) as x(id int, owner int)`;
  await db.execute(sql`
    insert into sync_scan (run_id, token, kind, odoo_id, proven)
    select ${ref.runId}, ${ref.token}, 'plan', r.root, false from (
      select ${ownerRoot(scan, sql`x.owner`)} as root from ${targets} where x.owner is not null
      union
      select ${ownerRoot(scan, sql`l.owner_id`)} from ${targets}
        join ${linkTable(scan)} l on l.target_id = x.id
    ) r
    where r.root is not null
    on conflict (run_id, token, kind, odoo_id) do update set proven = false`);
}

/**
 * Stages the roots the copy holds these children under when Odoo now puts them under another
 * root or none: a child moved or detached changes the one2many of its former root, whose stamp
 * Odoo does not move. Never proven.
 */
async function stageFormerRoots(
  db: Db,
  ref: StageRef,
  child: ChildModel,
  placed: readonly { id: number; root: number | null }[],
): Promise<void> {
  if (placed.length === 0) return;
  const parent = sql.identifier(child.parentColumn);
  await db.execute(sql`
    insert into sync_scan (run_id, token, kind, odoo_id, proven)
    select ${ref.runId}, ${ref.token}, 'plan', r.root, false from (
      select distinct l.${parent} as root
      from jsonb_to_recordset(${JSON.stringify(placed)}::jsonb) as x(id int, root int)
      join ${childWriteShape(child).table} l on l.odoo_id = x.id
      where l.${parent} is distinct from x.root) r
    on conflict (run_id, token, kind, odoo_id) do update set proven = false`);
}

/**
 * Stages a scan page: the roots it names, and whether the settled stamps prove each current. A
 * root with a record stamped after what is settled (most of a mass update's) is decided here and
 * staged as one row; only the roots all of whose records could be proven are checked against the
 * copy in SQL. Exported for bench/proof-bench.ts.
 */
export async function stageScanPage(
  db: Db,
  ref: StageRef,
  family: RecordFamily,
  child: ChildModel | undefined,
  rows: readonly (ScannedRow & { root: number })[],
  settled: SettledStamps | null,
): Promise<void> {
  const through = settled?.settledThrough.toISOString();
  const unproven = new Set<number>();
  for (const row of rows)
    if (row.wd === null || through === undefined || row.wd > through) unproven.add(row.root);
  const candidates = rows.filter((row) => !unproven.has(row.root));
  const upsert = sql`on conflict (run_id, token, kind, odoo_id) do update
    set proven = sync_scan.proven and excluded.proven`;
  if (unproven.size > 0)
    await db.execute(sql`
      insert into sync_scan (run_id, token, kind, odoo_id, proven)
      select ${ref.runId}, ${ref.token}, 'plan', id, false from unnest(${intArray([...unproven])}::int[]) as id
      ${upsert}`);
  if (candidates.length === 0 || !settled) return;
  const at = settled.settledAt.toISOString();
  const records = sql`jsonb_to_recordset(${JSON.stringify(candidates)}::jsonb) as x(id int, root int, wd timestamptz)`;
  // A row written after the settling run started by another writer (a webhook, a resync) may hold
  // an older version of the stamp; one the settling run wrote, and no one since, holds what it
  // read after the stamp settled.
  const late = (row: CopyAlias) => sql`${sql.raw(row)}.synced_at > ${at}::timestamptz`;
  const liveRoot = sql`b.odoo_id is not null and b.archived_at is null`;
  const roots = rootWriteShape(family.root).table;
  if (!child) {
    await db.execute(sql`
      insert into sync_scan (run_id, token, kind, odoo_id, proven)
      select ${ref.runId}, ${ref.token}, 'plan', x.id, coalesce(
        b.odoo_write_date = x.wd and ${liveRoot}
          and (not ${late('b')} or ${settlingRunWroteRoot(family, settled.byRun)}),
        false)
      from ${records}
      left join ${roots} b on b.odoo_id = x.id
      ${upsert}`);
    return;
  }
  // A root's rows written late are gathered, then looked up at once among the settling run's
  // writes of that root: a root of thousands of children costs one pass, not one per child.
  await db.execute(sql`
    insert into sync_scan (run_id, token, kind, odoo_id, proven)
    select ${ref.runId}, ${ref.token}, 'plan', g.root, g.fits and case when cardinality(g.late) = 0
      then true else ${settlingRunWroteAll(family, settled.byRun, sql`g.late`)} end
    from (
      select x.root, bool_and(coalesce(
          l.${sql.identifier(child.parentColumn)} = x.root and l.odoo_write_date = x.wd and ${liveRoot},
          false)) as fits,
        coalesce(array_agg(${writeKey('l', child.model)}) filter (where ${late('l')}), '{}')
          || coalesce((array_agg(${writeKey('b', family.root.model)}) filter (where ${late('b')}))[1:1], '{}')
          as late
      from ${records}
      left join ${childWriteShape(child).table} l on l.odoo_id = x.id
      left join ${roots} b on b.odoo_id = x.root
      group by x.root) g
    ${upsert}`);
}

/** The proof's aliases of a copy row (a root's, a child's), spliced into its SQL as they are. */
type CopyAlias = 'b' | 'l';

/** A copy row's write as its audit row names it: model, id and the instant it was written. */
function writeKey(row: CopyAlias, model: string): SQL {
  return sql`${model}::text || ' ' || ${sql.raw(row)}.odoo_id || ' ' || ${sql.raw(row)}.synced_at::text`;
}

/**
 * The settling run's audit rows of a root (`g.root`, or the root row `b`'s), through the audit's
 * index of a root's history: after the last one committed when the run started, in its name. A
 * row that run wrote, and no one since, has one stamped as the row was written (an audit row and
 * its row share their transaction's `now()`; any later write of the row, audited or not, moves
 * `synced_at`).
 */
function settlingRunAudit(
  family: RecordFamily,
  byRun: NonNullable<SettledStamps['byRun']>,
  root: 'g.root' | 'b.odoo_id',
): SQL {
  return sql`a.family = ${family.name} and a.root_odoo_id = ${sql.raw(root)}
    and a.id > ${byRun.auditAfter} and a.run_id = ${byRun.runId}`;
}

/** Whether the settling run wrote the root row `b` itself, and no one since: one probe. */
function settlingRunWroteRoot(family: RecordFamily, byRun: SettledStamps['byRun']): SQL {
  if (byRun === null) return sql`false`;
  return sql`exists (select 1 from sync_audit a where ${settlingRunAudit(family, byRun, 'b.odoo_id')}
    and a.model = ${family.root.model} and a.odoo_id = b.odoo_id and a.created_at = b.synced_at)`;
}

/**
 * Whether the settling run wrote each row of root `g.root` that `keys` (writeKey) names itself,
 * and no one since: the root's audit rows are read once and the keys looked up in them, where a
 * probe per row would read them all again for each of a root's thousands of children.
 */
function settlingRunWroteAll(family: RecordFamily, byRun: SettledStamps['byRun'], keys: SQL): SQL {
  if (byRun === null) return sql`false`;
  return sql`coalesce((
    select jsonb_object_agg(a.model || ' ' || a.odoo_id || ' ' || a.created_at::text, true)
    from sync_audit a where ${settlingRunAudit(family, byRun, 'g.root')}) ?& ${keys}, false)`;
}

/** How the plan stands: roots the scans listed, those proven current, and those to read. */
export async function planCounts(
  db: Db,
  ref: StageRef,
  excluded: readonly number[],
): Promise<{ listed: number; proven: number; toRead: number }> {
  const [row] = rowsOf<{ listed: number; proven: number; to_read: number }>(
    await db.execute(sql`
      select count(*)::int as listed, count(*) filter (where proven)::int as proven,
        count(*) filter (where not proven and odoo_id <> all(${intArray(excluded)}::int[]))::int as to_read
      from sync_scan where run_id = ${ref.runId} and token = ${ref.token} and kind = 'plan'`),
  );
  return { listed: row!.listed, proven: row!.proven, toRead: row!.to_read };
}

/**
 * Takes roots out of the plan: the due pending failures, which the run retries each with a job of
 * its own. Called once the plan is counted; its pages are then read back without them.
 */
export async function dropFromPlan(
  db: Db,
  ref: StageRef,
  odooIds: readonly number[],
): Promise<void> {
  if (odooIds.length === 0) return;
  await db.execute(sql`
    delete from sync_scan
    where run_id = ${ref.runId} and token = ${ref.token} and kind = 'plan'
      and odoo_id = any(${intArray(odooIds)}::int[])`);
}

/** Pages read back from the stage per query. */
const PAGES_PER_QUERY = 20;

/** The run's pages of roots to read after root `afterId`, in id order, leaving out those proven. */
export async function* plannedPages(
  db: Db,
  ref: StageRef,
  pageSize: number,
  afterId = 0,
): AsyncGenerator<number[]> {
  const limit = pageSize * PAGES_PER_QUERY;
  for (let lastId = afterId; ;) {
    const ids = rowsOf<{ odoo_id: number }>(
      await db.execute(sql`
        select odoo_id from sync_scan
        where run_id = ${ref.runId} and token = ${ref.token} and kind = 'plan' and not proven
          and odoo_id > ${lastId}
        order by odoo_id limit ${limit}`),
    ).map((row) => row.odoo_id);
    for (let i = 0; i < ids.length; i += pageSize) yield ids.slice(i, i + pageSize);
    if (ids.length < limit) return;
    lastId = ids[ids.length - 1]!;
  }
}
