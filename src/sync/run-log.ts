/**
 * The run log (`sync_log`): one row per sync, reconcile or verify run of a family, opened when the run
 * starts and closed once. A row never stays `running` after its run is gone: the next run of the
 * family that takes its lease closes every running row of the family it does not own.
 */
import { and, desc, eq, lt, ne, sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { textArray } from '../db/sql-rows.js';
import {
  syncLog,
  type SyncLogRow,
  type SyncRunError,
  type SyncRunStatus,
} from '../db/schema/index.js';
import { toSafeError } from '../lib/errors.js';
import { MAX_REPORTED_ERRORS, type RunCounts } from './run-counts.js';
import type { Lease } from './sync-state.js';

export type RunKind = 'sync' | 'reconcile' | 'verify';

/** A stored run error: a code and a safe message, never what a server said. */
export function toRunError(error: unknown, odooId?: number): SyncRunError {
  const { code, message } = toSafeError(error);
  return { ...(odooId === undefined ? {} : { odooId }), code, message };
}

/**
 * Opens the run's row, or finds it again when the same owner re-enters (its job ran again after
 * a crash): one run, one row.
 */
export async function openRun(
  db: Db,
  values: { family: string; kind: RunKind; trigger: string; leaseOwner: string },
): Promise<SyncLogRow> {
  const [existing] = await db
    .select()
    .from(syncLog)
    .where(
      and(
        eq(syncLog.family, values.family),
        eq(syncLog.leaseOwner, values.leaseOwner),
        eq(syncLog.status, 'running'),
      ),
    );
  if (existing) return existing;
  const [row] = await db
    .insert(syncLog)
    .values({ ...values, status: 'running' })
    .returning();
  return row!;
}

/** What a running run knows so far: its window and planned pages. */
export async function noteRunPlan(
  db: Db,
  runId: number,
  values: { windowFrom: Date | null; counts: Partial<RunCounts> },
): Promise<void> {
  await db
    .update(syncLog)
    .set({ windowFrom: values.windowFrom, ...values.counts })
    .where(and(eq(syncLog.id, runId), eq(syncLog.status, 'running')));
}

/**
 * Where a running sync run stands, as its row says: the pages that have settled of its pages.
 * Null for a run that ended, and for a reconcile or a verify, which queue no pages in waves.
 */
export function runProgress(row: SyncLogRow): { pagesDone: number; pages: number } | null {
  return row.status === 'running' && row.kind === 'sync'
    ? { pagesDone: row.pagesDone, pages: row.pages }
    : null;
}

/**
 * One more page of a running run has settled: the run's progress moves a page at a time. A page
 * settled twice (its job run again) cannot take it past the run's pages, and each wave's exact
 * count ({@link noteRunProgress}) replaces it.
 */
export async function notePageSettled(db: Db, runId: number): Promise<void> {
  await db
    .update(syncLog)
    .set({ pagesDone: sql`least(${syncLog.pages}, ${syncLog.pagesDone} + 1)` })
    .where(and(eq(syncLog.id, runId), eq(syncLog.status, 'running')));
}

/**
 * Where a running run stands once a wave has settled: the pages queued before the next wave,
 * every one of them settled.
 */
export async function noteRunProgress(db: Db, runId: number, pagesDone: number): Promise<void> {
  await db
    .update(syncLog)
    .set({ pagesDone })
    .where(and(eq(syncLog.id, runId), eq(syncLog.status, 'running')));
}

/**
 * Closes a running row. Returns the closed row and whether this call closed it (a re-entered
 * finish finds it closed already and must not count twice). With `heldBy`, only while that lease
 * is still held: an execution that another one superseded (same run, a newer token) leaves the
 * row to it.
 */
export async function closeRun(
  db: Db,
  runId: number,
  values: {
    status: Exclude<SyncRunStatus, 'running'>;
    counts?: Partial<RunCounts>;
    errors?: readonly SyncRunError[];
    windowTo?: Date | null;
    /** A verify's drift: per model and field, how many records differed. */
    driftFields?: Readonly<Record<string, Readonly<Record<string, number>>>>;
    heldBy?: Lease;
  },
): Promise<{ row: SyncLogRow; closedNow: boolean }> {
  const held = values.heldBy
    ? sql`exists (select 1 from sync_state where key = ${values.heldBy.key}
        and lease_owner = ${values.heldBy.owner} and lease_token = ${values.heldBy.token})`
    : undefined;
  const [row] = await db
    .update(syncLog)
    .set({
      status: values.status,
      finishedAt: sql`now()`,
      ...values.counts,
      ...(values.errors ? { errors: values.errors.slice(0, MAX_REPORTED_ERRORS) } : {}),
      ...(values.windowTo !== undefined ? { windowTo: values.windowTo } : {}),
      ...(values.driftFields ? { driftFields: values.driftFields } : {}),
    })
    .where(and(eq(syncLog.id, runId), eq(syncLog.status, 'running'), held))
    .returning();
  if (row) return { row, closedNow: true };
  const existing = await readRun(db, runId);
  if (!existing) throw new Error(`sync_log row ${runId} does not exist`);
  return { row: existing, closedNow: false };
}

/** The run log (of some families, or of every family), newest first, a page at a time. */
export async function listRuns(
  db: Db,
  page: { limit: number; beforeId?: number; families?: readonly string[] },
): Promise<SyncLogRow[]> {
  return db
    .select()
    .from(syncLog)
    .where(
      and(
        page.families === undefined
          ? undefined
          : sql`${syncLog.family} = any(${textArray(page.families)}::text[])`,
        page.beforeId === undefined ? undefined : lt(syncLog.id, page.beforeId),
      ),
    )
    .orderBy(desc(syncLog.id))
    .limit(page.limit);
}

export async function readRun(db: Db, runId: number): Promise<SyncLogRow | undefined> {
  const [row] = await db.select().from(syncLog).where(eq(syncLog.id, runId));
  return row;
}

/** Logs a run that did not start, with why (another run holds the lease). */
export async function recordSkippedRun(
  db: Db,
  values: {
    family: string;
    kind: RunKind;
    trigger: string;
    leaseOwner: string;
    error: SyncRunError;
  },
): Promise<number> {
  const [row] = await db
    .insert(syncLog)
    .values({
      family: values.family,
      kind: values.kind,
      trigger: values.trigger,
      leaseOwner: values.leaseOwner,
      status: 'skipped',
      finishedAt: sql`now()`,
      errors: [values.error],
    })
    .returning({ id: syncLog.id });
  return row!.id;
}

/**
 * Closes a run that `error` ended, as failed with its Odoo calls so far, only while `run.lease`
 * still holds (closeRun): what a superseded execution leaves to the one that took its place.
 */
export async function closeFailedRun(
  db: Db,
  run: { readonly runId: number; readonly lease: Lease },
  error: SyncRunError,
  odooCalls: number,
): Promise<{ row: SyncLogRow; closedNow: boolean }> {
  return closeRun(db, run.runId, {
    status: 'failed',
    errors: [error],
    counts: { odooCalls },
    heldBy: run.lease,
  });
}

/**
 * Closes the rows of a family's runs that ended without closing them (a worker killed, a job
 * removed by hand). Only the family's lease holder calls this: no other run of it is alive then.
 */
export async function closeAbandonedRuns(db: Db, family: string, holder: string): Promise<number> {
  const rows = await db
    .update(syncLog)
    .set({
      status: 'failed',
      finishedAt: sql`now()`,
      errors: sql`${JSON.stringify([
        {
          code: 'SYNC_RUN_ABANDONED',
          message: 'the run ended without finishing (its worker died or its job was removed)',
        },
      ])}::jsonb`,
    })
    .where(
      and(
        eq(syncLog.family, family),
        eq(syncLog.status, 'running'),
        ne(syncLog.leaseOwner, holder),
      ),
    )
    .returning({ id: syncLog.id });
  return rows.length;
}
