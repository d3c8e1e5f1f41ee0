/**
 * Two Odoo databases copied by one runtime (docs/sources.md): the default source's into `public`,
 * acme's into schema `acme`, each read from its own database with its own client. Each copy is
 * its Odoo's, an edit reaches its own source's copy only, and one source's refused credentials
 * fail its runs alone.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/sql-rows.js';
import { BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import { createFamilies } from '../../src/families/registry.js';
import { familyInSource } from '../../src/families/source-family.js';
import { placeCodeTables } from '../../src/families/source-tables.js';
import { diffCopyWithSandbox } from '../helpers/copy-diff.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

const acme = familyInSource(bcsFamily, { name: 'acme', schema: 'acme' });

describe('two sources in one runtime', () => {
  let h: SyncHarness;
  const main = () => h.sandbox.control;
  const other = () => h.sandbox.db('acme_db').control;

  beforeAll(async () => {
    h = await createSyncHarness({
      sandbox: {
        databases: {
          main_db: { orders: 30, linesPerOrder: 2, seed: 3 },
          acme_db: { orders: 20, linesPerOrder: 3, seed: 4 },
        },
      },
      sources: [{ name: 'acme', database: 'acme_db' }],
      loadFamilies: async (db) => {
        await placeCodeTables(db.db, 'acme', [bcsFamily]);
        return createFamilies([bcsFamily, acme]);
      },
    });
  });
  afterAll(async () => {
    await h?.dispose();
  });

  const rootsIn = async (table: string) =>
    rowsOf<{ n: number }>(
      await h.db.db.execute(sql.raw(`select count(*)::int as n from ${table}`)),
    )[0]!.n;

  it('copies each source from its own database into its own schema', async () => {
    main().resetCalls();
    other().resetCalls();
    expect(await h.run('sync-run', { trigger: 'test' })).toMatchObject({ status: 'succeeded' });
    // The default source's run called its database only.
    expect(other().countCalls({ model: BC_MODEL })).toBe(0);
    expect(await h.run('sync-run', { family: acme.name, trigger: 'test' })).toMatchObject({
      status: 'succeeded',
    });
    expect(other().countCalls({ model: BC_MODEL })).toBeGreaterThan(0);
    expect(await diffCopyWithSandbox(h.db.db, main(), bcsFamily)).toEqual([]);
    expect(await diffCopyWithSandbox(h.db.db, other(), acme)).toEqual([]);
    expect([
      await rootsIn('public.scrap_dimagaz_bc'),
      await rootsIn('acme.scrap_dimagaz_bc'),
    ]).toEqual([30, 20]);
  });

  it("an edit reaches its own source's copy, not the other's of the same id", async () => {
    const id = other().ids(BC_MODEL)[0]!;
    other().write(BC_MODEL, id, { origin: 'edited in acme' });
    expect(await h.run('sync-run', { trigger: 'test' })).toMatchObject({
      counts: expect.objectContaining({ updated: 0 }),
    });
    expect(await h.run('sync-run', { family: acme.name, trigger: 'test' })).toMatchObject({
      counts: expect.objectContaining({ updated: 1 }),
    });
    const origin = async (table: string) =>
      rowsOf<{ origin: string | null }>(
        await h.db.db.execute(sql.raw(`select origin from ${table} where odoo_id = ${id}`)),
      )[0]?.origin;
    expect(await origin('acme.scrap_dimagaz_bc')).toBe('edited in acme');
    expect(await origin('public.scrap_dimagaz_bc')).not.toBe('edited in acme');
  });

  it("one source's refused credentials fail its runs alone", async () => {
    other().setPassword('rotated-in-acme');
    await expect(h.run('sync-run', { family: acme.name, trigger: 'test' })).rejects.toThrow(
      /ODOO_AUTH/,
    );
    const id = main().ids(BC_MODEL)[1]!;
    main().write(BC_MODEL, id, { origin: 'edited in the default source' });
    expect(await h.run('sync-run', { trigger: 'test' })).toMatchObject({
      status: 'succeeded',
      counts: expect.objectContaining({ updated: 1 }),
    });
    expect(await diffCopyWithSandbox(h.db.db, main(), bcsFamily)).toEqual([]);
  });
});
