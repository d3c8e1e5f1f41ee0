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
import { checkLease, extendLease, haltRun, type Lease } from './sync-state.js';
import { LeaseLostError } from './sync-errors.js';
import type { SyncDeps } from './sync-deps.js';

/** A run as its jobs know it: its log row and its lease. */
export interface RunRef {
  readonly runId: number;
  readonly lease: Lease;
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
