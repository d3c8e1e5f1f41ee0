/**
 * What the API may do to the sync of each family: read its state, log and failures, and queue
 * jobs. It never runs a sync itself; the workers do. A request that names no family acts on every
 * family copied. A family waiting for `migrate` is shown, with why, and can be paused; a job asked
 * for it is a 409 until it is migrated.
 */
import { z } from 'zod';
import type { Db } from '../db/create-db.js';
import type { SyncFailureRow, SyncLogRow, SyncStateRow } from '../db/schema/index.js';
import { familyModels, type RecordFamily } from '../families/family.js';
import type { Families } from '../families/registry.js';
import { JOBS } from '../queues/catalogue.js';
import type { Queues } from '../queues/queues.js';
import { listRuns, readRun } from '../sync/run-log.js';
import { listFailures } from '../sync/sync-failures.js';
import { readSyncState, readWatermarks, setPaused, type Watermarks } from '../sync/sync-state.js';
import { HttpError } from './http-error.js';

/** A family's sync state, its watermarks included. */
export interface FamilyState {
  readonly family: string;
  /** Its Odoo models, the root first. */
  readonly models: readonly string[];
  /** Why it cannot be copied until `migrate` runs; null when it can. */
  readonly unavailableReason: string | null;
  readonly state: SyncStateRow | undefined;
  readonly watermarks: Watermarks;
}

/** A family copied here as its state shows it. */
interface CopiedFamily {
  readonly name: string;
  readonly models: readonly string[];
  readonly unavailableReason: string | null;
}

export interface QueuedJobs {
  readonly jobs: { family: string; jobId: string }[];
}

export interface SyncControl {
  readonly families: Families;
  state(family?: string): Promise<FamilyState[]>;
  runs(input: { limit: number; beforeId?: number; family?: string }): Promise<SyncLogRow[]>;
  failures(page: {
    limit: number;
    family?: string;
    after?: { family: string; odooId: number };
  }): Promise<{ rows: SyncFailureRow[]; total: number }>;
  /**
   * Queues a run (a full resync with `full`) of the family, or of every family; 409 while a live
   * lease says one of them is running.
   */
  requestRun(trigger: string, options?: { full?: boolean; family?: string }): Promise<QueuedJobs>;
  /** Pauses the schedule (`by` names who), or resumes it with `null`. */
  setPaused(by: string | null, family?: string): Promise<FamilyState[]>;
  requestResync(family: string, odooId: number, trigger: string): Promise<QueuedJobs>;
  /**
   * Queues a reconcile of the family, or of every family; 409 while one is queued or running, or
   * within the cooldown after one ran ({@link SyncControlOptions}).
   */
  requestReconcile(trigger: string, family?: string): Promise<QueuedJobs>;
  /** Queues a verify of the next slice, or of every record with `all`; 409 as a reconcile. */
  requestVerify(trigger: string, options?: { all?: boolean; family?: string }): Promise<QueuedJobs>;
}

export interface SyncControlOptions {
  /**
   * How long after a family's reconcile (or verify) ran, whoever asked for it, another is
   * refused: each reads every record of the family from Odoo, and a key must not chain them.
   */
  readonly reconcileCooldownSeconds: number;
}

type CheckKind = 'reconcile' | 'verify';

/** The deduplication ids of the reconciles and verifies asked for here. */
const reconcileId = (family: string) => `manual-reconcile-${family}`;
const verifyId = (family: string, all: boolean) =>
  `manual-verify-${all ? 'all' : 'slice'}-${family}`;

function queueUnavailable(error: unknown): HttpError {
  return new HttpError(
    503,
    'QUEUE_UNAVAILABLE',
    'the job queue (Redis) is not reachable; try again later',
    { cause: error },
  );
}

