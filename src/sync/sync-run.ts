/**
 * The beginning and the end of an incremental run. The middle (pages and BCs) runs as separate
 * jobs, so these two functions carry what the middle needs and sum up what it did.
 *
 * start: take the lease (or record a skipped run), open the log row, list the BCs to fetch — those
 * changed since `watermark - overlap`, those whose lines changed, and the pending failures — and
 * cut them into pages.
 * finish: sum the pages, then, if the run still owns the lease and no page failed, advance the
 * watermarks to the largest `write_date` seen (Odoo's clock, never ours); close the log; release.
 */
import { eq, sql } from 'drizzle-orm';
import { syncState, type SyncRunError, type SyncRunStatus } from '../db/schema/index.js';
import type { OdooCallOptions } from '../clients/odoo/odoo-types.js';
import { describeError } from '../lib/errors.js';
import { changedSince, scanChangedLines, scanIds, type SyncFields } from './fetch.js';
import { extendLease, releaseLease, takeLease } from './lease.js';
import { BC_MODEL, BC_SYNC_KEY } from './models.js';
import { countCalls } from './odoo-source.js';
import {
  addCounts,
  closeRun,
  openRun,
  pendingFailureIds,
  recordSkippedRun,
  toRunError,
  ZERO_COUNTS,
  type RunCounts,
} from './run-log.js';
import type { SyncDeps } from './sync-deps.js';

export type StartedRun =
  | { readonly status: 'skipped'; readonly runId: number; readonly heldBy: string | null }
  | {
      readonly status: 'started';
      readonly runId: number;
      readonly owner: string;
      readonly pages: number[][];
      readonly fields: SyncFields;
      /** BCs that were pending failures when the run started (their jobs must not collapse with the failed ones). */
      readonly retryIds: number[];
      readonly lineMaxWriteDate: string | null;
      readonly odooCalls: number;
    };

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
  input: { trigger: string; owner: string },
  call?: OdooCallOptions,
): Promise<StartedRun> {
  const { db, settings, logger } = deps;
  const state = await takeLease(db, {
    key: BC_SYNC_KEY,
    owner: input.owner,
    leaseSeconds: settings.leaseSeconds,
  });
  if (!state) {
    const { runId, heldBy } = await recordSkippedRun(db, {
      kind: 'sync',
      trigger: input.trigger,
      leaseOwner: input.owner,
    });
    logger.info({ runId, heldBy }, 'sync run skipped: another run holds the lease');
    return { status: 'skipped', runId, heldBy };
  }

  const run = await openRun(db, { kind: 'sync', trigger: input.trigger, leaseOwner: input.owner });
  await db
    .update(syncState)
    .set({ currentRunId: run.id, lastRunAt: sql`now()` })
    .where(eq(syncState.key, BC_SYNC_KEY));
  const odoo = countCalls(deps.odoo);
  try {
    const windowFrom = minusSeconds(state.watermark, settings.overlapSeconds);
    const lineFrom = minusSeconds(state.lineWatermark, settings.overlapSeconds);
    const fields = await deps.fields(odoo, call);
    const [changedIds, lineScan, retryIds] = await Promise.all([
      scanIds(odoo, BC_MODEL, changedSince(windowFrom), call),
      scanChangedLines(odoo, lineFrom, Math.max(settings.pageSize * 10, 1_000), call),
      pendingFailureIds(db),
    ]);
    const ids = [...new Set([...changedIds, ...lineScan.bcIds, ...retryIds])].sort((a, b) => a - b);
    const pages = chunk(ids, settings.pageSize);
    await closeRun(db, run.id, {
      status: 'running',
      windowFrom,
      counts: { pages: pages.length, odooCalls: odoo.calls },
    });
    logger.info(
      {
        runId: run.id,
        windowFrom,
        bcs: ids.length,
        changedBcs: changedIds.length,
        bcsWithChangedLines: lineScan.bcIds.length,
        retries: retryIds.length,
        pages: pages.length,
      },
      'sync run started',
    );
    return {
      status: 'started',
      runId: run.id,
      owner: input.owner,
      pages,
      fields,
      retryIds,
      lineMaxWriteDate: lineScan.maxWriteDate?.toISOString() ?? null,
      odooCalls: odoo.calls,
    };
  } catch (error) {
    await failRun(deps, { runId: run.id, owner: input.owner, error, odooCalls: odoo.calls });
    throw error;
  }
}

/** What one page job reports to the run. */
export interface PageSummary extends RunCounts {
  readonly maxWriteDate: string | null;
  readonly errors: SyncRunError[];
}

