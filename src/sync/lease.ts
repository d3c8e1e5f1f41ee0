/**
 * The crash-safe sync lease in `sync_state`. A run owns the sync while `lease_expires_at` is in
 * the future; jobs of the run push it forward (heartbeat). A dead worker's lease runs out and the
 * next run takes over. Times come from PostgreSQL's clock, the one clock every worker shares.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { syncState, type SyncStateRow } from '../db/schema/index.js';

export interface LeaseRequest {
  key: string;
  owner: string;
  leaseSeconds: number;
}

async function ensureState(db: Db, key: string): Promise<void> {
  await db.insert(syncState).values({ key }).onConflictDoNothing();
}

/** Takes the lease if it is free, expired, or already ours; returns the state row when taken. */
export async function takeLease(db: Db, request: LeaseRequest): Promise<SyncStateRow | undefined> {
  await ensureState(db, request.key);
  const [row] = await db
    .update(syncState)
    .set({
      isSyncing: true,
      leaseOwner: request.owner,
      leaseExpiresAt: sql`now() + make_interval(secs => ${request.leaseSeconds})`,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(syncState.key, request.key),
        sql`(${syncState.isSyncing} = false or ${syncState.leaseExpiresAt} < now() or ${syncState.leaseOwner} = ${request.owner})`,
      ),
    )
    .returning();
  return row;
}

/** Extends our lease; false when it is no longer ours (expired and taken over). */
export async function extendLease(db: Db, request: LeaseRequest): Promise<boolean> {
  const rows = await db
    .update(syncState)
    .set({
      leaseExpiresAt: sql`now() + make_interval(secs => ${request.leaseSeconds})`,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(syncState.key, request.key),
        eq(syncState.leaseOwner, request.owner),
        eq(syncState.isSyncing, true),
      ),
    )
    .returning({ key: syncState.key });
  return rows.length > 0;
}

/** Releases our lease; a lease another run took over is left alone. */
export async function releaseLease(db: Db, key: string, owner: string): Promise<boolean> {
  const rows = await db
    .update(syncState)
    .set({
      isSyncing: false,
      leaseOwner: null,
      leaseExpiresAt: null,
      currentRunId: null,
      updatedAt: sql`now()`,
    })
    .where(and(eq(syncState.key, key), eq(syncState.leaseOwner, owner)))
    .returning({ key: syncState.key });
  return rows.length > 0;
}

export async function readSyncState(db: Db, key: string): Promise<SyncStateRow | undefined> {
  const [row] = await db.select().from(syncState).where(eq(syncState.key, key));
  return row;
}

/**
 * Heartbeats from many short jobs of one run: extends the lease at most once per third of its
 * length per process, so 20,000 BC jobs do not mean 20,000 updates of one row.
 */
export function createLeaseHeartbeat(db: Db, leaseSeconds: number, now: () => number = Date.now) {
  const lastBeatMs = new Map<string, number>();
  const intervalMs = (leaseSeconds * 1_000) / 3;
  return async function heartbeat(key: string, owner: string): Promise<boolean> {
    const id = `${key}\u0000${owner}`;
    const last = lastBeatMs.get(id);
    if (last !== undefined && now() - last < intervalMs) return true;
    const extended = await extendLease(db, { key, owner, leaseSeconds });
    if (extended) lastBeatMs.set(id, now());
    else lastBeatMs.delete(id);
    if (lastBeatMs.size > 1_000) lastBeatMs.clear();
    return extended;
  };
}

export type LeaseHeartbeat = ReturnType<typeof createLeaseHeartbeat>;
