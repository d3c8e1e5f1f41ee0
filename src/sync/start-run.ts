/**
 * Step one of an incremental run of a family (job `sync-run`, first pass): take the family's
 * lease, close the rows of its runs that died, open this run's row, keep the schema its pages
 * read with, and plan: the roots changed since their model's `watermark - overlap` and the roots
 * whose children changed since each child model's own, staged in PostgreSQL as the scans go
 * (run-plan.ts), read back as pages a wave at a time (`plannedWave`); and the pending failures
 * that are due, each retried on its own.
 *
 * The next watermarks come from the scans, never from records read later: a run can take longer
 * than the overlap (a first sync, a catch-up, a slow Odoo), and a root changed during the run that
 * the scan did not list must still fall inside the next run's window.
 */
import type { OdooCallOptions } from '../clients/odoo/odoo-types.js';
import {
  isRelationScan,
  relationScans,
  type ModelDeclaration,
  type RecordFamily,
  type RelationScan,
} from '../families/family.js';
import type { SyncRunError } from '../db/schema/sync-log.js';
import type { Db } from '../db/create-db.js';
import { countCalls, type OdooSource } from './odoo-source.js';
import { latestWriteDate, withoutLink, type FamilySchema } from './odoo-reads.js';
import { readRootBytes, rootsPerPage, storedRootBytes } from './page-size.js';
import { closeFailedRun, noteRunPlan, noteRunProgress, toRunError } from './run-log.js';
import { openLeasedRun, withRunLease, type RunNotStarted, type RunRef } from './run-lease.js';
import {
  dropFromPlan,
  planCounts,
  plannedPages,
  stageChanges,
  type ChangeScan,
} from './run-plan.js';
import { isRelationRefused, relationRefusal } from './relations.js';
import { clearEndedStages, clearStage, type StageRef } from './scan-stage.js';
import { lastAuditId } from './audit.js';
import { keepRunSchema } from './schema-store.js';
import { clockBound, CLOCK_SKEW_MARGIN_SECONDS, settledBy, shownThrough } from './settled.js';
import { dueFailureIds, isRunLevelFailure } from './sync-failures.js';
import type { RunState } from './run-state.js';
import {
  clampWatermarks,
  readWatermarks,
  recordFailureWithoutLease,
  recordRunStart,
  releaseLease,
  resetWatermarks,
} from './sync-state.js';
import type { SyncDeps } from './sync-deps.js';
import { durationText } from '../lib/duration-text.js';

/** Pending failures one run retries at most; the rest wait for the next runs, oldest first. */
export const MAX_RETRIES_PER_RUN = 500;

