/**
 * Step one of an incremental run (job `sync-run`, first pass): take the lease, close the rows of
 * runs that died, open this run's row, and plan: the BCs changed since `watermark - overlap` and
 * the BCs whose lines changed since `line watermark - overlap`, staged in PostgreSQL as the scans
 * go (run-plan.ts), read back as pages; and the pending failures that are due, each retried on
 * its own.
 *
 * The next watermarks come from the scans, never from records read later: a run can take longer
 * than the overlap (a first sync, a catch-up, a slow Odoo), and a BC changed during the run that
 * the scan did not list must still fall inside the next run's window.
 */
import type { OdooCallOptions } from '../clients/odoo/odoo-types.js';
import { BC_LINE_MODEL, BC_MODEL, BC_SYNC_KEY } from './models.js';
import { countCalls } from './odoo-source.js';
import { latestWriteDate, type SyncSchema } from './odoo-reads.js';
import {
  closeAbandonedRuns,
  closeRun,
  noteRunPlan,
  openRun,
  recordSkippedRun,
  toRunError,
} from './run-log.js';
import { withRunLease, type RunRef } from './run-lease.js';
import { planCounts, plannedPages, stageChanges, type ChangeScan } from './run-plan.js';
import { clearEndedStages, clearStage } from './scan-stage.js';
import { settledBy } from './settled.js';
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
  /** The queue job that runs it: workers keep its lease while it waits on its children. */
  readonly jobId?: string;
  /** A scheduled run skips while the schedule is paused; one a person asked for runs anyway. */
  readonly scheduled: boolean;
  /** Re-read everything: the watermarks start from nothing; the copy keeps its data. */
  readonly full: boolean;
}

/** What the run's last step needs to know from its first. */
export interface RunPlan {
  readonly schema: SyncSchema;
  /** The pages of BCs to read, from the stage: iterate once, while the run holds the lease. */
  readonly pages: AsyncIterable<number[]>;
  readonly pageCount: number;
  readonly retryIds: number[];
  /** The next watermarks, as the scans proved them (ISO strings: they travel in job data). */
  readonly watermark: string | null;
  readonly lineWatermark: string | null;
  /** What this run proves settled once it succeeds, and when it started (see settled.ts). */
  readonly settledThrough: string | null;
  readonly startedAt: string;
  readonly odooCalls: number;
  /** Records the scans saw stamped later than Odoo's clock. */
  readonly futureStamped: number;
}

export type StartedRun =
  | { readonly status: 'paused' }
  | { readonly status: 'skipped'; readonly runId: number; readonly heldBy: string | null }
  | { readonly status: 'started'; readonly run: RunRef; readonly plan: RunPlan };

function minusSeconds(date: Date | null, seconds: number): Date | null {
  return date ? new Date(date.getTime() - seconds * 1_000) : null;
}

