/**
 * Every read and write of a family's sync state (`sync_state`, keyed by the family's name, and its
 * watermarks in `sync_watermark`): the lease (take, check, extend, fence, release), the run's
 * halt flag, the watermarks, the last run's outcome and the operators' controls.
 *
 * Times come from PostgreSQL's clock, the one clock every worker shares; watermarks are Odoo's
 * stamps. A lease is named by its owner and its token: the token changes whenever another owner
 * takes the lease, so a stale run is recognised even if an owner name were reused.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import {
  syncState,
  syncWatermark,
  type SyncRunError,
  type SyncStateRow,
} from '../db/schema/index.js';
import { rowsOf } from '../db/sql-rows.js';
import { LeaseLostError, RunHaltedError } from './sync-errors.js';

/** The lease as a run holds it; every job of the run carries it. */
export interface Lease {
  readonly key: string;
  readonly owner: string;
  readonly token: number;
}

/** Why a run failed: its code and its safe message. */
type RunError = Pick<SyncRunError, 'code' | 'message'>;

/** A transaction or the database: fencing runs inside the write's own transaction. */
type Executor = Pick<Db, 'execute'>;

const ours = (lease: Lease) =>
  and(
    eq(syncState.key, lease.key),
    eq(syncState.leaseOwner, lease.owner),
    eq(syncState.leaseToken, lease.token),
    eq(syncState.isSyncing, true),
  );

export async function readSyncState(db: Db, key: string): Promise<SyncStateRow | undefined> {
  const [row] = await db.select().from(syncState).where(eq(syncState.key, key));
  return row;
}

/**
 * Takes the lease if it is free, expired, or already this owner's (the run's job run again, after
 * a crash or while a first execution that lost its job lock goes on). Every execution gets a token
 * of its own: from then on a first execution's writes are fenced out, and what it staged is
 * apart. A halted run stays halted through its re-executions. Returns the row before the run
 * changes anything, with the lease; undefined when another owner holds it.
 */
