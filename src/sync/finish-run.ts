/**
 * The last step of an incremental run (job `sync-run`, second pass), once every page and retried
 * BC has settled: sum their reports, record the retried BCs that failed for good, then — only if
 * the run still holds the lease, was not halted and lost no page — advance the watermarks to what
 * the scans proved, close the log row and release the lease. Runs again safely: a row already
 * closed is reported as it stands.
 */
import type { SyncLogRow, SyncRunError, SyncRunStatus } from '../db/schema/index.js';
import { BC_SYNC_KEY } from './models.js';
import { countsOf, mergeReports, reportOf, type RunCounts, type RunReport } from './run-counts.js';
import { closeRun, readRun } from './run-log.js';
import type { RunRef } from './run-lease.js';
import { bcFailures, type FailedBc, type FailedChild } from './sync-page.js';
import { clearStage } from './scan-stage.js';
import { recordFailures } from './sync-failures.js';
import {
  readSyncState,
  recordFailureWithoutLease,
  recordRunEnd,
  releaseLease,
} from './sync-state.js';
import type { SyncDeps } from './sync-deps.js';

export interface FinishRunInput {
  readonly run: RunRef;
  /** From the run's first step. */
  readonly watermark: string | null;
  readonly lineWatermark: string | null;
  /** What the run proves settled once it succeeds, and when it started (see settled.ts). */
  readonly settledThrough: string | null;
  readonly startedAt: string | null;
  readonly startCalls: number;
  /** Records the scans saw stamped later than Odoo's clock. */
  readonly futureStamped: number;
  readonly reports: readonly RunReport[];
  /** Pages that failed for good: the run failed, the watermarks stay. */
  readonly failedPages: readonly FailedChild[];
  /** Retried BCs that failed for good. */
  readonly failedBcs: readonly FailedBc[];
}

export interface FinishedRun {
  readonly runId: number;
  readonly status: SyncRunStatus;
  readonly counts: RunCounts;
  readonly watermark: Date | null;
  readonly errors: readonly SyncRunError[];
  /** From the run log: its start to its end. */
  readonly durationMs: number;
}

export async function finishRun(deps: SyncDeps, input: FinishRunInput): Promise<FinishedRun> {
  const { db, logger, settings } = deps;
  const { run } = input;
  const existing = await readRun(db, run.runId);
  if (existing && existing.status !== 'running') return finished(existing, null);

  await recordFailures(db, bcFailures(run, input.failedBcs), settings.failureBackoffBaseMs);
  const report = mergeReports([
    reportOf({ odooCalls: input.startCalls, futureStamped: input.futureStamped }),
    ...input.reports,
    reportOf(
      { bcsSeen: input.failedBcs.length, failed: input.failedBcs.length },
      input.failedBcs.map((child) => ({
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

  const state = await readSyncState(db, BC_SYNC_KEY);
  const held =
    state?.isSyncing === true &&
    state.leaseOwner === run.lease.owner &&
    state.leaseToken === run.lease.token;
  const errors: SyncRunError[] = [...report.errors];
  if (!held)
    errors.unshift({
      code: 'SYNC_LEASE_LOST',
      message: 'the lease expired and another run took over; watermarks left alone',
    });
  else if (state.haltCode)
    errors.unshift({ code: state.haltCode, message: 'the run was halted; watermarks left alone' });
  const status: Exclude<SyncRunStatus, 'running'> =
    !held || state.haltCode || input.failedPages.length > 0
      ? 'failed'
      : report.counts.failed > 0
        ? 'partial'
        : 'succeeded';

  const firstError = errors[0] ? `${errors[0].code}: ${errors[0].message}` : null;
  const after = held
    ? await recordRunEnd(db, run.lease, {
        status,
        error: status === 'failed' ? firstError : null,
        watermark: input.watermark ? new Date(input.watermark) : null,
        lineWatermark: input.lineWatermark ? new Date(input.lineWatermark) : null,
        settledThrough: input.settledThrough ? new Date(input.settledThrough) : null,
        startedAt: input.startedAt ? new Date(input.startedAt) : null,
      })
    : undefined;
  if (!after) await recordFailureWithoutLease(db, BC_SYNC_KEY, firstError ?? 'lease lost');
  const advanced = after !== undefined && status !== 'failed';
  const { row } = await closeRun(db, run.runId, {
    status,
    counts: report.counts,
    errors,
    windowTo: advanced && input.watermark ? new Date(input.watermark) : null,
  });
  await clearStage(db, { runId: run.runId, token: run.lease.token });
  if (held) await releaseLease(db, run.lease);
  const result = finished(row, after?.watermark ?? state?.watermark ?? null);
  const { durationMs } = result;
  logger[status === 'failed' ? 'error' : 'info'](
    {
      runId: run.runId,
      status,
      ...report.counts,
      durationMs,
      bcsPerSecond:
        durationMs > 0 ? Math.round((report.counts.bcsSeen * 1_000) / durationMs) : null,
      watermark: result.watermark,
    },
    `sync run ${status}: ${report.counts.created} created, ${report.counts.updated} updated, ` +
      `${report.counts.archived} archived, ${report.counts.failed} failed in ${(durationMs / 1_000).toFixed(1)} s`,
  );
  return result;
}

function finished(row: SyncLogRow, watermark: Date | null): FinishedRun {
  return {
    runId: row.id,
    status: row.status,
    counts: countsOf(row),
    watermark,
    errors: row.errors,
    durationMs: (row.finishedAt ?? new Date()).getTime() - row.startedAt.getTime(),
  };
}
