/**
 * A run's middle (job `sync-page`): one page of root records read from Odoo with their children,
 * mapped, compared with the copy and written in batches — the data is in hand, and a job per
 * record would cost more than the write. A root that fails alone (Odoo will not give it, it
 * cannot be mapped, its write fails) gets a job of its own that reads it fresh and retries with
 * backoff. A root Odoo deleted since the scan is archived here and now.
 *
 * The page's second half (`settlePage`) runs once those jobs have settled: it records every
 * record job that failed for good in `sync_failure` — from the queue's own list, so a job that
 * died without recording itself (a crash, a stall) is recorded all the same — and reports the
 * page.
 */
import type { OdooCallOptions } from '../clients/odoo/odoo-types.js';
import type { RecordFamily } from '../families/family.js';
import { AppError, type SafeError } from '../lib/errors.js';
import { archiveRoots } from './archive.js';
import { countCalls } from './odoo-source.js';
import { confirmGone } from './odoo-reads.js';
import { readMappedPage } from './read-roots-again.js';
import {
  countOutcome,
  mergeReports,
  outcomeOf,
  reportOf,
  type RecordOutcome,
  type RunReport,
} from './run-counts.js';
import { toRunError } from './run-log.js';
import type { RunRef } from './run-lease.js';
import { readRunSchema } from './schema-store.js';
import { clearFailures, recordFailures, type FailureEntry } from './sync-failures.js';
import type { SyncDeps } from './sync-deps.js';
import { writeRootBatches } from './write-records.js';

export interface PageInput {
  readonly family: RecordFamily;
  readonly run: RunRef;
  readonly ids: readonly number[];
  /** The run's schema, as the run kept it (schema-store.ts). */
  readonly schemaKey: string;
}

export interface PageProgress {
  /** What the page did itself. */
  readonly report: RunReport;
  /** Roots that need a job of their own. */
  readonly ownJobs: number[];
}

export async function syncPage(
  deps: SyncDeps,
  input: PageInput,
  call?: OdooCallOptions,
): Promise<PageProgress> {
  const { db, logger } = deps;
  const { family, run } = input;
  const odoo = countCalls(deps.odoo);
  // Every page of a run reads with the run's schema; one whose row is gone (a migration emptied
  // the table under a running run) with the family's current one.
  const schema =
    (await readRunSchema(db, input.schemaKey)) ?? (await deps.schema(family, odoo, call));
  const page = await readMappedPage(odoo, family, input.ids, schema, call, () =>
    deps.schema(family, odoo, call, { fresh: true }),
  );
  const context = { runId: run.runId, lease: run.lease, odooNow: odoo.serverTime?.() };
  const written = await writeRootBatches(db, family, page.mapped, context, logger);
  const ownJobs = [...page.failures, ...written.failed];

  const gone = await confirmGone(odoo, family, page.missingIds, schema, call);
  const archived = await archiveRoots(db, family, gone, 'deleted in Odoo', context);
  const outcomes: RecordOutcome[] = [
    ...written.outcomes,
    ...gone.map((odooId) => outcomeOf(odooId, archived.includes(odooId) ? 'archived' : 'missing')),
  ];
  // A root waiting in sync_failure that Odoo deleted is no failure any more (written roots' are
  // cleared with their write).
  await clearFailures(db, family.name, gone);

  for (const { odooId, error } of ownJobs) {
    const { code, message } = toRunError(error);
    logger.warn(
      { family: family.name, runId: run.runId, odooId, code, err: error },
      `${family.noun} ${odooId} gets a job of its own: ${message}`,
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

/** The page's second half: its record jobs have settled. */
export async function settlePage(
  deps: SyncDeps,
  input: {
    family: RecordFamily;
    run: RunRef;
    progress: PageProgress;
    children: readonly RunReport[];
    failed: readonly FailedRecord[];
  },
): Promise<RunReport> {
  const failures = recordFailuresOf(input.run, input.failed);
  await recordFailures(deps.db, input.family.name, failures, deps.settings.failureBackoffBaseMs);
  return mergeReports([
    reportOf({ pages: 1 }),
    input.progress.report,
    ...input.children,
    reportOf(
      { recordsSeen: failures.length, failed: failures.length },
      failures.map((f) => ({ odooId: f.odooId, ...f.error })),
    ),
  ]);
}