export async function takeLease(
  db: Db,
  request: {
    key: string;
    owner: string;
    leaseSeconds: number;
    /** The queue job that runs it, for the workers that keep a waiting run's lease. */
    jobId?: string;
  },
): Promise<{ state: SyncStateRow; lease: Lease } | undefined> {
  await db.insert(syncState).values({ key: request.key }).onConflictDoNothing();
  // SET expressions read the row as it was: a re-entry keeps the halt flag.
  const reentry = sql`(${syncState.leaseOwner} = ${request.owner} and ${syncState.isSyncing})`;
  const [row] = await db
    .update(syncState)
    .set({
      isSyncing: true,
      leaseToken: sql`${syncState.leaseToken} + 1`,
      haltCode: sql`case when ${reentry} then ${syncState.haltCode} else null end`,
      leaseOwner: request.owner,
      leaseJobId: request.jobId ?? null,
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
  if (!row) return undefined;
  return { state: row, lease: { key: row.key, owner: request.owner, token: row.leaseToken } };
}

/** The leases held now, with the queue job of the execution holding each. */
export async function leasesHeldByJobs(db: Db): Promise<{ lease: Lease; jobId: string }[]> {
  const rows = await db
    .select({
      key: syncState.key,
      owner: syncState.leaseOwner,
      token: syncState.leaseToken,
      jobId: syncState.leaseJobId,
    })
    .from(syncState)
    .where(and(eq(syncState.isSyncing, true), sql`${syncState.leaseJobId} is not null`));
  return rows.map((row) => ({
    lease: { key: row.key, owner: row.owner!, token: row.token },
    jobId: row.jobId!,
  }));
}

/** Extends our lease; false when it is no longer ours. */
export async function extendLease(db: Db, lease: Lease, leaseSeconds: number): Promise<boolean> {
  const rows = await db
    .update(syncState)
    .set({
      leaseExpiresAt: sql`now() + make_interval(secs => ${leaseSeconds})`,
      updatedAt: sql`now()`,
    })
    .where(ours(lease))
    .returning({ key: syncState.key });
  return rows.length > 0;
}

/**
 * What every job of a run does before it starts: checks the lease is still the run's and the run
 * was not halted, and extends the lease when a third of it has gone by (many short jobs then cost
 * one read each, not one write of this hot row each).
 * @throws LeaseLostError, RunHaltedError
 */
export async function checkLease(db: Db, lease: Lease, leaseSeconds: number): Promise<void> {
  const [row] = rowsOf<{
    owner: string | null;
    token: string | number;
    syncing: boolean;
    halt: string | null;
    remaining: number | null;
  }>(
    await db.execute(sql`
      select lease_owner as owner, lease_token as token, is_syncing as syncing, halt_code as halt,
        extract(epoch from lease_expires_at - now())::float8 as remaining
      from sync_state where key = ${lease.key}`),
  );
  if (!row || !row.syncing || row.owner !== lease.owner || Number(row.token) !== lease.token)
    throw lostError(lease, row?.owner ?? null);
  if (row.halt) throw new RunHaltedError(row.halt);
  if (
    (row.remaining ?? 0) < (leaseSeconds * 2) / 3 &&
    !(await extendLease(db, lease, leaseSeconds))
  )
    throw lostError(lease, null);
}

/**
 * The fencing check, inside a write's transaction: the row lock it takes (FOR SHARE) makes a new
 * owner's takeover wait for this transaction, so once another run holds the lease no write of
 * ours can commit.
 * @throws LeaseLostError
 */
export async function fenceLease(tx: Executor, lease: Lease): Promise<void> {
  const [row] = rowsOf<{ owner: string | null; token: string | number; syncing: boolean }>(
    await tx.execute(sql`
      select lease_owner as owner, lease_token as token, is_syncing as syncing
      from sync_state where key = ${lease.key} for share`),
  );
  if (!row || !row.syncing || row.owner !== lease.owner || Number(row.token) !== lease.token)
    throw lostError(lease, row?.owner ?? null);
}

function lostError(lease: Lease, holder: string | null): LeaseLostError {
  return new LeaseLostError(
    `${lease.owner} no longer holds the sync lease${holder && holder !== lease.owner ? ` (${holder} does)` : ''}; it stops and writes nothing more`,
  );
}

/** Releases our lease; a lease another run took over is left alone. */
export async function releaseLease(db: Db, lease: Lease): Promise<boolean> {
  const rows = await db
    .update(syncState)
    .set({
      isSyncing: false,
      leaseOwner: null,
      leaseJobId: null,
      leaseExpiresAt: null,
      currentRunId: null,
      haltCode: null,
      updatedAt: sql`now()`,
    })
    .where(ours(lease))
    .returning({ key: syncState.key });
  return rows.length > 0;
}

/** Stops every job of the run holding this lease: they fail at their next check, before Odoo. */
export async function haltRun(db: Db, lease: Lease, code: string): Promise<void> {
  await db
    .update(syncState)
    .set({ haltCode: code, updatedAt: sql`now()` })
    .where(and(ours(lease), sql`${syncState.haltCode} is null`));
}

export async function recordRunStart(db: Db, key: string, runId: number): Promise<void> {
  await db
    .update(syncState)
    .set({ currentRunId: runId, lastRunAt: sql`now()`, updatedAt: sql`now()` })
    .where(eq(syncState.key, key));
}

/** A family's watermarks, by model; a model without one is read whole. */
export type Watermarks = Readonly<Record<string, Date>>;

export async function readWatermarks(db: Db, family: string): Promise<Watermarks> {
  const rows = await db.select().from(syncWatermark).where(eq(syncWatermark.family, family));
  return Object.fromEntries(rows.map((row) => [row.model, row.watermark]));
}

/** A full resync: the run re-reads everything; the copy's data stays as it is. */
export async function resetWatermarks(db: Db, lease: Lease): Promise<void> {
  await db.transaction(async (tx) => {
    await fenceLease(tx, lease);
    await tx.delete(syncWatermark).where(eq(syncWatermark.family, lease.key));
  });
}

/**
 * Records how a run ended, under the fence: the watermarks move only forward and only when the
 * run succeeded or only some records failed (those wait in sync_failure).
 * @returns the state after the update, or undefined when the lease was no longer ours
 */
export async function recordRunEnd(
  db: Db,
  lease: Lease,
  end: {
    status: string;
    /** Why a failed run failed. */
    error: RunError | null;
    /** The next watermark of each model the scans proved one for. */
    watermarks: Watermarks;
    /** Moves only after a run in which every record was written: a failed one may hold an old copy. */
    settledThrough: Date | null;
    /** When the run started: rows written after it are not proven by it, but its own. */
    startedAt: Date | null;
    runId: number;
    /** The last audit row committed when the run started (null: not known). */
    auditAfter: number | null;
  },
): Promise<SyncStateRow | undefined> {
  const advance = end.status === 'succeeded' || end.status === 'partial';
  const settle =
    end.status === 'succeeded' && end.settledThrough !== null && end.startedAt !== null;
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(syncState)
      .set({
        ...(settle
          ? {
              settledThrough: end.settledThrough,
              settledAt: end.startedAt,
              settledRunId: end.auditAfter === null ? null : end.runId,
              settledAuditAfter: end.auditAfter,
            }
          : {}),
        lastRunStatus: end.status,
        ...(advance ? { lastSuccessAt: sql`now()`, ...lastErrorOf(null) } : lastErrorOf(end.error)),
        updatedAt: sql`now()`,
      })
      .where(ours(lease))
      .returning();
    const watermarks = Object.entries(end.watermarks);
    if (row && advance && watermarks.length > 0)
      await tx
        .insert(syncWatermark)
        .values(watermarks.map(([model, watermark]) => ({ family: lease.key, model, watermark })))
        .onConflictDoUpdate({
          target: [syncWatermark.family, syncWatermark.model],
          set: { watermark: sql`greatest(${syncWatermark.watermark}, excluded.watermark)` },
        });
    return row;
  });
}

