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
import type { MappedRoot } from '../families/map-record.js';
import { archiveRoots } from './archive.js';
import { countCalls } from './odoo-source.js';
import { confirmGone } from './isolated-pages.js';
import { childrenMovedAway } from './moved-children.js';
import { usingPageRead } from './read-roots-again.js';
import {
  countOutcome,
  mergeReports,
  outcomeOf,
  reportOf,
  type RecordOutcome,
  type RunReport,
} from './run-counts.js';
import { notePageSettled, toRunError } from './run-log.js';
import { withRunLease, type RunRef } from './run-lease.js';
import { readRunSchema } from './schema-store.js';
import {
  clearFailures,
  recordFailures,
  recordFailuresOf,
  type FailedRecord,
} from './sync-failures.js';
import type { SyncDeps } from './sync-deps.js';
import { settleShownWebhooks, type ShownByRead, type ShownRecord } from './webhook-inbox.js';
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

/**
 * The page's first half, under the run's lease (checked first, kept by a heartbeat).
 * @throws LeaseLostError, RunHaltedError when the run no longer holds its lease or was halted
 */
export function syncPage(
  deps: SyncDeps,
  input: PageInput,
  call?: OdooCallOptions,
): Promise<PageProgress> {
  return withRunLease(deps, input.run.lease, call?.signal, (signal) =>
    readAndWrite(deps, input, { signal }),
  );
}

async function readAndWrite(
  deps: SyncDeps,
  input: PageInput,
  call: OdooCallOptions,
): Promise<PageProgress> {
  const { db, logger } = deps;
  const { family, run } = input;
  const odoo = countCalls(deps.odoo);
  // Every page of a run reads with the run's schema; one whose row is gone (a migration emptied
  // the table under a running run) with the family's current one.
  const schema =
    (await readRunSchema(db, input.schemaKey)) ?? (await deps.schema(family, odoo, call));
  const { page, context, written } = await usingPageRead(
    deps,
    {
      odoo,
      family,
      ids: input.ids,
      schema,
      call,
      refresh: () => deps.schema(family, odoo, call, { fresh: true }),
    },
    async (read, readSince) => {
      const odooNow = odoo.serverTime?.();
      const movedAway = await childrenMovedAway(
        db,
        odoo,
        family,
        read.mapped,
        schema.context,
        call,
      );
      const writing = { runId: run.runId, lease: run.lease, odooNow, readSince, movedAway };
      return {
        page: read,
        context: writing,
        written: await writeRootBatches(db, family, read.mapped, writing, logger, deps.writeLanes),
      };
    },
  );
  const ownJobs = [...page.failures, ...written.failed];
  // The page showed its copied records' changes: their webhook events need no read of their own.
  await settleShownWebhooks(
    db,
    family.name,
    shownByPage(family, page.mapped, new Set(ownJobs.map((entry) => entry.odooId))),
  );

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

/** Odoo's way of writing a stamp, to the second, as its webhooks send it. */
const odooStamp = (date: Date) => date.toISOString().slice(0, 19).replace('T', ' ');

/**
 * What the page's read showed of the roots it copied (not those that get a job of their own), for
 * the webhook inbox: the roots, and each record with its stamp, every child listed included.
 */
function shownByPage(
  family: RecordFamily,
  roots: readonly MappedRoot[],
  failed: ReadonlySet<number>,
): ShownByRead {
  const copied = roots.filter((root) => !failed.has(root.odooId));
  return {
    roots: copied.map((root) => root.odooId),
    childModels: family.children.map((child) => child.model),
    records: (wanted) => {
      const records: ShownRecord[] = [];
      const add = (model: string, id: number, root: number, writeDate: Date) => {
        if (wanted(model, id)) records.push({ model, id, root, stamp: odooStamp(writeDate) });
      };
      for (const root of copied) {
        add(family.root.model, root.odooId, root.odooId, root.writeDate);
        family.children.forEach((child, at) => {
          for (const record of root.children[at] ?? [])
            add(child.model, record.odooId, root.odooId, record.writeDate);
        });
      }
      return records;
    },
  };
}

/**
 * The page's second half, once its record jobs have settled, under the run's lease.
 * @throws LeaseLostError, RunHaltedError when the run no longer holds its lease or was halted
 */
export function settlePage(
  deps: SyncDeps,
  input: {
    family: RecordFamily;
    run: RunRef;
    progress: PageProgress;
    children: readonly RunReport[];
    failed: readonly FailedRecord[];
  },
  call?: OdooCallOptions,
): Promise<RunReport> {
  return withRunLease(deps, input.run.lease, call?.signal, async () => {
    const failures = recordFailuresOf(input.run, input.failed);
    await recordFailures(deps.db, input.family.name, failures, deps.settings.failureBackoffBaseMs);
    await notePageSettled(deps.db, input.run.runId);
    return mergeReports([
      reportOf({ pages: 1 }),
      input.progress.report,
      ...input.children,
      reportOf(
        { recordsSeen: failures.length, failed: failures.length },
        failures.map((f) => ({ odooId: f.odooId, ...f.error })),
      ),
    ]);
  });
}
