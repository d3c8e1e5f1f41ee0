/**
 * A long text never keeps a record out of the copy. An Odoo user who can edit one text field can
 * type 12,000 characters into a BC's name or into a configured model's filtered and sorted
 * field; a btree index holding the whole value would refuse the row (SQLSTATE 54000, "index row
 * size exceeds maximum") on every run. The API's indexes hold a key of the text (its first
 * characters), the column and `data` the whole value, and the API still filters and sorts on
 * them through those indexes. `migrate` replaces the whole-text indexes an earlier version
 * created on a configured table.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BC_MODEL } from '../../src/families/bcs/family.js';
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
    api: { filter: [x_name, x_notes], sort: [x_name] }
`;

/** Incompressible: PostgreSQL compresses a long index entry that repeats itself, and fits it. */
const longText = () => randomBytes(9_000).toString('base64').slice(0, 12_000);

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

describe('long texts in indexed columns', () => {
  let files: FamiliesFile;
  let h: SyncHarness;
  let app: App;
  const index = async (table: string) =>
    (
      await h.db.sql!<{ indexname: string }[]>`
        select indexname from pg_indexes where tablename = ${table} order by indexname`
    ).map((row) => row.indexname);

  beforeAll(async () => {
    files = writeFamiliesFile(FILE, { SYNC_FAMILIES: 'bcs,cylinders' });
    h = await createSyncHarness({
      sandbox: { orders: 30, cylinders: 30 },
      loadFamilies: (db, odoo) => files.loadFamilies(db, odoo),
    });
    app = await buildApp({
      config: files.config,
      logger: memoryLogger('warn').logger,
      db: h.db,
      families: h.runtime.sync.families,
    });
  });
  afterAll(async () => {
    await app.close();
    await h.dispose();
    files.remove();
  });

  /** Every page of a list, following its cursors. */
  const all = async <T>(url: string): Promise<T[]> => {
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      const response: { statusCode: number; body: string; json: () => unknown } = await app.inject({
        url: `${url}&limit=7${cursor ? `&cursor=${cursor}` : ''}`,
        // Records gone from Odoo are an operator's option (API_READERS_SEE_ARCHIVED).
        headers: bearer('operator'),
      });
      expect(response.statusCode, response.body.slice(0, 300)).toBe(200);
      const page = response.json() as Page<T>;
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  };

  it('migrate replaces the whole-text indexes an earlier version made on a configured table', async () => {
    // The table as the earlier DDL left it: a sorted text's index of live rows holding the whole
    // text, a filtered text's index holding the whole text, no index of a child's stamp.
    await h.db.sql!.unsafe(`
      drop index scrap_x_cylinder_x_name_order_idx;
      drop index scrap_x_cylinder_x_notes_key_idx;
      drop index scrap_x_cylinder_valve_write_date_idx;
      create index scrap_x_cylinder_x_name_sort_idx on scrap_x_cylinder
        (coalesce(x_name, ''), odoo_id) where archived_at is null;
      create index scrap_x_cylinder_x_name_idx on scrap_x_cylinder (x_name);
      create index scrap_x_cylinder_x_notes_idx on scrap_x_cylinder (x_notes);`);

    const applied = await files.migrate(h.db.db, h.odoo);
    expect(applied.map((layout) => [layout.family, layout.changed])).toEqual([
      ['cylinders', false],
    ]);
    expect(await index('scrap_x_cylinder')).toEqual([
      'scrap_x_cylinder_live_idx',
      'scrap_x_cylinder_odoo_id_key',
      'scrap_x_cylinder_pkey',
      'scrap_x_cylinder_write_date_idx',
      'scrap_x_cylinder_x_name_order_idx',
      'scrap_x_cylinder_x_name_trgm_idx',
      'scrap_x_cylinder_x_notes_key_idx',
      'scrap_x_cylinder_x_notes_trgm_idx',
    ]);
    expect(await index('scrap_x_cylinder_valve')).toContain(
      'scrap_x_cylinder_valve_write_date_idx',
    );
    // Run again, it changes nothing.
    await files.migrate(h.db.db, h.odoo);
    expect(await index('scrap_x_cylinder')).toContain('scrap_x_cylinder_x_name_order_idx');
  });

  it('a sync run copies a BC name and a configured model’s indexed texts of 12,000 characters whole', async () => {
    const c = h.sandbox.control;
    const bcName = longText();
    const [bcId] = c.ids(BC_MODEL);
    const [cylinderId, notedId] = c.ids('x_cylinder');
    const cylinderName = longText();
    const notes = longText();
    c.write(BC_MODEL, bcId!, { name: bcName });
    c.write('x_cylinder', cylinderId!, { x_name: cylinderName });
    c.write('x_cylinder', notedId!, { x_notes: notes });

    expect(await h.run('sync-run', { family: 'bcs', trigger: 'test' })).toMatchObject({
      status: 'succeeded',
    });
    expect(await h.run('sync-run', { family: 'cylinders', trigger: 'test' })).toMatchObject({
      status: 'succeeded',
    });
    expect(await h.failures()).toEqual([]);

    const [bc] = await h.db.sql!<{ name: string; data_name: string }[]>`
      select name, data->>'name' as data_name from scrap_dimagaz_bc where odoo_id = ${bcId!}`;
    expect(bc).toEqual({ name: bcName, data_name: bcName });
    const cylinders = await h.db.sql!<{ odoo_id: number; x_name: string; x_notes: string }[]>`
      select odoo_id, x_name, x_notes from scrap_x_cylinder
      where odoo_id in (${cylinderId!}, ${notedId!}) order by odoo_id`;
    expect(cylinders.find((row) => row.odoo_id === cylinderId)!.x_name).toBe(cylinderName);
    expect(cylinders.find((row) => row.odoo_id === notedId)!.x_notes).toBe(notes);
    expect(await h.diffWithSandbox(h.runtime.sync.families.require('cylinders'))).toEqual([]);
  });

  it('the API still pages past them sorted by name, and finds a record by equality', async () => {
    const [bcId] = h.sandbox.control.ids(BC_MODEL);
    const bcs = await all<{ odooId: number; name: string }>('/api/bcs?sort=-name');
    expect(bcs.map((bc) => bc.odooId).sort((a, b) => a - b)).toEqual(
      h.sandbox.control.ids(BC_MODEL),
    );
    expect(bcs.find((bc) => bc.odooId === bcId)!.name).toHaveLength(12_000);

    const ids = h.sandbox.control.ids('x_cylinder');
    const byName = await all<{ odooId: number }>(
      '/api/models/x_cylinder/records?sort=xName&includeArchived=true',
    );
    expect(byName.map((row) => row.odooId).sort((a, b) => a - b)).toEqual(ids);

    const named = h.sandbox.control
      .records('x_cylinder', { fields: ['x_name'] })
      .find((record) => typeof record.x_name === 'string' && record.x_name.length < 100)!;
    const found = await all<{ odooId: number }>(
      `/api/models/x_cylinder/records?includeArchived=true&xName=${encodeURIComponent(named.x_name as string)}`,
    );
    expect(found.map((row) => row.odooId)).toContain(named.id);
  });
});
