/**
 * The feed's trigger looks up each written root's last position (in `sync_feed_root`, beside the
 * feed). With statistics that say the table is empty (analyzed at install, before a first copy; restored from a dump)
 * PostgreSQL planned that lookup as a scan of the whole table, once per root of every statement:
 * a first copy that grows the feed to millions of rows ran quadratic (200,000 audit rows took
 * minutes instead of two seconds). The trigger reads the feed through its index whatever the
 * statistics say.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

describe("the feed's trigger, on statistics that say the feed is empty", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db.dispose();
  });

  /**
   * Sequential scans of sync_feed's partitions and of sync_feed_root so far, as the statistics
   * collector counts them.
   */
  async function feedScans(): Promise<number> {
    const [row] = await db.sql!<{ scans: number }[]>`
      select coalesce(sum(seq_scan), 0)::int as scans from pg_stat_user_tables
      where relid in (select relid from pg_partition_tree('sync_feed'))
        or relid = 'sync_feed_root'::regclass`;
    return row!.scans;
  }

  it('looks up each root through the index: no statement scans the whole feed', async () => {
    const connection = await db.sql!.reserve();
    try {
      await connection`analyze sync_feed`;
      await connection`analyze sync_feed_root`;
      // Roots with earlier changes, so that each statement has positions to look up.
      for (let statement = 0; statement < 5; statement++)
        await connection`
          insert into sync_audit (family, model, odoo_id, root_odoo_id, action)
          select 'bcs', 'dimagaz.bc.line', g, g % 40, 'updated'
          from generate_series(${statement * 200 + 1}::int, ${(statement + 1) * 200}::int) g`;
      // The counts reach the collector at the end of the next transaction, rate limit or not.
      await connection`select pg_stat_force_next_flush()`;
      await connection`select 1`;
    } finally {
      connection.release();
    }
    await db.sql!`select pg_stat_clear_snapshot()`;
    const [written] = await db.sql!<{ changes: number }[]>`
      select count(*)::int as changes from sync_feed`;
    expect(written!.changes).toBe(1_000);
    expect(await feedScans()).toBe(0);
  });
});
