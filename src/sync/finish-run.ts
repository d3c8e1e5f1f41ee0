/**
 * The last step of an incremental run (job `sync-run`, second pass), once every page and retried
 * record has settled: sum their reports, record the retried records that failed for good, then —
 * only if the run still holds the lease, was not halted and lost no page — advance the watermarks
 * to what the scans proved, close the log row and release the lease. Runs again safely: a row
 * already closed is reported as it stands.
 */
import type { SyncLogRow, SyncRunError, SyncRunStatus } from '../db/schema/index.js';
import type { RecordFamily } from '../families/family.js';
import { countsOf, mergeReports, reportOf, type RunCounts, type RunReport } from './run-counts.js';
import { closeRun, readRun } from './run-log.js';
import {
  recordFailures,
  recordFailuresOf,
  type FailedChild,
  type FailedRecord,
} from './sync-failures.js';
import type { RunState } from './run-state.js';
import { clearStage } from './scan-stage.js';
import {
  readSyncState,
  readWatermarks,
  recordFailureWithoutLease,
  recordRunEnd,
  releaseLease,
} from './sync-state.js';
import type { SyncDeps } from './sync-deps.js';

export interface FinishRunInput {
  readonly family: RecordFamily;
  /** The run's step state, as its first step left it (run-state.ts). */
  readonly state: RunState;
  readonly reports: readonly RunReport[];
  /** Pages that failed for good: the run failed, the watermarks stay. */
  readonly failedPages: readonly FailedChild[];
  /** Retried records that failed for good. */
  readonly failedRecords: readonly FailedRecord[];
}

export interface FinishedRun {
  readonly family: string;
  readonly runId: number;
  readonly status: SyncRunStatus;
  readonly counts: RunCounts;
  readonly watermarks: Readonly<Record<string, Date>>;
  readonly errors: readonly SyncRunError[];
  /** From the run log: its start to its end. */
  readonly durationMs: number;
}

export async function finishRun(deps: SyncDeps, input: FinishRunInput): Promise<FinishedRun> {
  const { db, logger, settings } = deps;
  const { family, state } = input;
  const { run } = state;
  const existing = await readRun(db, run.runId);
  if (existing && existing.status !== 'running')
    return finished(existing, await readWatermarks(db, family.name));

  await recordFailures(
    db,
    family.name,
    recordFailuresOf(run, input.failedRecords),
    settings.failureBackoffBaseMs,
  );
  const report = mergeReports([
    reportOf({ odooCalls: state.startCalls, futureStamped: state.futureStamped }, [
      ...state.scanErrors,
    ]),
    ...input.reports,
    reportOf(
      { recordsSeen: input.failedRecords.length, failed: input.failedRecords.length },
      input.failedRecords.map((child) => ({
        odooId: child.odooId,
        code: child.failure.code,
        message: child.failure.message,
      })),
    ),
    reportOf(
      { pages: input.failedPages.length },
      input.failedPages.map((page) => ({
        code: page.failure.code,
        message: page.failure.message,
      })),
    ),
  ]);

  const syncState = await readSyncState(db, family.name);
  const held =
    syncState?.isSyncing === true &&
    syncState.leaseOwner === run.lease.owner &&
    syncState.leaseToken === run.lease.token;
  const errors: SyncRunError[] = [...report.errors];
  if (!held)
    errors.unshift({
      code: 'SYNC_LEASE_LOST',
      message: 'the lease expired and another run took over; watermarks left alone',
    });
  else if (syncState.haltCode)
    errors.unshift({
      code: syncState.haltCode,
      message: 'the run was halted; watermarks left alone',
    });
  const status: Exclude<SyncRunStatus, 'running'> =
    !held || syncState.haltCode || input.failedPages.length > 0
      ? 'failed'
      : report.counts.failed > 0 || state.scanErrors.length > 0
        ? 'partial'
        : 'succeeded';

  const after = held
    ? await recordRunEnd(db, run.lease, {
        status,
        error: status === 'failed' ? (errors[0] ?? null) : null,
        watermarks: state.watermarks,
        settledThrough: state.settledThrough,
        startedAt: state.startedAt,
        runId: run.runId,
        auditAfter: state.auditAfter ?? null,
      })
    : undefined;
  if (!after)
    await recordFailureWithoutLease(
      db,
      family.name,
      errors[0] ?? { code: 'SYNC_LEASE_LOST', message: 'lease lost' },
    );
  const advanced = after !== undefined && status !== 'failed';
  const rootWatermark = state.watermarks[family.root.model];
  const { row } = await closeRun(db, run.runId, {
    status,
    counts: report.counts,
    errors,
    windowTo: advanced && rootWatermark ? rootWatermark : null,
  });
  await clearStage(db, { runId: run.runId, token: run.lease.token });
  if (held) await releaseLease(db, run.lease);
  const result = finished(row, await readWatermarks(db, family.name));
  const { durationMs } = result;
  logger[status === 'failed' ? 'error' : 'info'](
    {
      family: family.name,
      runId: run.runId,
      status,
      ...report.counts,
      durationMs,
      recordsPerSecond:
        durationMs > 0 ? Math.round((report.counts.recordsSeen * 1_000) / durationMs) : null,
      watermarks: result.watermarks,
    },
    `${family.name} sync run ${status}: ${report.counts.created} created, ${report.counts.updated} updated, ` +
      `${report.counts.archived} archived, ${report.counts.failed} failed in ${(durationMs / 1_000).toFixed(1)} s`,
  );
  return result;
}

function finished(row: SyncLogRow, watermarks: Readonly<Record<string, Date>>): FinishedRun {
  return {
    family: row.family,
    runId: row.id,
    status: row.status,
    counts: countsOf(row),
    watermarks,
    errors: row.errors,
    durationMs: (row.finishedAt ?? new Date()).getTime() - row.startedAt.getTime(),
  };
}
