/** The run log (`sync_log`) and the pending failures (`sync_failure`) of the sync. */
import { eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import {
  syncFailure,
  syncState,
  syncLog,
  type SyncLogRow,
  type SyncRunError,
  type SyncRunStatus,
} from '../db/schema/index.js';
import { AppError, describeError } from '../lib/errors.js';
import { BC_SYNC_KEY } from './models.js';

export type RunKind = 'sync' | 'reconcile';

export interface RunCounts {
  pages: number;
  bcsSeen: number;
  created: number;
  updated: number;
  unchanged: number;
  archived: number;
  restored: number;
  linesDeleted: number;
  failed: number;
  odooCalls: number;
}

export const ZERO_COUNTS: Readonly<RunCounts> = Object.freeze({
  pages: 0,
  bcsSeen: 0,
  created: 0,
  updated: 0,
  unchanged: 0,
  archived: 0,
  restored: 0,
  linesDeleted: 0,
  failed: 0,
  odooCalls: 0,
});

export function addCounts(a: Readonly<RunCounts>, b: Partial<RunCounts>): RunCounts {
  const sum = { ...a };
  for (const key of Object.keys(ZERO_COUNTS) as (keyof RunCounts)[]) sum[key] += b[key] ?? 0;
  return sum;
}

/** How many error entries one run row keeps: enough to diagnose, never a megabyte of JSON. */
const MAX_LOGGED_ERRORS = 50;

export function toRunError(error: unknown, odooId?: number): SyncRunError {
  const code = error instanceof AppError ? error.code : 'ERROR';
  return {
    ...(odooId === undefined ? {} : { odooId }),
    code,
    message: describeError(error).slice(0, 500),
  };
}

export async function openRun(
  db: Db,
  values: { kind: RunKind; trigger: string; leaseOwner: string; status?: SyncRunStatus },
): Promise<SyncLogRow> {
  const [row] = await db
    .insert(syncLog)
    .values({
      kind: values.kind,
      trigger: values.trigger,
      leaseOwner: values.leaseOwner,
      status: values.status ?? 'running',
    })
    .returning();
  return row!;
}

export async function closeRun(
  db: Db,
  runId: number,
  values: {
    status: SyncRunStatus;
    counts?: Partial<RunCounts>;
    errors?: SyncRunError[];
    windowFrom?: Date | null;
    windowTo?: Date | null;
  },
): Promise<SyncLogRow> {
  const [row] = await db
    .update(syncLog)
    .set({
      status: values.status,
      finishedAt: sql`now()`,
      ...values.counts,
      ...(values.errors ? { errors: values.errors.slice(0, MAX_LOGGED_ERRORS) } : {}),
      ...(values.windowFrom !== undefined ? { windowFrom: values.windowFrom } : {}),
      ...(values.windowTo !== undefined ? { windowTo: values.windowTo } : {}),
    })
    .where(eq(syncLog.id, runId))
    .returning();
  return row!;
}

export async function readRun(db: Db, runId: number): Promise<SyncLogRow | undefined> {
  const [row] = await db.select().from(syncLog).where(eq(syncLog.id, runId));
  return row;
}

/**
 * Logs a run that did not start because another holds the lease, naming the holder; returns the
 * log row's id and the holder.
 */
export async function recordSkippedRun(
  db: Db,
  values: { kind: RunKind; trigger: string; leaseOwner: string },
): Promise<{ runId: number; heldBy: string | null }> {
  const [current] = await db
    .select({ owner: syncState.leaseOwner })
    .from(syncState)
    .where(eq(syncState.key, BC_SYNC_KEY));
  const heldBy = current?.owner ?? null;
  const run = await openRun(db, { ...values, status: 'skipped' });
  await closeRun(db, run.id, {
    status: 'skipped',
    errors: [
      { code: 'SYNC_LEASE_HELD', message: `another run holds the lease (${heldBy ?? 'unknown'})` },
    ],
  });
  return { runId: run.id, heldBy };
}

/** Records that a BC's last attempt failed; it is retried first by every later run. */
export async function recordFailure(
  db: Db,
  values: { odooId: number; error: unknown; runId?: number | null; jobId?: string | null },
): Promise<void> {
  const { code, message } = toRunError(values.error);
  await db
    .insert(syncFailure)
    .values({
      odooId: values.odooId,
      errorCode: code,
      error: message,
      lastRunId: values.runId ?? null,
      lastJobId: values.jobId ?? null,
    })
    .onConflictDoUpdate({
      target: syncFailure.odooId,
      set: {
        errorCode: code,
        error: message,
        attempts: sql`${syncFailure.attempts} + 1`,
        lastRunId: values.runId ?? null,
        lastJobId: values.jobId ?? null,
        lastFailedAt: sql`now()`,
      },
    });
}

export async function clearFailures(db: Db, odooIds: readonly number[]): Promise<number> {
  if (odooIds.length === 0) return 0;
  const rows = await db
    .delete(syncFailure)
    .where(inArray(syncFailure.odooId, [...odooIds]))
    .returning({ odooId: syncFailure.odooId });
  return rows.length;
}

export async function pendingFailureIds(db: Db): Promise<number[]> {
  const rows = await db
    .select({ odooId: syncFailure.odooId })
    .from(syncFailure)
    .orderBy(syncFailure.odooId);
  return rows.map((row) => row.odooId);
}