export function createSyncControl(
  db: Db,
  families: Families,
  queues: Queues | undefined,
  options: SyncControlOptions,
): SyncControl {
  const add = async (...args: Parameters<Queues['add']>) => {
    if (!queues)
      throw new HttpError(
        503,
        'QUEUE_UNAVAILABLE',
        'this API instance has no job queue configured',
      );
    try {
      const job = await queues.add(...args);
      return job.id!;
    } catch (error) {
      // A payload the catalogue refuses is a bug here, not Redis being away.
      if (error instanceof z.ZodError) throw error;
      throw queueUnavailable(error);
    }
  };
  /** 409 for a family waiting for migrate, 404 for a family not copied here. */
  const unknownOrWaiting = (name: string): HttpError => {
    const waiting = families.unavailable.find((family) => family.name === name);
    if (waiting) return new HttpError(409, 'FAMILY_NOT_MIGRATED', waiting.reason);
    const copied = [...families.all, ...families.unavailable].map((family) => family.name);
    return new HttpError(
      404,
      'UNKNOWN_FAMILY',
      `no family "${name}" is copied here (copied: ${copied.join(', ')})`,
    );
  };
  /** The family named, or every family that can be copied. */
  const targets = (name: string | undefined): readonly RecordFamily[] => {
    if (name === undefined) return families.all;
    const family = families.byName(name);
    if (!family) throw unknownOrWaiting(name);
    return [family];
  };
  /** The family named, or every family copied, those waiting for migrate too. */
  const everyTarget = (name: string | undefined): readonly CopiedFamily[] => {
    const all = [
      ...families.all.map((family) => ({
        name: family.name,
        models: familyModels(family).map((model) => model.model),
        unavailableReason: null,
      })),
      ...families.unavailable.map((family) => ({
        name: family.name,
        models: family.models,
        unavailableReason: family.reason,
      })),
    ];
    if (name === undefined) return all;
    const named = all.filter((family) => family.name === name);
    if (named.length === 0) throw unknownOrWaiting(name);
    return named;
  };
  /**
   * Refuses a reconcile or a verify of the family that would follow another too soon: one queued
   * or running (asked for here, or the night's), or one that ran within the cooldown.
   * @throws HttpError 409 `RECONCILE_PENDING` / `VERIFY_PENDING`, or `…_TOO_SOON` with Retry-After
   */
  const checkDue = async (family: RecordFamily, kind: CheckKind, manualIds: readonly string[]) => {
    const code = kind.toUpperCase();
    const cooldownSeconds = options.reconcileCooldownSeconds;
    const pending = (what: string) =>
      new HttpError(
        409,
        `${code}_PENDING`,
        `a ${kind} of ${family.name} is ${what}: ask again once it has run${cooldownSeconds > 0 ? ` and ${cooldownSeconds} s have passed` : ''}`,
      );
    for (const id of manualIds) {
      const jobId = await dedupedJob(kind, id);
      if (jobId) throw pending(`already queued (job ${jobId})`);
    }
    const state = await readSyncState(db, family.name);
    const now = Date.now();
    if (
      state?.isSyncing &&
      state.currentRunId !== null &&
      state.leaseExpiresAt &&
      state.leaseExpiresAt.getTime() > now &&
      (await readRun(db, state.currentRunId))?.kind === kind
    )
      throw pending(`running (run ${state.currentRunId})`);
    const last = kind === 'reconcile' ? state?.lastReconcileAt : state?.lastVerifyAt;
    const nextMs = last ? last.getTime() + cooldownSeconds * 1_000 : 0;
    if (last && nextMs > now)
      throw new HttpError(
        409,
        `${code}_TOO_SOON`,
        `a ${kind} of ${family.name} ran at ${last.toISOString()}; the next may run from ${new Date(nextMs).toISOString()}`,
        { headers: { 'retry-after': String(Math.ceil((nextMs - now) / 1_000)) } },
      );
  };
  /** The job a deduplication id still holds (queued, delayed or running), if any. */
  const dedupedJob = async (kind: CheckKind, id: string) => {
    if (!queues) return null;
    try {
      return await queues.byName[JOBS[kind].queue].getDeduplicationJobId(id);
    } catch (error) {
      throw queueUnavailable(error);
    }
  };
  // One query after the other: a request holds one connection at a time (in-flight.ts).
  const stateOf = async (family: CopiedFamily): Promise<FamilyState> => ({
    family: family.name,
    models: family.models,
    unavailableReason: family.unavailableReason,
    state: await readSyncState(db, family.name),
    watermarks: await readWatermarks(db, family.name),
  });
  const statesOf = async (chosen: readonly CopiedFamily[]) => {
    const states: FamilyState[] = [];
    for (const family of chosen) states.push(await stateOf(family));
    return states;
  };
  /** One job queued for each family, one after the other: the jobs as the API answers them. */
  const queueEach = async (
    chosen: readonly RecordFamily[],
    queue: (family: RecordFamily) => Promise<string>,
  ): Promise<QueuedJobs> => {
    const jobs = [];
    for (const family of chosen) jobs.push({ family: family.name, jobId: await queue(family) });
    return { jobs };
  };
  return {
    families,
    async state(family) {
      // As it stands now: a family migrated since the API started shows as available.
      await families.refresh();
      return statesOf(everyTarget(family));
    },
    runs: (page) => {
      if (page.family !== undefined) everyTarget(page.family);
      return listRuns(db, page);
    },
    failures: (page) => {
      if (page.family !== undefined) everyTarget(page.family);
      return listFailures(db, page);
    },
    async setPaused(by, family) {
      const chosen = everyTarget(family);
      for (const target of chosen) await setPaused(db, target.name, by);
      return statesOf(chosen);
    },
    async requestRun(trigger, options = {}) {
      const chosen = targets(options.family);
      for (const family of chosen) {
        const state = await readSyncState(db, family.name);
        if (state?.isSyncing && state.leaseExpiresAt && state.leaseExpiresAt > new Date())
          throw new HttpError(
            409,
            'SYNC_RUNNING',
            `a ${family.name} sync run is in progress (run ${state.currentRunId ?? '?'}, lease held until ${state.leaseExpiresAt.toISOString()})`,
          );
      }
      const full = options.full === true;
      // Requests racing past the check above collapse into one queued job per family.
      return queueEach(chosen, (family) =>
        add(
          'sync-run',
          { family: family.name, trigger, full },
          { deduplication: { id: `manual-${full ? 'full-resync' : 'sync-run'}-${family.name}` } },
        ),
      );
    },
    requestResync: (familyName, odooId, trigger) =>
      queueEach(targets(familyName), (family) =>
        add(
          'resync-record',
          { family: family.name, odooId, trigger },
          { deduplication: { id: `resync-${family.name}-${odooId}` } },
        ),
      ),
    async requestReconcile(trigger, familyName) {
      const chosen = targets(familyName);
      // Every family checked before any is queued: a refusal queues nothing.
      for (const family of chosen) await checkDue(family, 'reconcile', [reconcileId(family.name)]);
      return queueEach(chosen, (family) =>
        add(
          'reconcile',
          { family: family.name, trigger },
          { deduplication: { id: reconcileId(family.name) } },
        ),
      );
    },
    async requestVerify(trigger, verify = {}) {
      const all = verify.all === true;
      const chosen = targets(verify.family);
      for (const family of chosen)
        await checkDue(family, 'verify', [
          verifyId(family.name, true),
          verifyId(family.name, false),
        ]);
      return queueEach(chosen, (family) =>
        add(
          'verify',
          { family: family.name, trigger, all },
          { deduplication: { id: verifyId(family.name, all) } },
        ),
      );
    },
  };
}