/** A run that ended without the lease (lost, or never taken) still tells operators it failed. */
export async function recordFailureWithoutLease(
  db: Db,
  key: string,
  error: RunError,
): Promise<void> {
  await db
    .update(syncState)
    .set({ lastRunStatus: 'failed', ...lastErrorOf(error), updatedAt: sql`now()` })
    .where(eq(syncState.key, key));
}

/** A run's failure as `sync_state` keeps it: its text for a person, its code as data. */
function lastErrorOf(error: RunError | null) {
  return {
    lastError: error && `${error.code}: ${error.message}`,
    lastErrorCode: error?.code ?? null,
  };
}

export async function markReconciled(db: Db, key: string): Promise<void> {
  await db
    .update(syncState)
    .set({ lastReconcileAt: sql`now()`, updatedAt: sql`now()` })
    .where(eq(syncState.key, key));
}

/**
 * Records a verify that went through: when it ran, the slice the next nightly one checks, and,
 * after a verify of every record, the fields and context it read with.
 */
export async function markVerified(
  db: Db,
  key: string,
  next: { slice: number; schemaHash?: string },
): Promise<void> {
  await db
    .update(syncState)
    .set({
      lastVerifyAt: sql`now()`,
      verifySlice: next.slice,
      ...(next.schemaHash === undefined ? {} : { verifySchemaHash: next.schemaHash }),
      updatedAt: sql`now()`,
    })
    .where(eq(syncState.key, key));
}

/** Pauses (by names who asked) or resumes the schedule. */
export async function setPaused(db: Db, key: string, by: string | null): Promise<SyncStateRow> {
  await db.insert(syncState).values({ key }).onConflictDoNothing();
  const [row] = await db
    .update(syncState)
    .set(
      by === null
        ? { pausedAt: null, pausedBy: null, updatedAt: sql`now()` }
        : {
            pausedAt: sql`coalesce(${syncState.pausedAt}, now())`,
            pausedBy: by,
            updatedAt: sql`now()`,
          },
    )
    .where(eq(syncState.key, key))
    .returning();
  return row!;
}

/**
 * Sets watermarks found later than Odoo's clock back to it, under the family's lease: a run only
 * ever moves watermarks forward (recordRunEnd), so a watermark set by a clock that ran ahead
 * would otherwise stand until Odoo's clock passed it, hiding every change meanwhile.
 */
export async function clampWatermarks(
  db: Db,
  lease: Lease,
  clamped: readonly { model: string; odooNow: Date }[],
): Promise<void> {
  await db.transaction(async (tx) => {
    await fenceLease(tx, lease);
    for (const { model, odooNow } of clamped)
      await tx
        .update(syncWatermark)
        .set({ watermark: odooNow })
        .where(and(eq(syncWatermark.family, lease.key), eq(syncWatermark.model, model)));
  });
}
