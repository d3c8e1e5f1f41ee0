/**
 * What the API may do to the sync: read its state, log and failures, and queue jobs. It never
 * runs a sync itself; the workers do.
 */
import { z } from 'zod';
import type { Db } from '../db/create-db.js';
import type { SyncFailureRow, SyncLogRow, SyncStateRow } from '../db/schema/index.js';
import type { Queues } from '../queues/queues.js';
import { listRuns } from '../sync/run-log.js';
import { listFailures } from '../sync/sync-failures.js';
import { readSyncState, setPaused } from '../sync/sync-state.js';
import { BC_SYNC_KEY } from '../sync/models.js';
import { HttpError } from './http-error.js';

export interface SyncControl {
  state(): Promise<SyncStateRow | undefined>;
  runs(input: { limit: number; beforeId?: number }): Promise<SyncLogRow[]>;
  failures(page: {
    limit: number;
    afterOdooId?: number;
  }): Promise<{ rows: SyncFailureRow[]; total: number }>;
  /** Queues a run (a full resync with `full`); 409 while a live lease says one is running. */
  requestRun(trigger: string, options?: { full?: boolean }): Promise<{ jobId: string }>;
  /** Pauses the schedule (`by` names who), or resumes it with `null`. */
  setPaused(by: string | null): Promise<SyncStateRow>;
  requestResync(odooId: number, trigger: string): Promise<{ jobId: string }>;
  requestReconcile(trigger: string): Promise<{ jobId: string }>;
}

function queueUnavailable(error: unknown): HttpError {
  return new HttpError(
    503,
    'QUEUE_UNAVAILABLE',
    'the job queue (Redis) is not reachable; try again later',
    { cause: error },
  );
}

export function createSyncControl(db: Db, queues: Queues | undefined): SyncControl {
  const add = async (...args: Parameters<Queues['add']>) => {
    if (!queues)
      throw new HttpError(
        503,
        'QUEUE_UNAVAILABLE',
        'this API instance has no job queue configured',
      );
    try {
      const job = await queues.add(...args);
      return { jobId: job.id! };
    } catch (error) {
      // A payload the catalogue refuses is a bug here, not Redis being away.
      if (error instanceof z.ZodError) throw error;
      throw queueUnavailable(error);
    }
  };
  return {
    state: () => readSyncState(db, BC_SYNC_KEY),
    runs: (page) => listRuns(db, page),
    failures: (page) => listFailures(db, page),
    setPaused: (by) => setPaused(db, BC_SYNC_KEY, by),
    async requestRun(trigger, options = {}) {
      const state = await readSyncState(db, BC_SYNC_KEY);
      if (state?.isSyncing && state.leaseExpiresAt && state.leaseExpiresAt > new Date()) {
        throw new HttpError(
          409,
          'SYNC_RUNNING',
          `a sync run is in progress (run ${state.currentRunId ?? '?'}, lease held until ${state.leaseExpiresAt.toISOString()})`,
        );
      }
      const full = options.full === true;
      // Requests racing past the check above collapse into one queued job.
      return add(
        'sync-run',
        { trigger, full },
        { deduplication: { id: full ? 'manual-full-resync' : 'manual-sync-run' } },
      );
    },
    requestResync: (odooId, trigger) =>
      add('resync-bc', { odooId, trigger }, { deduplication: { id: `resync-${odooId}` } }),
    requestReconcile: (trigger) =>
      add('reconcile', { trigger }, { deduplication: { id: 'manual-reconcile' } }),
  };
}
