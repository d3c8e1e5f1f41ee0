import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/create-db.js';
import { runMigrations } from '../../src/db/migrate.js';
import { scrapDimagazBc, scrapDimagazBcLine } from '../../src/families/bcs/tables.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const bc = (odooId: number) => ({
  odooId,
  name: `P${String(odooId).padStart(5, '0')}`,
  odooWriteDate: new Date('2026-01-02T03:04:05Z'),
  data: { id: odooId, name: `P${odooId}`, partner_id: [7, 'Azur Gaz'], notes: false },
});

describe('migrations', () => {
  it('apply to a blank database and create every table', async () => {
    const blank = await createTestDb({ migrated: false });
    try {
      await runMigrations(blank);
      // The feed's day partitions apart: they come and go with the days (docs/feed.md, "Retention").
      const rows = await blank.sql!<{ table_name: string }[]>`
        select table_name from information_schema.tables t
        join pg_class c on c.relname = t.table_name and c.relnamespace = 'public'::regnamespace
        where t.table_schema = 'public' and not c.relispartition order by 1`;
      expect(rows.map((r) => r.table_name)).toEqual([
        'odoo_link',
        'scrap_account_move',
        'scrap_account_move_line',
        'scrap_dimagaz_bc',
        'scrap_dimagaz_bc_line',
        'scrap_res_partner',
        'sync_audit',
        'sync_call_budget',
        'sync_failure',
        'sync_family_layout',
        'sync_family_seen',
        'sync_feed',
        'sync_feed_horizon',
        'sync_feed_root',
        'sync_feed_subscription',
        'sync_large_value',
        'sync_log',
        'sync_model_claim',
        'sync_odoo_schema',
        'sync_scan',
        'sync_shared_value',
        'sync_state',
        'sync_unfit_value',
        'sync_value_piece',
        'sync_watermark',
        'sync_webhook_inbox',
      ]);
      // The feed's default partition, today's and the next two days'.
      const partitions = await blank.sql!<{ name: string }[]>`
        select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'sync_feed'::regclass order by 1`;
      const day = (ahead: number) =>
        `sync_feed_p${new Date(Date.now() + ahead * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '')}`;
      expect(partitions.map((row) => row.name)).toEqual([
        'sync_feed_default',
        day(0),
        day(1),
        day(2),
      ]);
    } finally {
      await blank.dispose();
    }
  });

  it('five migrators started at once all succeed and leave one ledger row per migration', async () => {
    const blank = await createTestDb({ migrated: false });
    const handles = await Promise.all(
      Array.from({ length: 5 }, () => createDb({ url: blank.url, poolMax: 2 })),
    );
    try {
      const results = await Promise.allSettled(handles.map((handle) => runMigrations(handle)));
      expect(results.map((r) => r.status)).toEqual(Array(5).fill('fulfilled'));
      const ledger = await blank.sql!<
        { hash: string }[]
      >`select hash from drizzle.__drizzle_migrations`;
      const journal = (await import('../../drizzle/meta/_journal.json', { with: { type: 'json' } }))
        .default;
      expect(ledger).toHaveLength(journal.entries.length);
      expect(new Set(ledger.map((r) => r.hash)).size).toBe(ledger.length);
    } finally {
      await Promise.all(handles.map((handle) => handle.close()));
      await blank.dispose();
    }
  });
});

describe('schema constraints', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db.dispose();
  });

  it('rejects a second row with the same odoo_id', async () => {
    await db.db.insert(scrapDimagazBc).values(bc(101));
    await expect(db.db.insert(scrapDimagazBc).values(bc(101))).rejects.toMatchObject({
      cause: expect.objectContaining({ constraint_name: 'scrap_dimagaz_bc_odoo_id_key' }),
    });
  });

  it('stores data as a JSON object, not a JSON string', async () => {
    await db.db.insert(scrapDimagazBc).values(bc(102));
    const [row] = await db.sql!<{ kind: string; partner: unknown }[]>`
      select jsonb_typeof(data) as kind, data->'partner_id' as partner from scrap_dimagaz_bc where odoo_id = 102`;
    expect(row).toEqual({ kind: 'object', partner: [7, 'Azur Gaz'] });
  });

  it('deletes the lines of a deleted BC', async () => {
    await db.db.insert(scrapDimagazBc).values(bc(103));
    await db.db.insert(scrapDimagazBcLine).values(
      [1, 2, 3].map((n) => ({
        odooId: 1030 + n,
        bcOdooId: 103,
        odooWriteDate: new Date(),
        data: { id: 1030 + n },
      })),
    );
    const count = async () =>
      (
        await db.db
          .select({ n: sql<number>`count(*)::int` })
          .from(scrapDimagazBcLine)
          .where(eq(scrapDimagazBcLine.bcOdooId, 103))
      )[0]!.n;
    expect(await count()).toBe(3);
    await db.db.delete(scrapDimagazBc).where(eq(scrapDimagazBc.odooId, 103));
    expect(await count()).toBe(0);
  });

  it('refuses a line whose BC does not exist', async () => {
    await expect(
      db.db
        .insert(scrapDimagazBcLine)
        .values({ odooId: 9999, bcOdooId: 424242, odooWriteDate: new Date(), data: {} }),
    ).rejects.toMatchObject({ cause: expect.objectContaining({ code: '23503' }) });
  });
});
