/**
 * Every read and write of `sync_failure`, the root records, by family, whose last attempt failed
 * for good. Recording is idempotent per job (the job itself and its parent may both record one
 * failure), and each new failure pushes the next attempt further out: retried by the next run,
 * then after the backoff base, doubling, at most six hours apart.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { syncFailure, type SyncFailureRow, type SyncRunError } from '../db/schema/index.js';
import { intArray, rowsOf, textArray } from '../db/sql-rows.js';
import { AppError, type SafeError } from '../lib/errors.js';
import type { RunRef } from './run-lease.js';

export interface FailureEntry {
  readonly odooId: number;
  readonly error: Pick<SyncRunError, 'code' | 'message'>;
  readonly runId: number | null;
  /** What failed (a job id): the same failure recorded twice counts one attempt. */
  readonly jobId: string;
}

const MAX_BACKOFF_SECONDS = 6 * 3_600;

export async function recordFailures(
  db: Db,
  family: string,
  entries: readonly FailureEntry[],
  backoffBaseMs: number,
): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map((entry) => ({
    odoo_id: entry.odooId,
    error_code: entry.error.code,
    error: entry.error.message,
    last_run_id: entry.runId,
    last_job_id: entry.jobId,
  }));
  const attempts = sql`(sync_failure.attempts + case when sync_failure.last_job_id is not distinct from excluded.last_job_id then 0 else 1 end)`;
  await db.execute(sql`
    insert into sync_failure (family, odoo_id, error_code, error, last_run_id, last_job_id)
    select distinct on (odoo_id) ${family}, odoo_id, error_code, error, last_run_id, last_job_id
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as x(odoo_id int, error_code text, error text, last_run_id bigint, last_job_id text)
    order by odoo_id
    on conflict (family, odoo_id) do update set
      error_code = excluded.error_code,
      error = excluded.error,
      last_run_id = excluded.last_run_id,
      last_failed_at = now(),
      next_attempt_at = now() + least(
        make_interval(secs => ${MAX_BACKOFF_SECONDS}),
        make_interval(secs => ${backoffBaseMs / 1_000} * power(2, greatest(${attempts} - 2, 0)))
      ) * least(${attempts} - 1, 1),
      attempts = ${attempts},
      last_job_id = excluded.last_job_id`);
}

/** Deletes the failures of records that synced; returns how many there were. */
export async function clearFailures(
  db: Db,
  family: string,
  odooIds: readonly number[],
): Promise<number> {
  if (odooIds.length === 0) return 0;
  const rows = await db
    .delete(syncFailure)
    .where(
      and(
        eq(syncFailure.family, family),
        sql`${syncFailure.odooId} = any(${intArray(odooIds)}::int[])`,
      ),
    )
    .returning({ odooId: syncFailure.odooId });
  return rows.length;
}

/** A family's pending failures whose next attempt has come, oldest first. */
export async function dueFailureIds(db: Db, family: string, limit: number): Promise<number[]> {
  const rows = rowsOf<{ odoo_id: number }>(
    await db.execute(sql`
      select odoo_id from sync_failure where family = ${family} and next_attempt_at <= now()
      order by next_attempt_at, odoo_id limit ${limit}`),
  );
  return rows.map((row) => row.odoo_id);
}

/**
 * A page of pending failures (of some families, or of every family), by family and id, and how
 * many there are in all.
 */
export async function listFailures(
  db: Db,
  page: {
    limit: number;
    families?: readonly string[];
    after?: { family: string; odooId: number };
  },
): Promise<{ rows: SyncFailureRow[]; total: number }> {
  const inFamily =
    page.families === undefined
      ? undefined
      : sql`${syncFailure.family} = any(${textArray(page.families)}::text[])`;
  const after =
    page.after === undefined
      ? undefined
      : sql`(${syncFailure.family}, ${syncFailure.odooId}) > (${page.after.family}, ${page.after.odooId})`;
  const [rows, [count]] = await Promise.all([
    db
      .select()
      .from(syncFailure)
      .where(and(inFamily, after))
      .orderBy(asc(syncFailure.family), asc(syncFailure.odooId))
      .limit(page.limit),
    db
      .select({ total: sql<number>`count(*)::int` })
      .from(syncFailure)
      .where(inFamily),
  ]);
  return { rows, total: count?.total ?? 0 };
}

/**
 * Failures that are not a record's own: the run lost its lease, was halted, or Odoo refused the
 * credentials. The run fails for them (its watermarks stay); recording records in sync_failure
 * for them would only fill it with records that have nothing wrong.
 */
const RUN_LEVEL_CODES = new Set(['SYNC_LEASE_LOST', 'SYNC_RUN_HALTED', 'ODOO_AUTH']);

export function isRunLevelFailure(error: unknown): boolean {
  return error instanceof AppError && RUN_LEVEL_CODES.has(error.code);
}

/** A child job that failed for good, as its parent learns it from the queue. */
export interface FailedChild {
  readonly jobId: string;
  readonly failure: SafeError;
}

/** A record job that failed for good. */
export interface FailedRecord extends FailedChild {
  readonly odooId: number;
}

/** The failures of record jobs to record: their own, not the run's. */
export function recordFailuresOf(run: RunRef, failed: readonly FailedRecord[]): FailureEntry[] {
  return failed.flatMap((child) =>
    RUN_LEVEL_CODES.has(child.failure.code)
      ? []
      : [
          {
            odooId: child.odooId,
            error: { code: child.failure.code, message: child.failure.message },
            runId: run.runId,
            jobId: child.jobId,
          },
        ],
  );
}
