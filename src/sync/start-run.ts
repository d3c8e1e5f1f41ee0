/**
 * Step one of an incremental run (job `sync-run`, first pass): take the lease, close the rows of
 * runs that died, open this run's row, and plan: the BCs changed since `watermark - overlap`, the
 * BCs whose lines changed since `line watermark - overlap`, cut into pages, and the pending
 * failures that are due, each retried on its own.
 *
 * The next watermarks come from the scans, never from records read later: a run can take longer
 * than the overlap (a first sync, a catch-up, a slow Odoo), and a BC changed during the run that
 * the scan did not list must still fall inside the next run's window.
 */
import type { OdooCallOptions } from '../clients/odoo/odoo-types.js';
import { BC_LINE_MODEL, BC_MODEL, BC_SYNC_KEY } from './models.js';
import { countCalls } from './odoo-source.js';
import { latestWriteDate, scanChanges, type SyncSchema } from './odoo-reads.js';
import {
  closeAbandonedRuns,
  closeRun,
  noteRunPlan,
  openRun,
  recordSkippedRun,
  toRunError,
} from './run-log.js';
import { withRunLease, type RunRef } from './run-lease.js';
import { provenCurrent, settledBy } from './settled.js';
import { dueFailureIds } from './sync-failures.js';
import {
  readSyncState,
  recordFailureWithoutLease,
  recordRunStart,
  releaseLease,
  resetWatermarks,
  takeLease,
} from './sync-state.js';
import type { SyncDeps } from './sync-deps.js';

/** Pending failures one run retries at most; the rest wait for the next runs, oldest first. */
export const MAX_RETRIES_PER_RUN = 500;

export interface StartRunInput {
  readonly trigger: string;
  /** Names the run's lease; the same owner re-entering (a job run again after a crash) resumes. */
  readonly owner: string;
  /** A scheduled run skips while the schedule is paused; one a person asked for runs anyway. */
  readonly scheduled: boolean;
  /** Re-read everything: the watermarks start from nothing; the copy keeps its data. */
  readonly full: boolean;
}

/** What the run's last step needs to know from its first. */
export interface RunPlan {
  readonly schema: SyncSchema;
  readonly pages: number[][];
  readonly retryIds: number[];
  /** The next watermarks, as the scans proved them (ISO strings: they travel in job data). */
  readonly watermark: string | null;
  readonly lineWatermark: string | null;
  /** What this run proves settled once it succeeds, and when it started (see settled.ts). */
  readonly settledThrough: string | null;
  readonly startedAt: string;
  readonly odooCalls: number;
}

export type StartedRun =
  | { readonly status: 'paused' }
  | { readonly status: 'skipped'; readonly runId: number; readonly heldBy: string | null }
  | { readonly status: 'started'; readonly run: RunRef; readonly plan: RunPlan };

