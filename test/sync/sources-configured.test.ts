/**
 * A family of the families file copied from two sources (docs/sources.md): `migrate` plans each
 * source's tables from that source's own `fields_get`, in its schema, so a Studio field one
 * database has and the other lacks is a column of the one copy only; each copy equals its Odoo.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyLayouts } from '../../src/families/configured/apply-layouts.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import { bcsFamily } from '../../src/families/bcs/family.js';
import { loadFamilies } from '../../src/families/load-families.js';
import { sourceSpec } from '../../src/families/source-family.js';
import { placeCodeTables } from '../../src/families/source-tables.js';
import { diffCopyWithSandbox } from '../helpers/copy-diff.js';
import { writeFamiliesFile, type FamiliesFile } from '../helpers/families-file.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

const PEOPLE = `families:\n  - name: people\n    model: res.partner\n    table: x_people\n`;
const ACME = { name: 'acme', schema: 'acme', families: ['people'] };

describe('a configured family copied from two sources', () => {
  let file: FamiliesFile;
  let h: SyncHarness;
  const other = () => h.sandbox.db('acme_db').control;

  beforeAll(async () => {
    file = writeFamiliesFile(PEOPLE, { SYNC_FAMILIES: 'bcs,people' });
    h = await createSyncHarness({
      sandbox: {
        databases: {
          main_db: { orders: 5, partners: 12, seed: 5 },
          acme_db: { orders: 5, partners: 9, seed: 6 },
        },
      },
      sources: [{ name: 'acme', database: 'acme_db' }],
      // Loaded before migrate, as a worker started first: the BC family is copied meanwhile.
      loadFamilies: async (db) => {
        await placeCodeTables(db.db, 'acme', [bcsFamily]);
        return loadFamilies(db.db, file.config.sync.families, undefined, {
          withDefault: true,
          others: [ACME],
        });
      },
    });
    // A Studio field acme's Odoo has, and the default one lacks.
    other().addField('res.partner', {
      name: 'x_studio_tier',
      type: 'char',
      string: 'Tier',
      store: true,
    });
  });
  afterAll(async () => {
    await h?.dispose();
    file?.remove();
  });

  it("waits for migrate, then copies each source's records into its own tables, planned from its own Odoo", async () => {
    const families = h.runtime.sync.families;
    expect(families.unavailable.map((family) => family.name).sort()).toEqual([
      'acme.people',
      'people',
    ]);

    const [spec] = file.config.sync.families.configured;
    await applyLayouts(h.db.db, h.odoo, [spec!]);
    const acmeOdoo = h.client({ database: 'acme_db' });
    const applied = await applyLayouts(h.db.db, acmeOdoo, [sourceSpec(spec!, 'acme')], {
      schema: 'acme',
    });
    expect(applied).toMatchObject([{ family: 'acme.people', changed: true }]);
    await families.refresh();
    expect(families.unavailable).toEqual([]);

    const columns = async (schema: string) =>
      rowsOf<{ name: string }>(
        await h.db.db.execute(sql`select column_name as name from information_schema.columns
          where table_schema = ${schema} and table_name = 'x_people'`),
      ).map((row) => row.name);
    expect(await columns('acme')).toContain('x_studio_tier');
    expect(await columns('public')).not.toContain('x_studio_tier');

    for (const name of ['people', 'acme.people'])
      expect(await h.run('sync-run', { family: name, trigger: 'test' })).toMatchObject({
        status: 'succeeded',
      });
    expect(
      await diffCopyWithSandbox(h.db.db, h.sandbox.control, families.require('people')),
    ).toEqual([]);
    expect(await diffCopyWithSandbox(h.db.db, other(), families.require('acme.people'))).toEqual(
      [],
    );
    const counted = async (table: string) =>
      rowsOf<{ n: number }>(
        await h.db.db.execute(sql.raw(`select count(*)::int as n from ${table}`)),
      )[0]!.n;
    expect([await counted('public.x_people'), await counted('acme.x_people')]).toEqual([
      h.sandbox.control.ids('res.partner').length,
      other().ids('res.partner').length,
    ]);
    // Migrated again with nothing changed, nothing changes.
    expect(
      await applyLayouts(h.db.db, acmeOdoo, [sourceSpec(spec!, 'acme')], { schema: 'acme' }),
    ).toMatchObject([{ family: 'acme.people', changed: false }]);
  });
});
