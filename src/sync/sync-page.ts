/**
 * A run's middle (job `sync-page`): one page of BCs read from Odoo with their lines, mapped,
 * compared with the copy and written in batches — the data is in hand, and a job per BC would
 * cost more than the write. A BC that fails alone (Odoo will not give it, it cannot be mapped,
 * its write fails) gets a job of its own that reads it fresh and retries with backoff. A BC Odoo
 * deleted since the scan is archived here and now.
 *
 * The page's second half (`settlePage`) runs once those jobs have settled: it records every BC
 * job that failed for good in `sync_failure` — from the queue's own list, so a job that died
 * without recording itself (a crash, a stall) is recorded all the same — and reports the page.
 */
import type { OdooCallOptions } from '../clients/odoo/odoo-types.js';
import { archiveBcs } from './archive.js';
import { mapBc, type MappedBc } from './map-records.js';
import { countCalls } from './odoo-source.js';
import { confirmGone, readBcPageIsolating, type SyncSchema } from './odoo-reads.js';
import {
  countOutcome,
  mergeReports,
  reportOf,
  type BcOutcome,
  type RunReport,
} from './run-counts.js';
import { toRunError } from './run-log.js';
import type { RunRef } from './run-lease.js';
import { clearFailures, recordFailures, type FailureEntry } from './sync-failures.js';
import { AppError, type SafeError } from '../lib/errors.js';
import type { SyncDeps } from './sync-deps.js';
import { writeBcBatches } from './write-bcs.js';

export interface PageInput {
  readonly run: RunRef;
  readonly ids: readonly number[];
  readonly schema: SyncSchema;
}

export interface PageProgress {
  /** What the page did itself. */
  readonly report: RunReport;
  /** BCs that need a job of their own. */
  readonly ownJobs: number[];
}

export async function syncPage(
  deps: SyncDeps,
  input: PageInput,
  call?: OdooCallOptions,
): Promise<PageProgress> {
  const { db, logger } = deps;
  const { run, schema } = input;
  const odoo = countCalls(deps.odoo);
  const page = await readBcPageIsolating(odoo, input.ids, schema, call);

  const mapped: MappedBc[] = [];
  const ownJobs: { odooId: number; reason: unknown }[] = page.unreadable.map((entry) => ({
    odooId: entry.odooId,
    reason: entry.error,
  }));
  for (const item of page.items) {
    try {
      mapped.push(mapBc(item));
    } catch (error) {
      ownJobs.push({ odooId: item.bc.id, reason: error });
    }
  }
  const context = { runId: run.runId, lease: run.lease };
  const written = await writeBcBatches(db, mapped, context, logger);
  ownJobs.push(...written.failed.map(({ odooId, error }) => ({ odooId, reason: error })));

  const gone = await confirmGone(odoo, page.missingIds, schema, call);
  const archived = await archiveBcs(db, gone, 'deleted in Odoo', context);
  const outcomes: BcOutcome[] = [
    ...written.outcomes,
    ...gone.map((odooId) => ({
      odooId,
      action: archived.includes(odooId) ? ('archived' as const) : ('missing' as const),
      linesCreated: 0,
      linesUpdated: 0,
      linesDeleted: 0,
    })),
  ];
  // A BC waiting in sync_failure that Odoo deleted is no failure any more (written BCs' are
  // cleared with their write).
  await clearFailures(db, gone);

  for (const { odooId, reason } of ownJobs) {
    const { code, message } = toRunError(reason);
    logger.warn(
      { runId: run.runId, odooId, code, err: reason },
      `BC ${odooId} gets a job of its own: ${message}`,
    );
  }
  return {
    report: mergeReports([
      ...outcomes.map((outcome) => reportOf(countOutcome(outcome))),
      reportOf({ odooCalls: odoo.calls }),
    ]),
    ownJobs: ownJobs.map((entry) => entry.odooId),
  };
}

/**
 * Failures that are not a BC's own: the run lost its lease, was halted, or Odoo refused the
 * credentials. The run fails for them (its watermarks stay); recording BCs in sync_failure for
 * them would only fill it with BCs that have nothing wrong.
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

/** A BC job that failed for good. */
export interface FailedBc extends FailedChild {
  readonly odooId: number;
}

/** The failures of BC jobs to record: their own, not the run's. */
export function bcFailures(run: RunRef, failed: readonly FailedBc[]): FailureEntry[] {
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

/** The page's second half: its BC jobs have settled. */
export async function settlePage(
  deps: SyncDeps,
  input: {
    run: RunRef;
    progress: PageProgress;
    children: readonly RunReport[];
    failed: readonly FailedBc[];
  },
): Promise<RunReport> {
  const failures = bcFailures(input.run, input.failed);
  await recordFailures(deps.db, failures, deps.settings.failureBackoffBaseMs);
  return mergeReports([
    reportOf({ pages: 1 }),
    input.progress.report,
    ...input.children,
    reportOf(
      { bcsSeen: failures.length, failed: failures.length },
      failures.map((f) => ({ odooId: f.odooId, ...f.error })),
    ),
  ]);
}
