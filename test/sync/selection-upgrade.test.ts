/**
 * A configured family's selection, planned as a text by an earlier version (its key index, its
 * trigram index, its sort index of the first characters) and a many2one filter's index of the
 * column alone: `migrate` makes each index as the table plan has it now (table-plan.ts), keeps
 * the layout's version, and so writes no row again; the API then compares the selection whole.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/sql-rows.js';
import { readLayouts } from '../../src/families/configured/apply-layouts.js';
import { buildApp, type App } from '../../src/http/app.js';
import { writeFamiliesFile, type FamiliesFile } from '../helpers/families-file.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';
import { bearer, memoryLogger } from '../helpers/test-app.js';

const FILE = `
families:
  - name: cylinders
    model: x_cylinder
    children:
      - { model: x_cylinder_valve, link: x_cylinder_id }
    api: { filter: [x_status, x_partner_id], sort: [x_status] }
`;

describe('a selection an earlier version planned as a text', () => {
  let files: FamiliesFile;
  let h: SyncHarness;
  let app: App;
  const indexes = async () =>
    (
      await h.db.sql!<{ indexdef: string }[]>`
        select indexdef from pg_indexes
        where tablename = 'scrap_x_cylinder' and indexname like 'scrap_x_cylinder_x_%'
        order by indexname`
    ).map((row) => row.indexdef);
  const syncedAt = async () =>
    rowsOf<{ odoo_id: number; synced_at: string }>(
      await h.db.db.execute(
        sql`select odoo_id, synced_at::text from scrap_x_cylinder order by odoo_id`,
      ),
    );

  beforeAll(async () => {
    files = writeFamiliesFile(FILE);
    h = await createSyncHarness({
      sandbox: { cylinders: 30 },
      loadFamilies: (db, odoo) => files.loadFamilies(db, odoo),
    });
    expect(await h.run('sync-run', { trigger: 'test' })).toMatchObject({ status: 'succeeded' });
  });
  afterAll(async () => {
    await app?.close();
    await h.dispose();
    files.remove();
  });

  it('gets the indexes of its kind, its layout version and rows kept', async () => {
    // The layout and the indexes as the earlier version left them.
    await h.db.sql!.unsafe(`
      update sync_family_layout set layout = jsonb_set(layout, '{models,0,columns}', (
        select jsonb_agg(case when c->>'field' = 'x_status' then c || '{"kind": "text"}' else c end)
        from jsonb_array_elements(layout->'models'->0->'columns') c))
      where family = 'cylinders';
      drop index scrap_x_cylinder_x_status_idx;
      drop index scrap_x_cylinder_x_status_order_idx;
      drop index scrap_x_cylinder_x_partner_id_idx;
      create index scrap_x_cylinder_x_status_order_idx on scrap_x_cylinder
        (left(coalesce(x_status, ''), 512), odoo_id);
      create index scrap_x_cylinder_x_status_trgm_idx on scrap_x_cylinder
        using gin (x_status gin_trgm_ops);
      create index scrap_x_cylinder_x_partner_id_idx on scrap_x_cylinder (x_partner_id);`);
    const before = await syncedAt();
    const version = (await readLayouts(h.db.db)).get('cylinders')!.version;

    const applied = await files.migrate(h.db.db, h.odoo);
    expect(applied.map((layout) => [layout.family, layout.version, layout.changed])).toEqual([
      ['cylinders', version, false],
    ]);
    const layout = (await readLayouts(h.db.db)).get('cylinders')!;
    expect(layout.models[0]!.columns.find((c) => c.field === 'x_status')!.kind).toBe('selection');
    expect(await indexes()).toEqual([
      'CREATE INDEX scrap_x_cylinder_x_partner_id_idx ON public.scrap_x_cylinder USING btree (x_partner_id, odoo_id)',
      'CREATE INDEX scrap_x_cylinder_x_status_idx ON public.scrap_x_cylinder USING btree (x_status, odoo_id)',
      "CREATE INDEX scrap_x_cylinder_x_status_order_idx ON public.scrap_x_cylinder USING btree (COALESCE(x_status, ''::text), odoo_id)",
    ]);

    // The workers build the family from the layout kept; a run writes no row again.
    await h.runtime.sync.families.refresh();
    expect(await h.run('sync-run', { trigger: 'test' })).toMatchObject({ status: 'succeeded' });
    expect(await syncedAt()).toEqual(before);
  });

  it('is compared whole by the API: no contains', async () => {
    app = await buildApp({
      config: files.config,
      logger: memoryLogger('warn').logger,
      db: h.db,
      families: h.runtime.sync.families,
    });
    const get = (query: string) =>
      app.inject({ url: `/api/models/x_cylinder/records?${query}`, headers: bearer('reader') });
    const filled = await get('xStatus=filled&sort=xStatus&limit=200');
    expect(filled.statusCode).toBe(200);
    expect(filled.json<{ items: { odooId: number }[] }>().items.map((r) => r.odooId)).toEqual(
      h.sandbox.control
        .records('x_cylinder', { fields: ['x_status', 'x_active'] })
        .filter((record) => record.x_status === 'filled' && record.x_active === true)
        .map((record) => record.id),
    );
    const contains = await get('xStatus.contains=fil');
    expect(contains.statusCode).toBe(400);
    expect(contains.json<{ message: string }>().message).toContain('xStatus.contains');
  });
});
