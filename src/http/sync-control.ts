/**
 * What the API may do to the sync of each family: read its state, log and failures, and queue
 * jobs. It never runs a sync itself; the workers do. A request names a family by its key
 * (`acme.bcs`), or by its name within a source, or every family of a source
 * (src/sync/select-families.ts); one that names none acts on every family copied. A key limited to
 * sources acts on theirs alone: 403 for another's. A family waiting for `migrate` is shown, with
 * why, and can be paused; a job asked for it is a 409 until it is migrated.
 */
import { z } from 'zod';
import type { Db } from '../db/create-db.js';
import type {
  SyncFailureRow,
  SyncLogRow,
  SyncStateRow,
  SyncWebhookInboxRow,
} from '../db/schema/index.js';
import { familyModels, type RecordFamily } from '../families/family.js';
import type { Families } from '../families/registry.js';
import { splitFamilyKey } from '../sources/family-key.js';
import { JOBS } from '../queues/catalogue.js';
import { pausedQueueNames } from '../queues/paused-queues.js';
import type { Queues } from '../queues/queues.js';
import { listRuns, readRun } from '../sync/run-log.js';
import { listFailures } from '../sync/sync-failures.js';
import { listHeldWebhooks } from '../sync/webhook-inbox.js';
import {
  FamilySelectionError,
  selectedSource,
  selectFamilies,
  type FamilySelection,
} from '../sync/select-families.js';
import { readSyncState, readWatermarks, setPaused, type Watermarks } from '../sync/sync-state.js';
import { HttpError } from './http-error.js';
import { readsSource, sourceRefused } from './plugins/api-key-auth.js';
import { type Caller } from '../fastify/key-matcher.js';

