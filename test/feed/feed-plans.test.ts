/**
 * The feed's one read statement (src/feed/read-changes.ts) stays a range scan of the position
 * index on the partitioned feed (docs/feed.md, "Retention"): each day's partition read through its
 * index in (xid, id) order and merged (Merge Append), never a scan of the whole feed and a sort.
 * The statement is the one the read runs, explained as it is sent.
 */
import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/create-db.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import { positionOf } from '../../src/feed/position.js';
import { pruneFeed } from '../../src/feed/prune.js';
import { NO_FILTER, readChanges } from '../../src/feed/read-changes.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

/** Every node of a plan, each with the type of the node above it. */
const nodesOf = (node: PlanNode, parent = ''): (PlanNode & { parent: string })[] => [
  { ...node, parent },
  ...(node.Plans ?? []).flatMap((child) => nodesOf(child, node['Node Type'])),
];
const isFeedPartition = (name = '') =>
  name === 'sync_feed_default' || /^sync_feed_p\d{8}$/.test(name);

describe("the feed's read on day partitions", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db.dispose();
  });

  it('reads each partition through its index, merged in position order', async () => {
    // 40,000 changes over four days (today and the three before), positions below every running
    // transaction's; the prune makes their days' partitions.
    await db.db.execute(sql`
      insert into sync_feed (xid, id, family, root_odoo_id, created_at)
      select (3 + g / 1000)::text::xid8, g, 'bcs', g % 500,
        date_trunc('day', now()) - ((39999 - g) / 10000) * interval '1 day'
      from generate_series(0, 39999) g`);
    await pruneFeed(db.db, 30);
    await db.db.execute(sql`analyze sync_feed`);
    const [placed] = rowsOf<{ partitions: number }>(
      await db.db.execute(
        sql`select count(distinct tableoid)::int as partitions from sync_feed where xid < '100'`,
      ),
    );
    expect(placed!.partitions).toBe(4);

    let plan: PlanNode | undefined;
    const explaining = {
      async execute(query: SQL) {
        const [row] = rowsOf<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
          await db.db.execute(sql`explain (format json) ${query}`),
        );
        plan = row!['QUERY PLAN'][0]!.Plan;
        return [];
      },
    } as unknown as Db;
    // The read finds no row in what `explain` answers: only its plan is wanted here.
    await readChanges(explaining, positionOf('3', 0), NO_FILTER, 100).catch(() => undefined);

    // The page's changes and the look for one held back: each a Merge Append of index scans of
    // every partition, the default one included (the page's own final order is of its 100 rows).
    const onFeed = nodesOf(plan!).filter((node) => isFeedPartition(node['Relation Name']));
    expect(onFeed.length).toBeGreaterThanOrEqual(2 * 5);
    for (const node of onFeed)
      expect(`${node.parent} > ${node['Node Type']}`).toMatch(
        /^Merge Append > Index (Only )?Scan$/,
      );
  });
});
