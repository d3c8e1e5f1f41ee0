/**
 * How a job of a run works under the run's lease: it checks the lease (and the run's halt flag)
 * before anything else, heartbeats on a timer while it works however long that takes, and is
 * aborted the moment a heartbeat finds the lease gone. Its writes are fenced separately, inside
 * their transactions (see sync-state.ts), so even a job that misses the abort cannot write.
 *
 * A refused login halts the whole run: Odoo locks an IP out after repeated failed logins, so once
 * one job meets `ODOO_AUTH` no other job of the run, on any worker, calls Odoo again.
 */
import { isOdooError } from '../clients/odoo/odoo-errors.js';
import type { SyncStateRow } from '../db/schema/index.js';
import type { RecordFamily } from '../families/family.js';
import { closeAbandonedRuns, openRun, recordSkippedRun, type RunKind } from './run-log.js';
import {
  checkLease,
  extendLease,
  haltRun,
  readSyncState,
  takeLease,
  type Lease,
} from './sync-state.js';
import { LeaseLostError } from './sync-errors.js';
import type { SyncDeps } from './sync-deps.js';

/** A run as its jobs know it: its log row and its lease. */
export interface RunRef {
  readonly runId: number;
  readonly lease: Lease;
}

/** A run of a family asked for: a sync run, a reconcile, a verify. */
export interface LeasedRunRequest {
  readonly family: RecordFamily;
  readonly kind: RunKind;
  readonly trigger: string;
  readonly owner: string;
  /** Asked for by the family's schedule: it waits while the family is paused. */
  readonly scheduled: boolean;
  /** The job that holds the lease, for a crashed holder's lease to be told from a live one. */
  readonly jobId?: string;
}

/** A run asked for that did not start: its family paused, or its lease held by another run. */
export type RunNotStarted =
  | { readonly status: 'paused' }
  | { readonly status: 'skipped'; readonly runId: number; readonly heldBy: string | null };

export type LeasedRunStart =
  | RunNotStarted
  | {
      readonly status: 'opened';
      readonly run: RunRef;
      readonly state: SyncStateRow;
      readonly startedAt: Date;
    };

const RUN_NAMES: Record<RunKind, string> = {
  sync: 'sync run',
  reconcile: 'reconcile',
  verify: 'verify',
};

/**
 * Opens a run under its family's lease: a scheduled run does not start while the family is
 * paused; a lease another run holds is a skipped run in the log; the log rows of runs whose
 * holder died are closed; then the run's own row is opened.
 */
export async function openLeasedRun(
  deps: Pick<SyncDeps, 'db' | 'logger' | 'settings'>,
  request: LeasedRunRequest,
): Promise<LeasedRunStart> {
  const { db, logger, settings } = deps;
  const { family, kind, trigger, owner } = request;
  const name = RUN_NAMES[kind];
  if (request.scheduled && (await readSyncState(db, family.name))?.pausedAt) {
    logger.info(
      { family: family.name, trigger },
      `scheduled ${name} not started: the schedule is paused`,
    );
    return { status: 'paused' };
  }
  const taken = await takeLease(db, {
    key: family.name,
    owner,
    leaseSeconds: settings.leaseSeconds,
    ...(request.jobId === undefined ? {} : { jobId: request.jobId }),
  });
  if (!taken) {
    const heldBy = (await readSyncState(db, family.name))?.leaseOwner ?? null;
    const runId = await recordSkippedRun(db, {
      family: family.name,
      kind,
      trigger,
      leaseOwner: owner,
      error: {
        code: 'SYNC_LEASE_HELD',
        message: `another run holds the lease (${heldBy ?? 'unknown'})`,
      },
    });
    logger.info(
      { family: family.name, runId, heldBy },
      `${name} skipped: another run holds the lease`,
    );
    return { status: 'skipped', runId, heldBy };
  }
  const abandoned = await closeAbandonedRuns(db, family.name, owner);
  if (abandoned > 0)
    logger.warn({ family: family.name, abandoned }, 'closed the log rows of runs that died');
  const row = await openRun(db, { family: family.name, kind, trigger, leaseOwner: owner });
  return {
    status: 'opened',
    run: { runId: row.id, lease: taken.lease },
    state: taken.state,
    startedAt: row.startedAt,
  };
}

export async function withRunLease<T>(
  deps: Pick<SyncDeps, 'db' | 'logger' | 'settings'>,
  lease: Lease,
  signal: AbortSignal | undefined,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const { db, settings, logger } = deps;
  await checkLease(db, lease, settings.leaseSeconds);
  const controller = new AbortController();
  const forward = () => controller.abort(signal?.reason);
  if (signal?.aborted) forward();
  signal?.addEventListener('abort', forward, { once: true });
  const heartbeat = setInterval(
    () => {
      extendLease(db, lease, settings.leaseSeconds).then(
        (held) => {
          if (!held)
            controller.abort(
              new LeaseLostError(`${lease.owner} lost the sync lease while working`),
            );
        },
        (error: unknown) =>
          logger.warn({ err: error, owner: lease.owner }, 'lease heartbeat failed'),
      );
    },
    (settings.leaseSeconds * 1_000) / 3,
  );
  try {
    return await work(controller.signal);
  } catch (error) {
    // Aborted because the lease went: that, not the aborted call, is what happened.
    const reason: unknown = controller.signal.reason;
    if (reason instanceof LeaseLostError) throw reason;
    if (isOdooError(error, 'ODOO_AUTH')) await haltRun(db, lease, 'ODOO_AUTH');
    throw error;
  } finally {
    clearInterval(heartbeat);
    signal?.removeEventListener('abort', forward);
  }
}
