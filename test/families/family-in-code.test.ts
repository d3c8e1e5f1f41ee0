/**
 * A family declared in code takes its declaration (family.ts), a line in the registry and the
 * migration drizzle-kit generates from it. Here the test's own family (tanks/family.ts, never
 * shipped), its migration generated as `npm run db:generate` generates one, registered beside
 * nothing else: the sync copies it equal to Odoo, and the read API serves it with the filters and
 * sorts it declares.
 */
import type * as DrizzleKit from 'drizzle-kit/api';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/http/app.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';
import { bearer, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb } from '../helpers/test-db.js';
import { tanks, tanksFamily } from './tanks/family.js';

const require = createRequire(import.meta.url);
const kit = require('drizzle-kit/api') as typeof DrizzleKit;

/** The family's migration, as drizzle-kit generates it for a database without its tables. */
async function generatedMigration(): Promise<string[]> {
  return kit.generateMigration(kit.generateDrizzleJson({}), kit.generateDrizzleJson(tanks.tables));
}

interface Tank {
  odooId: number;
  xName: string | null;
  xStatus: string | null;
  xPartner: { id: number; name: string | null } | null;
}

describe('a family declared in code', () => {
  let migration: string[];
  let h: SyncHarness;
  let app: App;
  const cylinders = () =>
    h.sandbox.control.records('x_cylinder', { fields: ['x_name', 'x_status', 'x_partner_id'] });

  beforeAll(async () => {
    migration = await generatedMigration();
    const db = await createTestDb({ poolMax: 10 });
    for (const statement of migration) await db.sql!.unsafe(statement);
    h = await createSyncHarness({ db, sandbox: { cylinders: 40 }, families: [tanksFamily] });
    app = await buildApp({
      config: testConfig(),
      logger: memoryLogger('warn').logger,
      db,
      families: h.runtime.sync.families,
    });
  });
  afterAll(async () => {
    await app.close();
    await h.dispose();
  });

  it('gets its tables and the indexes its query implies from the generated migration', () => {
    const created = migration.join('\n');
    for (const name of [
      'CREATE TABLE "test_tank"',
      'CREATE TABLE "test_tank_valve"',
      '"test_tank_write_date_idx"',
      '"test_tank_live_idx"',
      '"test_tank_valve_parent_idx"',
      '"test_tank_x_status_idx"',
      '"test_tank_x_partner_id_idx"',
      '"test_tank_x_capacity_idx"',
      '"test_tank_x_name_order_idx"',
      '"test_tank_x_checked_at_order_idx"',
      '"test_tank_x_name_trgm_idx"',
    ])
      expect(created, name).toContain(name);
  });

  it('is copied by a run, equal to what Odoo holds', async () => {
    await h.run('sync-run', { trigger: 'test' });
    expect((await h.runs())[0]).toMatchObject({ family: 'tanks', status: 'succeeded' });
    expect(await h.diffWithSandbox(tanksFamily)).toEqual([]);
  });

  it('is served by the read API, with its filters and sorts', async () => {
    const get = async (url: string) => {
      const response = await app.inject({ url, headers: bearer('reader') });
      expect(response.statusCode, response.body.slice(0, 200)).toBe(200);
      return response.json<{ items: Tank[]; nextCursor: string | null }>();
    };
    const filled = await get('/api/models/x_cylinder/records?xStatus.in=filled,empty&limit=200');
    expect(filled.items.map((tank) => tank.odooId)).toEqual(
      cylinders()
        .filter((record) => record.x_status === 'filled' || record.x_status === 'empty')
        .map((record) => record.id),
    );
    const byName = await get('/api/models/x_cylinder/records?sort=-xName&limit=200');
    const names = byName.items.map((tank) => tank.xName ?? '');
    expect(names).toEqual([...names].sort().reverse());
    const detail = await app.inject({
      url: `/api/models/x_cylinder/records/${filled.items[0]!.odooId}`,
      headers: bearer('reader'),
    });
    expect(Object.keys(detail.json<{ children: object }>().children)).toEqual(['x_cylinder_valve']);
  });
});
