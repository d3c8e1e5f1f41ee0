/**
 * Migration 0032 partitions a populated feed by day (docs/feed.md, "Retention"): every change
 * keeps its position, its family, root and day, each lands in its day's partition, the horizon
 * stays, and the trigger goes on writing after it, in commit order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../src/db/migrate.js';
import { feedPartitionOf } from '../../src/feed/feed-partitions.js';
import { migrationsBefore, type MigrationsFolder } from '../helpers/migrations.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const DAY_MS = 86_400_000;

describe('migration 0032: the feed partitioned by day', () => {
  let db: TestDb;
  let before: MigrationsFolder;
  beforeAll(async () => {
    db = await createTestDb({ migrated: false });
    before = migrationsBefore('0032_feed_partitions');
  });
  afterAll(async () => {
    await db.dispose();
    before.remove();
  });

  const feedRows = () =>
    db.sql!<{ xid: string; id: string; family: string; root: number | null; at: Date }[]>`
      select xid::text as xid, id::text as id, family, root_odoo_id as root, created_at as at
      from sync_feed order by xid, id`;

  it('keeps every change at its position, each in its day', async () => {
    await runMigrations(db, before.dir);
    // Changes of three statements (three transactions), then some of them made older.
    for (let statement = 0; statement < 3; statement++)
      await db.sql!`
        insert into sync_audit (family, model, odoo_id, root_odoo_id, action)
        select 'bcs', 'dimagaz.bc.line', g, g % 7, 'updated'
        from generate_series(${statement * 50 + 1}::int, ${(statement + 1) * 50}::int) g`;
    await db.sql!`update sync_feed set created_at = created_at - interval '10 days' where root_odoo_id = 1`;
    await db.sql!`update sync_feed set created_at = created_at - interval '3 days' where root_odoo_id = 2`;
    await db.sql!`update sync_feed_horizon set xid = '3', id = 2`;
    const rows = await feedRows();
    expect(rows).toHaveLength(150);

    await runMigrations(db);
    expect(await feedRows()).toEqual(rows);
    const [kind] = await db.sql!<{ kind: string }[]>`
      select relkind::text as kind from pg_class where oid = 'sync_feed'::regclass`;
    expect(kind!.kind).toBe('p');
    const [horizon] = await db.sql!<{ xid: string; id: string }[]>`
      select xid::text as xid, id::text as id from sync_feed_horizon`;
    expect(horizon).toEqual({ xid: '3', id: '2' });
    // Each change in its day's partition; the default partition empty.
    const placed = await db.sql!<{ misplaced: number; caught: number }[]>`
      select count(*) filter (where tableoid::regclass::text
          <> 'sync_feed_p' || to_char((created_at at time zone 'UTC')::date, 'YYYYMMDD'))::int as misplaced,
        (select count(*)::int from sync_feed_default) as caught
      from sync_feed`;
    expect(placed[0]).toEqual({ misplaced: 0, caught: 0 });
    // Today's partition and the next two are there for the writers.
    const partitions = await db.sql!<{ name: string }[]>`
      select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'sync_feed'::regclass`;
    for (const ahead of [0, 1, 2])
      expect(partitions.map((row) => row.name)).toContain(
        feedPartitionOf(new Date(Date.now() + ahead * DAY_MS)).name,
      );

    // The trigger writes after the migration: a root's next change after its last one.
    await db.sql!`
      insert into sync_audit (family, model, odoo_id, root_odoo_id, action)
      values ('bcs', 'dimagaz.bc.line', 1, 1, 'updated')`;
    const after = await feedRows();
    expect(after).toHaveLength(151);
    const last = after.at(-1)!;
    expect(last.root).toBe(1);
    const lastOfRoot = rows.filter((row) => row.root === 1).at(-1)!;
    expect(BigInt(last.xid)).toBeGreaterThanOrEqual(BigInt(lastOfRoot.xid));
  });
});