export async function failRun(
  deps: SyncDeps,
  input: { runId: number; owner: string; error: unknown; odooCalls?: number },
): Promise<void> {
  const message = describeError(input.error);
  await closeRun(deps.db, input.runId, {
    status: 'failed',
    errors: [toRunError(input.error)],
    counts: input.odooCalls === undefined ? {} : { odooCalls: input.odooCalls },
  });
  await deps.db
    .update(syncState)
    .set({ lastRunStatus: 'failed', lastError: message.slice(0, 1_000) })
    .where(eq(syncState.key, BC_SYNC_KEY));
  await releaseLease(deps.db, BC_SYNC_KEY, input.owner);
  deps.logger.error({ runId: input.runId, err: input.error }, `sync run failed: ${message}`);
}

export interface FinishedRun {
  readonly runId: number;
  readonly status: SyncRunStatus;
  readonly counts: RunCounts;
  readonly watermark: Date | null;
  readonly errors: SyncRunError[];
}

export async function finishRun(
  deps: SyncDeps,
  input: {
    runId: number;
    owner: string;
    startCalls: number;
    pages: readonly PageSummary[];
    /** Pages that failed for good: the run failed, the watermark must not move. */
    failedPages: readonly SyncRunError[];
    lineMaxWriteDate: string | null;
  },
): Promise<FinishedRun> {
  const { db, logger, settings } = deps;
  let counts = addCounts(ZERO_COUNTS, {
    odooCalls: input.startCalls,
    pages: input.pages.length + input.failedPages.length,
  });
  const errors: SyncRunError[] = [...input.failedPages];
  let maxWriteDate: Date | null = null;
  for (const page of input.pages) {
    const { maxWriteDate: pageMax, errors: pageErrors, pages: _pages, ...pageCounts } = page;
    counts = addCounts(counts, pageCounts);
    errors.push(...pageErrors);
    if (pageMax && (!maxWriteDate || new Date(pageMax) > maxWriteDate))
      maxWriteDate = new Date(pageMax);
  }

  const stillOurs = await extendLease(db, {
    key: BC_SYNC_KEY,
    owner: input.owner,
    leaseSeconds: settings.leaseSeconds,
  });
  if (!stillOurs) {
    errors.unshift({
      code: 'SYNC_LEASE_LOST',
      message: 'the lease expired and another run took over; watermark left alone',
    });
  }
  const status: SyncRunStatus =
    !stillOurs || input.failedPages.length > 0
      ? 'failed'
      : counts.failed > 0
        ? 'partial'
        : 'succeeded';

  // Failed BCs wait in sync_failure, so a partial run may advance: one poisoned BC must not freeze the sync.
  const advance = status !== 'failed';
  const lineMax = input.lineMaxWriteDate ? new Date(input.lineMaxWriteDate) : null;
  const [state] = await db
    .update(syncState)
    .set({
      ...(advance && maxWriteDate
        ? {
            watermark: sql`greatest(${syncState.watermark}, ${maxWriteDate.toISOString()}::timestamptz)`,
          }
        : {}),
      ...(advance && lineMax
        ? {
            lineWatermark: sql`greatest(${syncState.lineWatermark}, ${lineMax.toISOString()}::timestamptz)`,
          }
        : {}),
      lastRunStatus: status,
      ...(status === 'failed'
        ? { lastError: errors[0]?.message ?? 'failed' }
        : { lastSuccessAt: sql`now()`, lastError: null }),
      updatedAt: sql`now()`,
    })
    .where(eq(syncState.key, BC_SYNC_KEY))
    .returning({ watermark: syncState.watermark });
  const row = await closeRun(db, input.runId, {
    status,
    counts,
    errors,
    windowTo: advance ? maxWriteDate : null,
  });
  if (stillOurs) await releaseLease(db, BC_SYNC_KEY, input.owner);
  const durationMs = (row.finishedAt ?? new Date()).getTime() - row.startedAt.getTime();
  logger.info(
    {
      runId: input.runId,
      status,
      ...counts,
      durationMs,
      bcsPerSecond: durationMs > 0 ? Math.round((counts.bcsSeen * 1_000) / durationMs) : null,
      watermark: state?.watermark,
    },
    `sync run ${status}: ${counts.created} created, ${counts.updated} updated, ${counts.failed} failed in ${(durationMs / 1_000).toFixed(1)} s`,
  );
  return { runId: input.runId, status, counts, watermark: state?.watermark ?? null, errors };
}
