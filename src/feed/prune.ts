/**
 * The feed's retention: changes older than FEED_RETENTION_DAYS are deleted from `sync_feed`, in
 * position order, and the horizon moves to the last one deleted. A consumer whose position is
 * below the horizon may have missed some and is told so (410, `expired`). The audit rows — the
 * records' history — are never deleted.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { rowsOf } from '../db/sql-rows.js';
import type { FeedPosition } from './position.js';
import { readHorizon } from './read-changes.js';

/** Changes deleted per transaction: short locks, bounded undo. */
const PRUNE_BATCH = 10_000;

export async function pruneFeed(
  db: Db,
  retentionDays: number,
): Promise<{ deleted: number; horizon: FeedPosition }> {
  let deleted = 0;
  for (;;) {
    const batch = await db.transaction(async (tx) => {
      // The first changes in position order, each old enough to go or not. Only a prefix goes:
      // nothing is left behind below the horizon, and only changes below the snapshot's xmin.
      const rows = rowsOf<{ xid: string; id: string; old: boolean }>(
        await tx.execute(sql`
          with snap as materialized (select pg_snapshot_xmin(pg_current_snapshot()) as xmin)
          select f.xid::text as xid, f.id::text as id,
            f.created_at < now() - make_interval(days => ${retentionDays}) and f.xid < snap.xmin as old
          from sync_feed f, snap order by f.xid, f.id limit ${PRUNE_BATCH}`),
      );
      const keptAt = rows.findIndex((row) => !row.old);
      const doomed = keptAt < 0 ? rows : rows.slice(0, keptAt);
      const last = doomed.at(-1);
      if (!last) return { count: 0, full: false };
      await tx.execute(sql`
        delete from sync_feed where (xid, id) <= (${last.xid}::xid8, ${last.id}::bigint)`);
      await tx.execute(sql`
        update sync_feed_horizon set xid = ${last.xid}::xid8, id = ${last.id}::bigint, pruned_at = now()
        where (xid, id) < (${last.xid}::xid8, ${last.id}::bigint)`);
      return { count: doomed.length, full: keptAt < 0 && rows.length === PRUNE_BATCH };
    });
    deleted += batch.count;
    if (!batch.full) break;
  }
  return { deleted, horizon: await readHorizon(db) };
}