const NO_LINE_SCAN: ChangeScan = {
  listed: 0,
  maxWriteDate: null,
  skipped: 0,
  futureStamped: 0,
  futureIds: [],
};

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
    ...(input.jobId === undefined ? {} : { jobId: input.jobId }),
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
  await clearEndedStages(db);

  const odoo = countCalls(deps.odoo);
  const stage = { runId: run.runId, token: lease.token };
  try {
    return await withRunLease(deps, lease, call?.signal, async (signal) => {
      if (input.full) await resetWatermarks(db, lease);
      const calls = { signal };
      const schema = await deps.schema(odoo, calls);
      const windowFrom = input.full ? null : minusSeconds(state.watermark, settings.overlapSeconds);
      const lineFrom = input.full
        ? null
        : minusSeconds(state.lineWatermark, settings.overlapSeconds);
      // Without a window every BC is read: nothing to prove current.
      const settled =
        windowFrom !== null && state.settledThrough && state.settledAt
          ? { settledThrough: state.settledThrough, settledAt: state.settledAt }
          : null;
      const scan = (model: typeof BC_MODEL | typeof BC_LINE_MODEL, since: Date | null) =>
        stageChanges(
          db,
          odoo,
          stage,
          { model, since, context: schema.context, settled, scanPageSize: settings.scanPageSize },
          calls,
        );
      const bcScan = await scan(BC_MODEL, windowFrom);
      // Without a BC window every BC is read: the lines only tell the next line watermark.
      const lineScan =
        windowFrom === null
          ? {
              ...NO_LINE_SCAN,
              maxWriteDate: await latestWriteDate(odoo, BC_LINE_MODEL, schema.context, calls),
            }
          : await scan(BC_LINE_MODEL, lineFrom);
      const retryIds = await dueFailureIds(db, MAX_RETRIES_PER_RUN);
      // Odoo's clock now: every page of this run reads after it.
      const settledThrough = settledBy(odoo.serverTime?.(), settings.overlapSeconds);
      const counts = await planCounts(db, stage, retryIds);
      const pageCount = Math.ceil(counts.toRead / settings.pageSize);
      await noteRunPlan(db, run.runId, {
        windowFrom,
        counts: { pages: pageCount, odooCalls: odoo.calls },
      });
      logStart(
        deps,
        { runId: run.runId, windowFrom, full: input.full, counts, pageCount },
        [bcScan, lineScan],
        retryIds.length,
      );
      return {
        status: 'started' as const,
        run,
        plan: {
          schema,
          pages: plannedPages(db, stage, settings.pageSize, retryIds),
          pageCount,
          retryIds,
          watermark: bcScan.maxWriteDate?.toISOString() ?? null,
          lineWatermark: lineScan.maxWriteDate?.toISOString() ?? null,
          settledThrough: settledThrough?.toISOString() ?? null,
          startedAt: row.startedAt.toISOString(),
          odooCalls: odoo.calls,
          futureStamped: bcScan.futureStamped + lineScan.futureStamped,
        },
      };
    });
  } catch (error) {
    await clearStage(db, stage);
    await failRun(deps, run, error, odoo.calls);
    throw error;
  }
}

function logStart(
  deps: SyncDeps,
  run: {
    runId: number;
    windowFrom: Date | null;
    full: boolean;
    counts: { listed: number; proven: number; toRead: number };
    pageCount: number;
  },
  [bcScan, lineScan]: readonly [ChangeScan, ChangeScan],
  retries: number,
): void {
  const { logger } = deps;
  const skipped = bcScan.skipped + lineScan.skipped;
  const future = bcScan.futureStamped + lineScan.futureStamped;
  const fields = {
    runId: run.runId,
    windowFrom: run.windowFrom,
    full: run.full,
    bcs: run.counts.toRead,
    changedBcs: bcScan.listed,
    changedLines: lineScan.listed,
    retries,
    settledBcs: run.counts.proven,
    pages: run.pageCount,
    unusableRecords: skipped,
    futureStamped: future,
  };
  if (future > 0)
    logger.warn(
      {
        ...fields,
        futureBcIds: bcScan.futureIds,
        futureLineIds: lineScan.futureIds,
      },
      `sync run started; ${future} changed records are stamped later than Odoo's clock: read by every run until their stamp is past, never a watermark`,
    );
  else if (skipped > 0)
    logger.warn(
      fields,
      `sync run started; ${skipped} changed records cannot be copied (no write_date, or a line without its BC)`,
    );
  else logger.info(fields, 'sync run started');
}

/**
 * Ends a run that cannot go on: its row says why, its lease is released. An execution another one
 * superseded (the same run under a newer token) leaves both to it.
 */
export async function failRun(
  deps: SyncDeps,
  run: RunRef,
  error: unknown,
  odooCalls: number,
): Promise<void> {
  const runError = toRunError(error);
  const { closedNow } = await closeRun(deps.db, run.runId, {
    status: 'failed',
    errors: [runError],
    counts: { odooCalls },
    heldBy: run.lease,
  });
  if (!closedNow) {
    deps.logger.warn(
      { runId: run.runId, err: error },
      `an execution of sync run ${run.runId} stopped: ${runError.message}; the run goes on without it`,
    );
    return;
  }
  await recordFailureWithoutLease(deps.db, BC_SYNC_KEY, `${runError.code}: ${runError.message}`);
  await releaseLease(deps.db, run.lease);
  deps.logger.error({ runId: run.runId, err: error }, `sync run failed: ${runError.message}`);
}
