/**
 * What the API may do to the sync of each family: read its state, log and failures, and queue
 * jobs. It never runs a sync itself; the workers do. A request that names no family acts on every
 * family copied.
 */
import { z } from 'zod';
import type { Db } from '../db/create-db.js';
import type { SyncFailureRow, SyncLogRow, SyncStateRow } from '../db/schema/index.js';
import type { RecordFamily } from '../families/family.js';
import type { Families } from '../families/registry.js';
import type { Queues } from '../queues/queues.js';
import { listRuns } from '../sync/run-log.js';
import { listFailures } from '../sync/sync-failures.js';
import { readSyncState, readWatermarks, setPaused, type Watermarks } from '../sync/sync-state.js';
import { HttpError } from './http-error.js';

/** A family's sync state, its watermarks included. */
export interface FamilyState {
  readonly family: RecordFamily;
  readonly state: SyncStateRow | undefined;
  readonly watermarks: Watermarks;
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
  requestReconcile(trigger: string, family?: string): Promise<QueuedJobs>;
  /** Queues a verify of the next slice, or of every record with `all`. */
  requestVerify(trigger: string, options?: { all?: boolean; family?: string }): Promise<QueuedJobs>;
}

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
  /** The family named, or every family; 404 for a family not copied here. */
  const targets = (name: string | undefined): readonly RecordFamily[] => {
    if (name === undefined) return families.all;
    const family = families.byName(name);
    if (!family)
      throw new HttpError(
        404,
        'UNKNOWN_FAMILY',
        `no family "${name}" is copied here (copied: ${families.all.map((f) => f.name).join(', ')})`,
      );
    return [family];
  };
  const stateOf = async (family: RecordFamily): Promise<FamilyState> => {
    const [state, watermarks] = await Promise.all([
      readSyncState(db, family.name),
      readWatermarks(db, family.name),
    ]);
    return { family, state, watermarks };
  };
  return {
    families,
    state: (family) => Promise.all(targets(family).map(stateOf)),
    runs: (page) => {
      if (page.family !== undefined) targets(page.family);
      return listRuns(db, page);
    },
    failures: (page) => {
      if (page.family !== undefined) targets(page.family);
      return listFailures(db, page);
    },
    async setPaused(by, family) {
      const chosen = targets(family);
      for (const target of chosen) await setPaused(db, target.name, by);
      return Promise.all(chosen.map(stateOf));
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
      const jobs = [];
      for (const family of chosen)
        jobs.push({
          family: family.name,
          // Requests racing past the check above collapse into one queued job per family.
          jobId: await add(
            'sync-run',
            { family: family.name, trigger, full },
            {
              deduplication: {
                id: `manual-${full ? 'full-resync' : 'sync-run'}-${family.name}`,
              },
            },
          ),
        });
      return { jobs };
    },
    async requestResync(familyName, odooId, trigger) {
      const [family] = targets(familyName);
      const jobId = await add(
        'resync-record',
        { family: family!.name, odooId, trigger },
        { deduplication: { id: `resync-${family!.name}-${odooId}` } },
      );
      return { jobs: [{ family: family!.name, jobId }] };
    },
    async requestReconcile(trigger, familyName) {
      const jobs = [];
      for (const family of targets(familyName))
        jobs.push({
          family: family.name,
          jobId: await add(
            'reconcile',
            { family: family.name, trigger },
            { deduplication: { id: `manual-reconcile-${family.name}` } },
          ),
        });
      return { jobs };
    },
    async requestVerify(trigger, options = {}) {
      const all = options.all === true;
      const jobs = [];
      for (const family of targets(options.family))
        jobs.push({
          family: family.name,
          jobId: await add(
            'verify',
            { family: family.name, trigger, all },
            { deduplication: { id: `manual-verify-${all ? 'all' : 'slice'}-${family.name}` } },
          ),
        });
      return { jobs };
    },
  };
}