export interface StartRunInput {
  readonly family: RecordFamily;
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

export type StartedRun =
  | RunNotStarted
  | {
      readonly status: 'started';
      /** The run's step state, before its first wave of pages. */
      readonly state: RunState;
      /** Pending failures that are due, each retried by a job of its own. */
      readonly retryIds: number[];
    };

/** The earlier of two bounds; null when either is unknown (nothing is proven then). */
function earliest(first: Date | null, second: Date | null): Date | null {
  if (!first || !second) return null;
  return first < second ? first : second;
}

/** The latest stamp the run's scans saw (those from a clock ahead of Odoo's left out). */
function latestScanned(scans: readonly ScanOutcome[]): Date | null {
  let latest: Date | null = null;
  for (const { scan } of scans)
    if (scan.maxWriteDate && (!latest || scan.maxWriteDate > latest)) latest = scan.maxWriteDate;
  return latest;
}

function minusSeconds(date: Date | undefined, seconds: number): Date | null {
  return date ? new Date(date.getTime() - seconds * 1_000) : null;
}

export async function startRun(
  deps: SyncDeps,
  input: StartRunInput,
  call?: OdooCallOptions,
): Promise<StartedRun> {
  const { db, settings } = deps;
  const { family } = input;
  const opened = await openLeasedRun(deps, { ...input, kind: 'sync' });
  if (opened.status !== 'opened') return opened;
  const { run, state, startedAt } = opened;
  const { lease } = run;
  await recordRunStart(db, family.name, run.runId);
  await clearEndedStages(db);
  // Taken under the lease: every row this run writes gets an audit row after it.
  const auditAfter = await lastAuditId(db);

  const odoo = countCalls(deps.odoo);
  const stage = { runId: run.runId, token: lease.token };
  try {
    return await withRunLease(deps, lease, call?.signal, async (signal) => {
      if (input.full) await resetWatermarks(db, lease);
      const calls = { signal };
      let schema = await deps.schema(family, odoo, calls);
      const watermarks: Record<string, Date> = input.full
        ? {}
        : { ...(await readWatermarks(db, family.name)) };
      // A watermark later than Odoo's clock (a stamp written by a clock that ran ahead, and set
      // right since) would hide every change until the clock caught up: it is clamped to Odoo's
      // clock read now. This process's last reading may be from before the clock was set right.
      const odooNow =
        Object.keys(watermarks).length > 0 ? await odoo.clock?.(calls) : odoo.serverTime?.();
      const clamped: { model: string; watermark: Date; odooNow: Date }[] = [];
      const windowOf = (model: string) => {
        const mark = watermarks[model];
        if (
          mark &&
          odooNow &&
          mark.getTime() > odooNow.getTime() + CLOCK_SKEW_MARGIN_SECONDS * 1_000
        ) {
          clamped.push({ model, watermark: mark, odooNow });
          watermarks[model] = odooNow;
        }
        return minusSeconds(watermarks[model], settings.overlapSeconds);
      };
      const windowFrom = windowOf(family.root.model);
      // Without a window every root is read: nothing to prove current.
      const settled =
        windowFrom !== null && state.settledThrough && state.settledAt
          ? {
              settledThrough: state.settledThrough,
              settledAt: state.settledAt,
              byRun:
                state.settledRunId !== null && state.settledAuditAfter !== null
                  ? { runId: state.settledRunId, auditAfter: state.settledAuditAfter }
                  : null,
            }
          : null;
      const scan = (scanned: ModelDeclaration | RelationScan, key: string) =>
        stageChanges(
          db,
          odoo,
          stage,
          {
            family,
            scanned,
            since: windowOf(key),
            context: schema.context,
            settled,
            scanPageSize: settings.scanPageSize,
          },
          calls,
        );
      const scans: ScanOutcome[] = [
        {
          model: family.root.model,
          records: family.root.model,
          scan: await scan(family.root, family.root.model),
        },
      ];
      // Children, and the targets of one2many link tables, each against its own watermark.
      const others = [
        ...family.children.map((child) => ({
          key: child.model,
          scanned: child,
          model: child.model,
        })),
        ...relationScans(family).map((relation) => ({
          key: relation.key,
          scanned: relation,
          model: relation.link.relation,
        })),
      ];
      const scanErrors: SyncRunError[] = [];
      for (const other of others) {
        // Without a root window every root is read: another scan would only tell its next
        // watermark, which its model's latest stamp tells in one call.
        const otherScan = async () =>
          windowFrom === null
            ? {
                ...NO_SCAN,
                maxWriteDate: await latestWriteDate(
                  odoo,
                  other.model,
                  schema.context,
                  calls,
                  clockBound(odoo.serverTime?.()),
                ),
              }
            : await scan(other.scanned, other.key);
        try {
          scans.push({ model: other.key, records: other.model, scan: await otherScan() });
        } catch (error) {
          if (!isRelationScan(other.scanned) || !isRelationRefused(error)) throw error;
          const refusal = relationRefusal(other.scanned, error);
          scanErrors.push(refusal);
          // Reading the owners with that field would be refused too.
          schema = withoutLink(schema, other.scanned.owner.model, other.scanned.link.field);
          deps.logger.warn({ family: family.name, runId: run.runId, err: error }, refusal.message);
        }
      }
      // Stored clamped now: a run ends by moving watermarks forward only.
      if (clamped.length > 0) await clampWatermarks(db, lease, clamped);
      if (clamped.length > 0)
        deps.logger.warn(
          { family: family.name, runId: run.runId, clamped },
          `${family.name}: watermarks later than Odoo's clock, clamped to it: ${clamped
            .map(({ model }) => model)
            .join(', ')}`,
        );
      // Kept once the scans have left out what they had to: every page reads with it.
      const schemaKey = await keepRunSchema(db, schema);
      const retryIds = await dueFailureIds(db, family.name, MAX_RETRIES_PER_RUN);
      // Odoo's clock now: every page of this run reads after it. Reads that may lag (a read
      // replica) may not show yet what Odoo committed by then: the proof then stops at what the
      // scans have shown (settled.ts).
      const byClock = settledBy(odoo.serverTime?.(), settings.overlapSeconds);
      const settledThrough =
        odoo.readsMayLag?.() === true
          ? earliest(byClock, shownThrough(latestScanned(scans), settings.overlapSeconds))
          : byClock;
      const counts = await planCounts(db, stage, retryIds);
      await dropFromPlan(db, stage, retryIds);
      const pageSize =
        counts.toRead === 0
          ? settings.pageSize
          : await runPageSize(deps, { family, stage, schema, odoo }, calls);
      const pageCount = Math.ceil(counts.toRead / pageSize);
      await noteRunPlan(db, run.runId, {
        windowFrom,
        counts: { pages: pageCount, odooCalls: odoo.calls },
      });
      logStart(deps, {
        family,
        runId: run.runId,
        windowFrom,
        full: input.full,
        counts,
        pageCount,
        scans,
        retries: retryIds.length,
      });
      return {
        status: 'started' as const,
        state: {
          run,
          watermarks: Object.fromEntries(
            scans.flatMap(({ model, scan: { maxWriteDate } }) =>
              maxWriteDate ? [[model, maxWriteDate]] : [],
            ),
          ),
          settledThrough: settledThrough ?? null,
          startedAt,
          auditAfter,
          startCalls: odoo.calls,
          futureStamped: futureStamped(scans),
          scanErrors,
          schemaKey,
          pageCount,
          pageSize,
          pagesQueued: 0,
          pagesAfter: 0,
        },
        retryIds,
      };
    });
  } catch (error) {
    await clearStage(db, stage);
    await failRun(deps, family, run, error, odoo.calls);
    throw error;
  }
}

/** A wave of a run's pages, and the run's state once they are queued. */
export interface PlannedWave {
  readonly pages: number[][];
  readonly state: RunState;
}

/**
 * The next wave of a run's pages: at most `pages` pages of roots after the last one queued, read
 * back from the stage under the run's lease. A run queues its pages a wave at a time: the state
 * it leaves in Redis, and the wait of another family's pages behind it, are bounded by a wave,
 * whatever the number of records. A run that lost its lease or was halted queues no more: its
 * last step records why, and leaves the watermarks alone.
 */
export async function plannedWave(
  deps: SyncDeps,
  family: RecordFamily,
  state: RunState,
  pages: number,
  call?: OdooCallOptions,
): Promise<PlannedWave> {
  const ended = { pages: [], state: { ...state, pagesAfter: null } };
  if (state.pagesAfter === null) return ended;
  const { run, pagesAfter } = state;
  const stage = { runId: run.runId, token: run.lease.token };
  try {
    return await withRunLease(deps, run.lease, call?.signal, async () => {
      const wave: number[][] = [];
      const pageSize = state.pageSize ?? deps.settings.pageSize;
      for await (const ids of plannedPages(deps.db, stage, pageSize, pagesAfter)) {
        wave.push(ids);
        if (wave.length === pages) break;
      }
      const full = wave.length === pages;
      if (pagesAfter > 0 && wave.length > 0 && state.pagesQueued !== undefined) {
        await noteRunProgress(deps.db, run.runId, state.pagesQueued);
        logRunProgress(deps, family, state, state.pagesQueued);
      }
      return {
        pages: wave,
        state: {
          ...state,
          ...(state.pagesQueued === undefined
            ? {}
            : { pagesQueued: state.pagesQueued + wave.length }),
          pagesAfter: full ? wave.at(-1)!.at(-1)! : null,
        },
      };
    });
  } catch (error) {
    if (isRunLevelFailure(error)) return ended;
    throw error;
  }
}

/**
 * A long run's progress, once a wave of its pages has settled and before the next is queued: the
 * pages done of the run's pages, for how long it has run, and about how long is left at that pace.
 * The run log holds the pages done too (`sync status`, `GET /api/sync/runs`).
 */
function logRunProgress(deps: SyncDeps, family: RecordFamily, state: RunState, done: number): void {
  const { pageCount: pages, startedAt } = state;
  const elapsedMs = startedAt === null ? undefined : Date.now() - startedAt.getTime();
  const pace =
    elapsedMs === undefined
      ? ''
      : ` in ${durationText(elapsedMs)}; about ${durationText((elapsedMs * (pages - done)) / done)} left at this pace`;
  deps.logger.info(
    { family: family.name, runId: state.run.runId, pagesDone: done, pages, elapsedMs },
    `${family.name} sync run ${state.run.runId}: ${done} of ${pages} pages done (${Math.floor((100 * done) / pages)} %)${pace}`,
  );
}

/**
 * Roots per page of this run (page-size.ts): from the size of the roots the copy holds, or of a
 * few of the planned ones read first when it holds none.
 */
async function runPageSize(
  deps: SyncDeps,
  input: { family: RecordFamily; stage: StageRef; schema: FamilySchema; odoo: OdooSource },
  call: OdooCallOptions,
): Promise<number> {
  const { settings } = deps;
  if (settings.pageMaxBytes === undefined) return settings.pageSize;
  const budget = { maxBytes: settings.pageMaxBytes, maxRoots: settings.pageSize };
  let bytes = await storedRootBytes(deps.db, input.family, budget.maxBytes);
  if (bytes === undefined) {
    const [first] = await firstPlanned(deps.db, input.stage);
    bytes = await readRootBytes(input.odoo, input.family, first ?? [], input.schema, budget, call);
  }
  return rootsPerPage(budget, bytes);
}

/** The first planned roots of a run, for measuring them. */
async function firstPlanned(db: Db, stage: StageRef): Promise<number[][]> {
  for await (const ids of plannedPages(db, stage, 50, 0)) return [ids];
  return [];
}

/** A scan and the model of the records it listed (a one2many scan's are its target's). */
interface ScanOutcome {
  readonly model: string;
  readonly records: string;
  readonly scan: ChangeScan;
}

const FUTURE_IDS_LOGGED = 20;

/** Records stamped in the future, each once however many scans listed it. */
function futureStamped(scans: readonly ScanOutcome[]): number {
  return new Set(
    scans.flatMap(({ records, scan }) => scan.futureIds.map((id) => `${records}:${id}`)),
  ).size;
}

const NO_SCAN: ChangeScan = {
  listed: 0,
  maxWriteDate: null,
  skipped: 0,
  futureIds: [],
};

function logStart(
  deps: SyncDeps,
  run: {
    family: RecordFamily;
    runId: number;
    windowFrom: Date | null;
    full: boolean;
    counts: { listed: number; proven: number; toRead: number };
    pageCount: number;
    scans: readonly ScanOutcome[];
    retries: number;
  },
): void {
  const { logger } = deps;
  const skipped = run.scans.reduce((sum, { scan }) => sum + scan.skipped, 0);
  const future = futureStamped(run.scans);
  const fields = {
    family: run.family.name,
    runId: run.runId,
    windowFrom: run.windowFrom,
    full: run.full,
    records: run.counts.toRead,
    changed: Object.fromEntries(run.scans.map(({ model, scan }) => [model, scan.listed])),
    retries: run.retries,
    settledRecords: run.counts.proven,
    pages: run.pageCount,
    unusableRecords: skipped,
    futureStamped: future,
  };
  if (future > 0)
    logger.warn(
      {
        ...fields,
        futureIds: Object.fromEntries(
          run.scans.map(({ model, scan }) => [model, scan.futureIds.slice(0, FUTURE_IDS_LOGGED)]),
        ),
      },
      `sync run started; ${future} changed records are stamped later than Odoo's clock: read by every run until their stamp is past, never a watermark`,
    );
  else if (skipped > 0)
    logger.warn(
      fields,
      `sync run started; ${skipped} changed records cannot be copied (no write_date, or a child without its ${run.family.noun})`,
    );
  else logger.info(fields, 'sync run started');
}

/**
 * Ends a run that cannot go on: its row says why, its lease is released. An execution another one
 * superseded (the same run under a newer token) leaves both to it.
 */
async function failRun(
  deps: SyncDeps,
  family: RecordFamily,
  run: RunRef,
  error: unknown,
  odooCalls: number,
): Promise<void> {
  const runError = toRunError(error);
  const { closedNow } = await closeFailedRun(deps.db, run, runError, odooCalls);
  if (!closedNow) {
    deps.logger.warn(
      { runId: run.runId, err: error },
      `an execution of ${family.name} sync run ${run.runId} stopped: ${runError.message}; the run goes on without it`,
    );
    return;
  }
  await recordFailureWithoutLease(deps.db, family.name, runError);
  await releaseLease(deps.db, run.lease);
  deps.logger.error(
    { family: family.name, runId: run.runId, err: error },
    `${family.name} sync run failed: ${runError.message}`,
  );
}
