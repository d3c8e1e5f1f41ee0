/**
 * A family as another source copies it (docs/sources.md): keyed `<source>.<family>`, its tables
 * in the source's schema, made by `migrate` from `public`'s and kept level with them. The copy,
 * its history and its feed are there and nowhere else.
 */
import { count, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncAudit, syncFeed, syncState } from '../../src/db/schema/index.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import { toChangeBody } from '../../src/feed/change-body.js';
import { readChanges } from '../../src/feed/read-changes.js';
import { BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import { createFamilies } from '../../src/families/registry.js';
import { familyInSource } from '../../src/families/source-family.js';
import { splitFamilyKey } from '../../src/sources/family-key.js';
import { placeCodeTables } from '../../src/families/source-tables.js';
import { diffCopyWithSandbox } from '../helpers/copy-diff.js';
import { feedCaughtUp } from '../helpers/feed-visible.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

const acme = familyInSource(bcsFamily, { name: 'acme', schema: 'acme' });

describe('a family of another source', () => {
  let h: SyncHarness;

  beforeAll(async () => {
    h = await createSyncHarness({
      sandbox: { orders: 40, linesPerOrder: 3, database: 'acme_db' },
      // The one family is acme's: its source's Odoo is the sandbox's database.
      sources: [{ name: 'acme', database: 'acme_db' }],
      loadFamilies: async (db) => {
        await placeCodeTables(db.db, 'acme', [bcsFamily]);
        return createFamilies([acme]);
      },
    });
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('is keyed by its source and its name, its tables in the source schema', () => {
    expect(acme.name).toBe('acme.bcs');
    expect(splitFamilyKey(acme.name)).toEqual({ source: 'acme', family: 'bcs' });
    expect(splitFamilyKey('bcs')).toEqual({ source: 'default', family: 'bcs' });
    expect(acme.root.table).toMatchObject({ name: bcsFamily.root.table.name, schema: 'acme' });
    expect(acme.children.map((child) => child.table.schema)).toEqual(['acme']);
  });

  it('copies into its schema, its history and feed under its key, nothing into public', async () => {
    const db = h.db.db;
    expect(await h.run('sync-run', { trigger: 'test' })).toMatchObject({ status: 'succeeded' });
    expect(await diffCopyWithSandbox(db, h.sandbox.control, acme)).toEqual([]);
    const counted = async (table: string) =>
      rowsOf<{ n: number }>(
        await db.execute(sql.raw(`select count(*)::int as n from ${table}`)),
      )[0]!.n;
    expect(await counted('acme.scrap_dimagaz_bc')).toBe(40);
    expect(await counted('acme.scrap_dimagaz_bc_line')).toBe(120);
    expect(await counted('public.scrap_dimagaz_bc')).toBe(0);
    expect(await counted('public.scrap_dimagaz_bc_line')).toBe(0);
    const [history] = await db
      .select({ n: count() })
      .from(syncAudit)
      .where(eq(syncAudit.family, 'acme.bcs'));
    expect(history!.n).toBe(160);
    const [fed] = await db
      .select({ n: count() })
      .from(syncFeed)
      .where(eq(syncFeed.family, 'acme.bcs'));
    expect(fed!.n).toBe(160);
    // Each change says its source and its family apart (once the feed gives them: another file's
    // transaction may hold it back a moment).
    await feedCaughtUp(db);
    const page = await readChanges(db, { xid: 0n, id: 0n }, { families: [], models: [] }, 1);
    expect(toChangeBody(page.changes[0]!)).toMatchObject({ source: 'acme', family: 'bcs' });
    expect((await db.select({ key: syncState.key }).from(syncState)).map((row) => row.key)).toEqual(
      ['acme.bcs'],
    );

    // An edit reaches the schema's copy on the next run.
    const id = h.sandbox.control.ids(BC_MODEL)[3]!;
    h.sandbox.control.write(BC_MODEL, id, { origin: 'edited in acme' });
    expect(await h.run('sync-run', { trigger: 'test' })).toMatchObject({
      status: 'succeeded',
      counts: expect.objectContaining({ updated: 1 }),
    });
    expect(await diffCopyWithSandbox(db, h.sandbox.control, acme)).toEqual([]);
  });

  it('is made once, and brought level with a column, an index and a key public gained since', async () => {
    const db = h.db.db;
    expect(await placeCodeTables(db, 'acme', [bcsFamily])).toEqual([]);
    const foreignKey = async () =>
      rowsOf<{ target: string }>(
        await db.execute(sql`select confrelid::regclass::text as target from pg_constraint
          where conrelid = 'acme.scrap_dimagaz_bc_line'::regclass and contype = 'f'`),
      ).map((row) => row.target);
    expect(await foreignKey()).toEqual(['acme.scrap_dimagaz_bc']);

    await db.execute(
      sql`alter table public.scrap_dimagaz_bc add column x_later text not null default 'none'`,
    );
    await db.execute(
      sql`create index scrap_dimagaz_bc_later_idx on public.scrap_dimagaz_bc (x_later)`,
    );
    try {
      expect(await placeCodeTables(db, 'acme', [bcsFamily])).toEqual([
        `alter table "acme"."scrap_dimagaz_bc" add column x_later text default 'none'::text not null`,
        'CREATE INDEX scrap_dimagaz_bc_later_idx ON acme.scrap_dimagaz_bc USING btree (x_later)',
      ]);
      const [row] = rowsOf<{ later: string }>(
        await db.execute(sql`select x_later as later from acme.scrap_dimagaz_bc limit 1`),
      );
      expect(row?.later).toBe('none');
      expect(await placeCodeTables(db, 'acme', [bcsFamily])).toEqual([]);
    } finally {
      await db.execute(sql`alter table public.scrap_dimagaz_bc drop column x_later`);
      await db.execute(sql`alter table acme.scrap_dimagaz_bc drop column x_later`);
    }
  });
});