/** A family's sync state, its watermarks included. */
export interface FamilyState {
  readonly family: string;
  /** Its Odoo models, the root first. */
  readonly models: readonly string[];
  /** Why it cannot be copied until `migrate` runs; null when it can. */
  readonly unavailableReason: string | null;
  readonly state: SyncStateRow | undefined;
  readonly watermarks: Watermarks;
  /**
   * The queues of its source an operator paused (paused-queues.ts): its jobs wait there until
   * they are resumed. Null when this process has no queues, or they did not answer.
   */
  readonly pausedQueues: readonly string[] | null;
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

/**
 * The families a request acts on: those it names, else every family copied; of the sources its
 * key reads.
 */
export interface FamilyScope extends FamilySelection {
  /** Who asks: a key limited to sources gets 403 on another's family or source. */
  readonly caller?: Caller | undefined;
}

export interface SyncControl {
  readonly families: Families;
  state(scope?: FamilyScope): Promise<FamilyState[]>;
  runs(page: FamilyScope & { limit: number; beforeId?: number }): Promise<SyncLogRow[]>;
  failures(
    page: FamilyScope & { limit: number; after?: { family: string; odooId: number } },
  ): Promise<{ rows: SyncFailureRow[]; total: number }>;
  /** The webhook events the inbox holds, oldest first: those no read has shown yet. */
  webhooks(
    page: FamilyScope & { limit: number; afterId?: number },
  ): Promise<{ rows: SyncWebhookInboxRow[]; total: number }>;
  /**
   * Queues a run (a full resync with `full`) of each family in scope; 409 while a live lease says
   * one of them is running.
   */
  requestRun(trigger: string, options?: FamilyScope & { full?: boolean }): Promise<QueuedJobs>;
  /** Pauses the schedule (`by` names who), or resumes it with `null`. */
  setPaused(by: string | null, scope?: FamilyScope): Promise<FamilyState[]>;
  /** Queues a read of one root record of `family` fresh from Odoo, for `caller`: its job's id. */
  requestResync(
    family: string,
    odooId: number,
    caller: string | undefined,
  ): Promise<{ jobId: string }>;
  /**
   * Queues a reconcile of each family in scope; 409 while one is queued or running, or within the
   * cooldown after one ran ({@link SyncControlOptions}).
   */
  requestReconcile(trigger: string, scope?: FamilyScope): Promise<QueuedJobs>;
  /** Queues a verify of the next slice, or of every record with `all`; 409 as a reconcile. */
  requestVerify(trigger: string, options?: FamilyScope & { all?: boolean }): Promise<QueuedJobs>;
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
  /** Every family copied, those waiting for migrate too. */
  const copied = (): CopiedFamily[] => [
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
  /**
   * The keys of the families in scope, in the order they are copied.
   * @throws HttpError 403 for a family or a source the key does not read (before whether it is
   * copied: a key learns nothing of another source), 404 for one not copied here, 400 for a
   * family key of another source than `source`
   */
  const keysIn = (scope: FamilyScope): readonly string[] => {
    try {
      const named = selectedSource(scope);
      if (named !== undefined && !readsSource(scope.caller, named))
        throw sourceRefused(scope.caller!, named);
      // Among the families the key reads: a 404 lists what is copied, and only those.
      return selectFamilies(
        copied()
          .map((family) => family.name)
          .filter((key) => readsSource(scope.caller, splitFamilyKey(key).source)),
        scope,
      );
    } catch (error) {
      if (!(error instanceof FamilySelectionError)) throw error;
      const message = `${error.option}: ${error.message}`;
      throw error.code === 'FAMILY_NOT_OF_SOURCE'
        ? new HttpError(400, 'BAD_REQUEST', message)
        : new HttpError(404, error.code, message);
    }
  };
  /** The families in scope that can be copied; 409 for a family named that waits for migrate. */
  const targets = (scope: FamilyScope): readonly RecordFamily[] => {
    const keys = keysIn(scope);
    // Named alone, it is that family (a family of many that waits is left out, as ever).
    const waiting =
      scope.family === undefined
        ? undefined
        : families.unavailable.find((family) => family.name === keys[0]);
    if (waiting) throw new HttpError(409, 'FAMILY_NOT_MIGRATED', waiting.reason);
    return families.all.filter((family) => keys.includes(family.name));
  };
  /** The families in scope, those waiting for migrate too. */
  const everyTarget = (scope: FamilyScope): readonly CopiedFamily[] => {
    const keys = keysIn(scope);
    return copied().filter((family) => keys.includes(family.name));
  };
  /**
   * The families whose rows a list shows: every row (those of a family no longer copied too) when
   * the request names none and its key reads every source.
   */
  const listed = (scope: FamilyScope): readonly string[] | undefined =>
    scope.family === undefined && scope.source === undefined && scope.caller?.sources === undefined
      ? undefined
      : keysIn(scope);
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
      const jobId = await dedupedJob(kind, family.name, id);
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
  const dedupedJob = async (kind: CheckKind, familyKey: string, id: string) => {
    if (!queues) return null;
    try {
      return await queues.ofFamily(JOBS[kind].queue, familyKey).getDeduplicationJobId(id);
    } catch (error) {
      throw queueUnavailable(error);
    }
  };
  // One query after the other: a request holds one connection at a time (in-flight.ts).
  const stateOf = async (
    family: CopiedFamily,
    pausedQueues: readonly string[] | null,
  ): Promise<FamilyState> => ({
    family: family.name,
    models: family.models,
    unavailableReason: family.unavailableReason,
    state: await readSyncState(db, family.name),
    watermarks: await readWatermarks(db, family.name),
    pausedQueues,
  });
  const statesOf = async (chosen: readonly CopiedFamily[]) => {
    const states: FamilyState[] = [];
    // Each source's queues read once, however many of its families are shown.
    const pausedBySource = new Map<string, readonly string[] | null>();
    for (const family of chosen) {
      const { source } = splitFamilyKey(family.name);
      if (!pausedBySource.has(source))
        pausedBySource.set(
          source,
          queues ? ((await pausedQueueNames(Object.values(queues.of(source)))) ?? null) : null,
        );
      states.push(await stateOf(family, pausedBySource.get(source)!));
    }
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
    async state(scope = {}) {
      // As it stands now: a family migrated since the API started shows as available.
      await families.refresh();
      return statesOf(everyTarget(scope));
    },
    runs: ({ limit, beforeId, ...scope }) =>
      listRuns(db, { limit, beforeId, families: listed(scope) }),
    failures: ({ limit, after, ...scope }) =>
      listFailures(db, { limit, after, families: listed(scope) }),
    webhooks: ({ limit, afterId, ...scope }) =>
      listHeldWebhooks(db, { limit, afterId, families: listed(scope) }),
    async setPaused(by, scope = {}) {
      const chosen = everyTarget(scope);
      for (const target of chosen) await setPaused(db, target.name, by);
      return statesOf(chosen);
    },
    async requestRun(trigger, options = {}) {
      const chosen = targets(options);
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
    async requestResync(familyName, odooId, caller) {
      const { jobs } = await queueEach(targets({ family: familyName }), (family) =>
        add(
          'resync-record',
          { family: family.name, odooId, trigger: `api:${caller ?? 'unknown'}` },
          { deduplication: { id: `resync-${family.name}-${odooId}` } },
        ),
      );
      return { jobId: jobs[0]!.jobId };
    },
    async requestReconcile(trigger, scope = {}) {
      const chosen = targets(scope);
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
      const chosen = targets(verify);
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
