/**
 * One BC read fresh from Odoo and written (job `sync-bc` within a run, job `resync-bc` on
 * demand): a BC its page could not read or write, a pending failure, an operator's resync. A BC
 * Odoo no longer has is archived. Success clears the BC's pending failure.
 *
 * A run's BC job works under the run's lease while the run lasts. Retried after its run ended
 * (an admin pressing "retry" in bull-board), it is a resync of its own: there is no lease left to
 * fence with, and no run left to interleave with.
 */
import type { OdooCallOptions } from '../clients/odoo/odoo-types.js';
import { archiveBcs } from './archive.js';
import { mapBc, type BcPayload } from './map-records.js';
import { countCalls, type CountedSource } from './odoo-source.js';
import { confirmGone, readBcPage, type SyncSchema } from './odoo-reads.js';
import { countOutcome, reportOf, type BcOutcome, type RunReport } from './run-counts.js';
import { withRunLease, type RunRef } from './run-lease.js';
import { clearFailures, recordFailures } from './sync-failures.js';
import type { SyncDeps } from './sync-deps.js';
import { writeBcs } from './write-bcs.js';
import { readRun, toRunError } from './run-log.js';

export interface SyncedBc {
  readonly outcome: BcOutcome;
  readonly report: RunReport;
}

export async function syncRunBc(
  deps: SyncDeps,
  input: { odooId: number; run: RunRef },
  call?: OdooCallOptions,
): Promise<SyncedBc> {
  if ((await readRun(deps.db, input.run.runId))?.status !== 'running')
    return syncBc(deps, { odooId: input.odooId, run: null }, call);
  return withRunLease(deps, input.run.lease, call?.signal, (signal) =>
    syncBc(deps, input, { signal }),
  );
}

export async function syncBc(
  deps: SyncDeps,
  input: { odooId: number; run: RunRef | null; trigger?: string },
  call?: OdooCallOptions,
): Promise<SyncedBc> {
  const odoo = countCalls(deps.odoo);
  const schema = await deps.schema(odoo, call);
  const page = await readBcPage(odoo, [input.odooId], schema, call);
  return settleBc(deps, { ...input, item: page.items[0] }, { odoo, schema }, call);
}

/**
 * Writes a BC as just read (`item`), or archives it when Odoo confirms it is gone; clears its
 * pending failure. `trigger` marks the audit rows of a change made outside a run.
 */
export async function settleBc(
  deps: SyncDeps,
  input: { odooId: number; run: RunRef | null; trigger?: string; item: BcPayload | undefined },
  reading: { odoo: CountedSource; schema: SyncSchema },
  call?: OdooCallOptions,
): Promise<SyncedBc> {
  const { db, logger } = deps;
  const { odooId, run, item } = input;
  const { odoo, schema } = reading;
  const context = {
    runId: run?.runId ?? null,
    lease: run?.lease ?? null,
    trigger: run ? undefined : (input.trigger ?? 'resync'),
  };
  let outcome: BcOutcome;
  if (item) {
    [outcome] = (await writeBcs(db, [mapBc(item)], context)) as [BcOutcome];
  } else {
    const gone = await confirmGone(odoo, [odooId], schema, call);
    const archived = await archiveBcs(db, gone, 'deleted in Odoo', context);
    outcome = {
      odooId,
      action: archived.length > 0 ? 'archived' : 'missing',
      linesCreated: 0,
      linesUpdated: 0,
      linesDeleted: 0,
    };
    await clearFailures(db, [odooId]);
  }
  logger.info(
    { runId: context.runId, trigger: context.trigger, odooId, action: outcome.action },
    `BC ${odooId} synced alone`,
  );
  return { outcome, report: reportOf({ ...countOutcome(outcome), odooCalls: odoo.calls }) };
}

/** A BC job's last attempt failed: the BC waits in sync_failure for a later run. */
export async function recordBcFailure(
  deps: SyncDeps,
  input: { odooId: number; runId: number | null; jobId: string; error: unknown },
): Promise<void> {
  await recordFailures(
    deps.db,
    [
      {
        odooId: input.odooId,
        error: toRunError(input.error),
        runId: input.runId,
        jobId: input.jobId,
      },
    ],
    deps.settings.failureBackoffBaseMs,
  );
}
