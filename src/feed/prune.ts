/**
 * The feed's retention (docs/feed.md, "Retention"): the day partitions of `sync_feed` whose day
 * ended more than FEED_RETENTION_DAYS ago are dropped, oldest first, each only once every change
 * it holds is below the snapshot's xmin; the horizon moves to the last position dropped, in the
 * transaction that drops. A consumer whose position is below the horizon may have missed some and
 * is told so (410, `expired`). The audit rows — the records' history — are never deleted.
 *
 * The same job first makes the partitions of the coming days (src/feed/feed-partitions.ts), so
 * that a writer never lacks its day's partition.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { LockTimeoutError, isLockTimeout } from '../db/advisory-lock.js';
import { rowsOf } from '../db/sql-rows.js';
import { ensureFeedPartitions, listFeedPartitions, type FeedPartition } from './feed-partitions.js';
import type { FeedPosition } from './position.js';
import { readHorizon } from './read-changes.js';

/**
 * How long a drop waits for its ACCESS EXCLUSIVE lock of `sync_feed`. While it waits, readers and
 * writers queue behind it: the wait is kept short, and the next run tries again.
 */
const LOCK_WAIT_MS = 1_000;

export interface PruneResult {
  /** Changes dropped (counted before their partition's lock, which nothing writes to anymore). */
  readonly deleted: number;
  /** The partitions dropped, oldest first. */
  readonly dropped: readonly string[];
  /** The partitions made for the coming days (or for changes the default partition caught). */
  readonly made: readonly string[];
  readonly horizon: FeedPosition;
}

export async function pruneFeed(db: Db, retentionDays: number): Promise<PruneResult> {
  const made = await ensureFeedPartitions(db);
  let deleted = 0;
  const dropped: string[] = [];
  for (const partition of await listFeedPartitions(db)) {
    const [old] = rowsOf<{ old: boolean }>(
      await db.execute(sql`
        select ${partition.to.toISOString()}::timestamptz
          <= now() - make_interval(days => ${retentionDays}) as old`),
    );
    if (!old?.old) break;
    // Only a prefix of the days goes: a partition kept back (a change above the xmin) keeps
    // every later one. Seen here first, without a lock: a day held back costs nobody a wait.
    if ((await lastChangeOf(db, partition)).below === false) break;
    const changes = await countChanges(db, partition);
    if (!(await dropFeedPartition(db, partition))) break;
    deleted += changes;
    dropped.push(partition.name);
  }
  return {
    deleted,
    dropped,
    made: made.map((partition) => partition.name),
    horizon: await readHorizon(db),
  };
}

/** The partition's last position, and whether it is below the snapshot's xmin (null: empty). */
async function lastChangeOf(
  db: Pick<Db, 'execute'>,
  partition: FeedPartition,
): Promise<{ xid: string | null; id: string | null; below: boolean | null }> {
  const [last] = rowsOf<{ xid: string | null; id: string | null; below: boolean | null }>(
    await db.execute(sql`
      select l.xid::text as xid, l.id::text as id,
        l.xid < pg_snapshot_xmin(pg_current_snapshot()) as below
      from (select 1) one
      left join (
        select xid, id from ${sql.identifier(partition.name)} order by xid desc, id desc limit 1
      ) l on true`),
  );
  return last ?? { xid: null, id: null, below: null };
}

async function countChanges(db: Db, partition: FeedPartition): Promise<number> {
  const [row] = rowsOf<{ n: number }>(
    await db.execute(sql`select count(*)::int as n from ${sql.identifier(partition.name)}`),
  );
  return row?.n ?? 0;
}

/**
 * Drops one day's partition if every change in it is below the snapshot's xmin, and moves the
 * horizon to its last position: one transaction, under an ACCESS EXCLUSIVE lock of `sync_feed`
 * held for a few catalogue updates. A reader's statement reads the horizon and the changes in one
 * snapshot (src/feed/read-changes.ts): it sees the partition and the old horizon, or neither.
 * @returns whether it was dropped
 * @throws LockTimeoutError when the lock was not granted within LOCK_WAIT_MS
 */
async function dropFeedPartition(db: Db, partition: FeedPartition): Promise<boolean> {
  const table = sql.identifier(partition.name);
  try {
    return await db.transaction(async (tx) => {
      await tx.execute(sql`select set_config('lock_timeout', ${`${LOCK_WAIT_MS}ms`}, true)`);
      // Every writer of the feed has ended once this is granted: their changes are committed or
      // gone, and the next statement's snapshot sees them all.
      await tx.execute(sql`lock table only sync_feed in access exclusive mode`);
      // Its last position is its greatest xid: when that is below the xmin, every change is.
      const last = await lastChangeOf(tx, partition);
      if (last.below === false) return false;
      await tx.execute(sql`alter table sync_feed detach partition ${table}`);
      if (last.xid !== null && last.id !== null)
        await tx.execute(sql`
          update sync_feed_horizon set xid = ${last.xid}::xid8, id = ${last.id}::bigint, pruned_at = now()
          where (xid, id) < (${last.xid}::xid8, ${last.id}::bigint)`);
      await tx.execute(sql`drop table ${table}`);
      return true;
    });
  } catch (error) {
    if (isLockTimeout(error))
      throw new LockTimeoutError(`the feed's lock to drop ${partition.name}`, LOCK_WAIT_MS, error);
    throw error;
  }
}
