/**
 * The feed's positions: a change is in the feed if and only if the copy committed it, and a
 * reader that has read up to a position never later finds a change below it — though
 * transactions take their ids in one order and commit in another. Each test holds a writer's
 * transaction open at the point that matters and reads between the commits.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/sql-rows.js';
import { BC_LINE_MODEL, BC_MODEL } from '../../src/families/bcs/family.js';
import { FeedPositionGoneError } from '../../src/feed/feed-errors.js';
import { comparePositions, type FeedPosition } from '../../src/feed/position.js';
import { pruneFeed } from '../../src/feed/prune.js';
import { NO_FILTER, readChanges, readHead, type FeedChange } from '../../src/feed/read-changes.js';
import { fakeBc, fakeLine, mapBc, writeBcs } from '../helpers/seed-bcs.js';
import { feedCaughtUp, openWriter } from '../helpers/feed-visible.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const context = { runId: null, lease: null, trigger: 'test' };
const bc = (id: number, writeDate = '2026-03-01 00:00:00', origin: string | false = false) =>
  mapBc({
    bc: fakeBc(id, { write_date: writeDate, origin }),
    lines: [fakeLine(id, 1), fakeLine(id, 2)],
  });

const describeChanges = (changes: readonly FeedChange[]) =>
  changes.map((change) => `${change.model} ${change.odooId} ${change.action}`);

function expectAscending(changes: readonly FeedChange[], after: FeedPosition) {
  let previous = after;
  for (const change of changes) {
    expect(comparePositions(change.position, previous)).toBeGreaterThan(0);
    previous = change.position;
  }
}

describe('the change feed: positions in commit order', () => {
  let db: TestDb;

  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db.dispose();
  });

  it('a reader between the commits of a late-committing older transaction and a younger one misses neither', async () => {
    const start = await readHead(db.db);
    // The older transaction takes its id (it writes BC 1), and stays open.
    const older = openWriter(db.db, (tx) => writeBcs(tx, [bc(1)], context));
    await older.written;
    // A younger one writes BC 2 and commits first.
    await writeBcs(db.db, [bc(2)], context);

    // Between the two commits: BC 2's changes are committed, but a reader handed them now would
    // later find BC 1's below them. They are held back, and the reader's position stays.
    const between = await readChanges(db.db, start, NO_FILTER, 100);
    expect(between.changes).toEqual([]);
    expect(between.heldBack).toBe(true);
    expect(comparePositions(between.next, start)).toBeGreaterThanOrEqual(0);

    await older.commit();
    // Another test file's transaction on the same server may hold both back a moment longer.
    await feedCaughtUp(db.db);
    const after = await readChanges(db.db, between.next, NO_FILTER, 100);
    expect(describeChanges(after.changes)).toEqual([
      `${BC_MODEL} 1 created`,
      `${BC_LINE_MODEL} 11 created`,
      `${BC_LINE_MODEL} 12 created`,
      `${BC_MODEL} 2 created`,
      `${BC_LINE_MODEL} 21 created`,
      `${BC_LINE_MODEL} 22 created`,
    ]);
    expectAscending(after.changes, between.next);
    // Nothing more, and nothing is ever found below `next` again.
    const again = await readChanges(db.db, after.next, NO_FILTER, 100);
    expect(again.changes).toEqual([]);
    const everything = await readChanges(db.db, start, NO_FILTER, 100);
    expect(everything.changes.map((change) => change.auditId)).toEqual(
      after.changes.map((change) => change.auditId),
    );
  });

  /**
   * An older transaction takes its id on BC `other`, then, once a younger one has committed BC
   * `root` at :05, writes BC `root` again at :09; the changes of `root` the feed gives after `start`.
   */
  async function olderWritesAfterYounger(root: number, other: number, start: FeedPosition) {
    let tookItsId!: () => void;
    const olderTookItsId = new Promise<void>((resolve) => (tookItsId = resolve));
    let youngerDone!: () => void;
    const youngerCommitted = new Promise<void>((resolve) => (youngerDone = resolve));
    const older = db.db.transaction(async (tx) => {
      await writeBcs(tx, [bc(other)], context);
      tookItsId();
      await youngerCommitted;
      await writeBcs(tx, [bc(root, '2026-03-01 00:00:09', 'older')], context);
    });
    await olderTookItsId;
    await writeBcs(db.db, [bc(root, '2026-03-01 00:00:05', 'younger')], context);
    youngerDone();
    await older;

    // Another test file's transaction on the same server may hold both back a moment longer.
    await feedCaughtUp(db.db);
    const page = await readChanges(db.db, start, NO_FILTER, 100);
    expectAscending(page.changes, start);
    return page.changes
      .filter((change) => change.model === BC_MODEL && change.odooId === root)
      .map((change) => [change.action, change.odooWriteDate?.toISOString()]);
  }

  it("keeps a record's changes in the order they were committed, whichever transaction took its id first", async () => {
    // By transaction id alone the older one's update would come first; the root's order holds.
    expect(await olderWritesAfterYounger(5, 3, await readHead(db.db))).toEqual([
      ['created', '2026-03-01T00:00:05.000Z'],
      ['updated', '2026-03-01T00:00:09.000Z'],
    ]);
  });

  it('keeps that order for a root whose last position moved since its first change', async () => {
    // BC 17's first change comes before both transactions: the younger one moves its last position.
    await writeBcs(db.db, [bc(17, '2026-03-01 00:00:01', 'first')], context);
    // A head taken while another file's transaction holds the xmin back would sit below the first
    // change (seen once, with both cores busy).
    await feedCaughtUp(db.db);
    expect(await olderWritesAfterYounger(17, 18, await readHead(db.db))).toEqual([
      ['updated', '2026-03-01T00:00:05.000Z'],
      ['updated', '2026-03-01T00:00:09.000Z'],
    ]);
  });

  it('is written with the copy or not at all: a refused write and a rolled back one leave no change', async () => {
    const start = await readHead(db.db);
    // An older version of BC 5: the stamp guard refuses it.
    await writeBcs(db.db, [bc(5, '2026-03-01 00:00:01', 'stale')], context);
    await db.db
      .transaction(async (tx) => {
        await writeBcs(tx, [bc(6)], context);
        throw new Error('rolled back');
      })
      .catch(() => undefined);
    expect((await readChanges(db.db, start, NO_FILTER, 100)).changes).toEqual([]);
    const [counts] = rowsOf<{ audit: number; feed: number; orphans: number }>(
      await db.db.execute(sql`
        select (select count(*)::int from sync_audit) as audit, (select count(*)::int from sync_feed) as feed,
          (select count(*)::int from sync_feed f where not exists (select 1 from sync_audit a where a.id = f.id)) as orphans`),
    );
    expect(counts).toEqual({ audit: counts!.feed, feed: counts!.audit, orphans: 0 });
  });

  it('prunes what is older than the retention, and tells a reader behind it to resync', async () => {
    const start = await readHead(db.db);
    await writeBcs(db.db, [bc(7)], context);
    await db.db.execute(sql`update sync_feed set created_at = now() - interval '8 days'`);
    await writeBcs(db.db, [bc(8)], context);
    // Prune only goes below the cluster's xmin: another file's open transaction must not keep BC 7.
    await feedCaughtUp(db.db);
    const pruned = await pruneFeed(db.db, 7);
    expect(pruned.deleted).toBeGreaterThan(0);
    await expect(readChanges(db.db, start, NO_FILTER, 100)).rejects.toBeInstanceOf(
      FeedPositionGoneError,
    );
    const kept = await readChanges(db.db, pruned.horizon, NO_FILTER, 100);
    expect(describeChanges(kept.changes)).toEqual([
      `${BC_MODEL} 8 created`,
      `${BC_LINE_MODEL} 81 created`,
      `${BC_LINE_MODEL} 82 created`,
    ]);
    // The history stays: the audit rows of BC 7.
    const [history] = rowsOf<{ n: number }>(
      await db.db.execute(sql`select count(*)::int as n from sync_audit where root_odoo_id = 7`),
    );
    expect(history!.n).toBe(3);
  });
});
