/**
 * A copy migrated before a BC's own audit rows named their BC keeps its whole history readable:
 * the migration fills `bc_odoo_id` of those rows, and a BC's history is then one index range.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../src/db/migrate.js';
import { migrationsBefore, type MigrationsFolder } from '../helpers/migrations.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

describe('migration 0008: one audit index', () => {
  let db: TestDb;
  let before: MigrationsFolder;
  let through: MigrationsFolder;
  beforeAll(async () => {
    db = await createTestDb({ migrated: false });
    before = migrationsBefore('0008_audit_one_index');
    through = migrationsBefore('0009_sync_scan');
  });
  afterAll(async () => {
    await db.dispose();
    before.remove();
    through.remove();
  });

  it("names a BC's own audit rows' BC and keeps one secondary index", async () => {
    await runMigrations(db, before.dir);
    await db.sql!`
      insert into sync_audit (run_id, model, odoo_id, bc_odoo_id, action) values
        (1, 'dimagaz.bc', 7, null, 'created'),
        (1, 'dimagaz.bc.line', 70, 7, 'created'),
        (2, 'dimagaz.bc', 8, null, 'archived')`;

    await runMigrations(db, through.dir);
    const rows = await db.sql!<{ model: string; odoo_id: number; bc_odoo_id: number }[]>`
      select model, odoo_id, bc_odoo_id from sync_audit order by id`;
    expect(rows).toEqual([
      { model: 'dimagaz.bc', odoo_id: 7, bc_odoo_id: 7 },
      { model: 'dimagaz.bc.line', odoo_id: 70, bc_odoo_id: 7 },
      { model: 'dimagaz.bc', odoo_id: 8, bc_odoo_id: 8 },
    ]);
    const indexes = await db.sql!<{ indexname: string }[]>`
      select indexname from pg_indexes where tablename = 'sync_audit' order by 1`;
    expect(indexes.map((row) => row.indexname)).toEqual(['sync_audit_bc_idx', 'sync_audit_pkey']);
  });
});