function minusSeconds(date: Date | null, seconds: number): Date | null {
  return date ? new Date(date.getTime() - seconds * 1_000) : null;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

export async function startRun(
  deps: SyncDeps,
  input: StartRunInput,
  call?: OdooCallOptions,
): Promise<StartedRun> {
  const { db, settings, logger } = deps;
  if (input.scheduled && (await readSyncState(db, BC_SYNC_KEY))?.pausedAt) {
    logger.info(
      { trigger: input.trigger },
      'scheduled sync run not started: the schedule is paused',
    );
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
      kind: 'sync',
      trigger: input.trigger,
      leaseOwner: input.owner,
      error: {
        code: 'SYNC_LEASE_HELD',
        message: `another run holds the lease (${heldBy ?? 'unknown'})`,
      },
    });
    logger.info({ runId, heldBy }, 'sync run skipped: another run holds the lease');
    return { status: 'skipped', runId, heldBy };
  }
  const { state, lease } = taken;
  const abandoned = await closeAbandonedRuns(db, input.owner);
  if (abandoned > 0) logger.warn({ abandoned }, 'closed the log rows of runs that died');
  const row = await openRun(db, { kind: 'sync', trigger: input.trigger, leaseOwner: input.owner });
  const run: RunRef = { runId: row.id, lease };
  await recordRunStart(db, BC_SYNC_KEY, run.runId);

  const odoo = countCalls(deps.odoo);
  try {
    return await withRunLease(deps, lease, call?.signal, async (signal) => {
      if (input.full) await resetWatermarks(db, lease);
      const calls = { signal };
      const schema = await deps.schema(odoo, calls);
      const windowFrom = input.full ? null : minusSeconds(state.watermark, settings.overlapSeconds);
      const lineFrom = input.full
        ? null
        : minusSeconds(state.lineWatermark, settings.overlapSeconds);
      const [bcScan, lineScan, retryIds] = await Promise.all([
        scanChanges(odoo, BC_MODEL, windowFrom, schema.context, calls),
        // Without a BC window every BC is read: the lines only tell the next line watermark.
        windowFrom === null
          ? latestWriteDate(odoo, BC_LINE_MODEL, schema.context, calls)
          : scanChanges(odoo, BC_LINE_MODEL, lineFrom, schema.context, calls),
        dueFailureIds(db, MAX_RETRIES_PER_RUN),
      ]);
      // Odoo's clock now: every page of this run reads after it.
      const settledThrough = settledBy(odoo.serverTime?.(), settings.overlapSeconds);
      const proven =
        windowFrom === null
          ? new Set<number>()
          : await provenCurrent(db, state, {
              bcs: bcScan.scanned,
              lines: lineScan.scanned,
            });
      const retried = new Set(retryIds);
      const ids = [...new Set([...bcScan.bcIds, ...lineScan.bcIds])]
        .filter((id) => !retried.has(id) && !proven.has(id))
        .sort((a, b) => a - b);
      const pages = chunk(ids, settings.pageSize);
      await noteRunPlan(db, run.runId, {
        windowFrom,
        counts: { pages: pages.length, odooCalls: odoo.calls },
      });
      const skipped = bcScan.skipped + lineScan.skipped;
      logger[skipped > 0 ? 'warn' : 'info'](
        {
          runId: run.runId,
          windowFrom,
          full: input.full,
          bcs: ids.length,
          changedBcs: bcScan.bcIds.length,
          bcsWithChangedLines: lineScan.bcIds.length,
          retries: retryIds.length,
          settledBcs: proven.size,
          pages: pages.length,
          unusableRecords: skipped,
        },
        skipped > 0
          ? `sync run started; ${skipped} changed records cannot be copied (no write_date, or a line without its BC)`
          : 'sync run started',
      );
      return {
        status: 'started' as const,
        run,
        plan: {
          schema,
          pages,
          retryIds,
          watermark: bcScan.maxWriteDate?.toISOString() ?? null,
          lineWatermark: lineScan.maxWriteDate?.toISOString() ?? null,
          settledThrough: settledThrough?.toISOString() ?? null,
          startedAt: row.startedAt.toISOString(),
          odooCalls: odoo.calls,
        },
      };
    });
  } catch (error) {
    await failRun(deps, run, error, odoo.calls);
    throw error;
  }
}

/** Ends a run that cannot go on: its row says why, its lease is released. */
export async function failRun(
  deps: SyncDeps,
  run: RunRef,
  error: unknown,
  odooCalls: number,
): Promise<void> {
  const runError = toRunError(error);
  await closeRun(deps.db, run.runId, {
    status: 'failed',
    errors: [runError],
    counts: { odooCalls },
  });
  await recordFailureWithoutLease(deps.db, BC_SYNC_KEY, `${runError.code}: ${runError.message}`);
  await releaseLease(deps.db, run.lease);
  deps.logger.error({ runId: run.runId, err: error }, `sync run failed: ${runError.message}`);
}
