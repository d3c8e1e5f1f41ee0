/**
 * The feed's retention drops day partitions (docs/feed.md, "Retention"): whole days past
 * FEED_RETENTION_DAYS, oldest first, each only once every change in it is below the snapshot's
 * xmin, the horizon moved to the last change dropped where the batched delete moved it; a reader
 * behind it is told to resync. A change's day is moved back here by updating its `created_at`:
 * PostgreSQL moves the row to the default partition (no partition of that day exists), which the
 * prune moves into a partition of its day first, as it would a change written while its day had
 * no partition.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/sql-rows.js';
import { dayOf, feedPartitionOf, listFeedPartitions } from '../../src/feed/feed-partitions.js';
import { FeedPositionGoneError } from '../../src/feed/feed-errors.js';
import { positionOf, type FeedPosition } from '../../src/feed/position.js';
import { pruneFeed } from '../../src/feed/prune.js';
import {
  NO_FILTER,
  readChanges,
  readHead,
  readHorizon,
  type FeedChange,
} from '../../src/feed/read-changes.js';
import { fakeBc, fakeLine, mapBc, writeBcs } from '../helpers/seed-bcs.js';
import { feedCaughtUp, openWriter } from '../helpers/feed-visible.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const context = { runId: null, lease: null, trigger: 'test' };
const bc = (id: number) => mapBc({ bc: fakeBc(id), lines: [fakeLine(id, 1), fakeLine(id, 2)] });
const DAY_MS = 86_400_000;
const partitionDaysAgo = (days: number) =>
  feedPartitionOf(new Date(Date.now() - days * DAY_MS)).name;

describe("the feed's retention by partition", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db.dispose();
  });

  /** Moves a root's changes to `days` days ago (their positions stay). */
  const writtenDaysAgo = (root: number, days: number) =>
    db.db.execute(sql`
      update sync_feed set created_at = now() - make_interval(days => ${days})
      where root_odoo_id = ${root}`);

  async function positionsOf(roots: readonly number[]): Promise<FeedPosition[]> {
    return rowsOf<{ xid: string; id: string }>(
      await db.db.execute(sql`
        select xid::text as xid, id::text as id from sync_feed
        where root_odoo_id = any(${`{${roots.join(',')}}`}::int[]) order by xid, id`),
    ).map((row) => positionOf(row.xid, row.id));
  }

  /** Where the batched delete moved the horizon: the last of the old changes' prefix, in position order. */
  async function horizonOfTheDelete(retentionDays: number): Promise<FeedPosition> {
    const rows = rowsOf<{ xid: string; id: string; old: boolean }>(
      await db.db.execute(sql`
        with snap as materialized (select pg_snapshot_xmin(pg_current_snapshot()) as xmin)
        select f.xid::text as xid, f.id::text as id,
          f.created_at < now() - make_interval(days => ${retentionDays}) and f.xid < snap.xmin as old
        from sync_feed f, snap order by f.xid, f.id`),
    );
    const keptAt = rows.findIndex((row) => !row.old);
    const last = (keptAt < 0 ? rows : rows.slice(0, keptAt)).at(-1);
    return last ? positionOf(last.xid, last.id) : readHorizon(db.db);
  }

  async function readAll(after: FeedPosition, limit: number): Promise<FeedChange[]> {
    const changes: FeedChange[] = [];
    let position = after;
    for (;;) {
      const page = await readChanges(db.db, position, NO_FILTER, limit);
      changes.push(...page.changes);
      if (page.changes.length === 0) return changes;
      position = page.next;
    }
  }

  it('drops the days past the retention whole, and moves the horizon where the delete moved it', async () => {
    const start = await readHead(db.db);
    await writeBcs(db.db, [bc(101)], context);
    await writeBcs(db.db, [bc(102)], context);
    await writeBcs(db.db, [bc(103)], context);
    await writtenDaysAgo(101, 9);
    await writtenDaysAgo(102, 8);
    await feedCaughtUp(db.db);
    const afterBc101 = (await positionsOf([101])).at(-1)!;
    const byTheDelete = await horizonOfTheDelete(7);
    expect(byTheDelete).toEqual((await positionsOf([102])).at(-1));

    const pruned = await pruneFeed(db.db, 7);
    expect(pruned.dropped).toEqual([partitionDaysAgo(9), partitionDaysAgo(8)]);
    expect(pruned.deleted).toBe(6);
    expect(pruned.horizon).toEqual(byTheDelete);
    expect(await readHorizon(db.db)).toEqual(byTheDelete);

    // Behind the horizon, from the start or from BC 101's last change: told to resync.
    await expect(readChanges(db.db, start, NO_FILTER, 100)).rejects.toBeInstanceOf(
      FeedPositionGoneError,
    );
    await expect(readChanges(db.db, afterBc101, NO_FILTER, 100)).rejects.toBeInstanceOf(
      FeedPositionGoneError,
    );
    const kept = await readChanges(db.db, pruned.horizon, NO_FILTER, 100);
    expect(kept.changes.map((change) => change.odooId)).toEqual([103, 1031, 1032]);
    // The days are gone, the history stays, the default partition is empty.
    const days = (await listFeedPartitions(db.db)).map((partition) => partition.name);
    expect(days).not.toContain(partitionDaysAgo(9));
    expect(days).not.toContain(partitionDaysAgo(8));
    const [counts] = rowsOf<{ history: number; caught: number }>(
      await db.db.execute(sql`
        select (select count(*)::int from sync_audit where root_odoo_id in (101, 102)) as history,
          (select count(*)::int from sync_feed_default) as caught`),
    );
    expect(counts).toEqual({ history: 6, caught: 0 });
  });

  it('reads every change once, in position order, across day partitions, a page at a time', async () => {
    // The head once the earlier tests' changes are below the xmin: past them (a head taken while
    // another file's transaction holds the xmin back would sit below them).
    await feedCaughtUp(db.db);
    const start = await readHead(db.db);
    await writeBcs(db.db, [bc(111)], context);
    await writeBcs(db.db, [bc(112)], context);
    await writeBcs(db.db, [bc(113)], context);
    // BC 112 written yesterday, BC 111 three days ago: partitions out of position order.
    await writtenDaysAgo(112, 1);
    await writtenDaysAgo(111, 3);
    await feedCaughtUp(db.db);
    const before = await positionsOf([111, 112, 113]);

    const pruned = await pruneFeed(db.db, 7);
    expect(pruned.dropped).toEqual([]);
    // Their days' partitions are there (made now, or already when a day turned during the file).
    expect((await listFeedPartitions(db.db)).map((partition) => partition.name)).toEqual(
      expect.arrayContaining([partitionDaysAgo(1), partitionDaysAgo(3)]),
    );
    // Moved out of the default partition, each change at its position, in its day's partition.
    expect(await positionsOf([111, 112, 113])).toEqual(before);
    const placed = rowsOf<{ root: number; partition: string }>(
      await db.db.execute(sql`
        select distinct root_odoo_id as root, tableoid::regclass::text as partition from sync_feed
        where root_odoo_id in (111, 112, 113) order by 1`),
    );
    expect(placed).toEqual([
      { root: 111, partition: partitionDaysAgo(3) },
      { root: 112, partition: partitionDaysAgo(1) },
      { root: 113, partition: feedPartitionOf(dayOf(new Date())).name },
    ]);

    for (const limit of [1, 2, 100]) {
      const changes = await readAll(start, limit);
      expect(changes.map((change) => change.position)).toEqual(before);
    }
  });

  it('keeps a day while a change in it is above the xmin, and drops it once none is', async () => {
    const horizon = await readHorizon(db.db);
    // A transaction holds an id (on no table of the feed): every change after it is held back.
    const older = openWriter(db.db, (tx) => tx.execute(sql`select pg_current_xact_id()`));
    await older.written;
    try {
      await writeBcs(db.db, [bc(121)], context);
      await writtenDaysAgo(121, 9);
      const kept = await pruneFeed(db.db, 7);
      expect(kept.dropped).toEqual([]);
      expect(kept.horizon).toEqual(horizon);
      expect((await positionsOf([121])).length).toBe(3);
    } finally {
      await older.commit();
    }
    await feedCaughtUp(db.db);
    const last = (await positionsOf([121])).at(-1);
    const pruned = await pruneFeed(db.db, 7);
    expect(pruned.dropped).toEqual([partitionDaysAgo(9)]);
    expect(pruned.horizon).toEqual(last);
    expect(await positionsOf([121])).toEqual([]);
  });

  it('gives up a drop whose lock a writer holds, within its bound, and drops nothing', async () => {
    await writeBcs(db.db, [bc(131)], context);
    await writtenDaysAgo(131, 9);
    await feedCaughtUp(db.db);
    // Its day's partition made, nothing old enough to drop yet.
    expect((await pruneFeed(db.db, 30)).dropped).toEqual([]);
    const horizon = await readHorizon(db.db);
    const writer = openWriter(db.db, (tx) => writeBcs(tx, [bc(132)], context));
    await writer.written;
    try {
      await expect(pruneFeed(db.db, 7)).rejects.toMatchObject({ code: 'LOCK_TIMEOUT' });
      expect(await readHorizon(db.db)).toEqual(horizon);
      expect((await positionsOf([131])).length).toBe(3);
    } finally {
      await writer.commit();
    }
    await feedCaughtUp(db.db);
    expect((await pruneFeed(db.db, 7)).dropped).toEqual([partitionDaysAgo(9)]);
  });
});
