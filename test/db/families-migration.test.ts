/**
 * An installation that copied BCs before record families existed keeps everything when it
 * migrates: its lease row and controls, its watermarks (one per model now), its pending failures
 * (keyed by family), its run log and its audit history (named by their root) — and its next run
 * goes on from its watermarks instead of copying everything again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../src/db/migrate.js';
import { BC_LINE_MODEL, BC_MODEL } from '../../src/families/bcs/family.js';
import { migrationsBefore, type MigrationsFolder } from '../helpers/migrations.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

describe('migrations 0013-0015: the BC sync becomes the bcs family', () => {
  let db: TestDb;
  let before: MigrationsFolder;
  let h: SyncHarness | undefined;
  const watermark = new Date(Date.now() - 60_000);
  const lineWatermark = new Date(Date.now() - 120_000);

  beforeAll(async () => {
    db = await createTestDb({ migrated: false, poolMax: 10 });
    before = migrationsBefore('0013_families_add');
    await runMigrations(db, before.dir);
    await db.sql!`
      insert into sync_state (key, watermark, line_watermark, settled_through, settled_at,
        last_run_status, paused_at, paused_by, lease_token)
      values ('dimagaz.bc', ${watermark.toISOString()}::timestamptz,
        ${lineWatermark.toISOString()}::timestamptz, ${lineWatermark.toISOString()}::timestamptz,
        ${watermark.toISOString()}::timestamptz, 'succeeded', now(), 'api:ops', 41)`;
    await db.sql!`
      insert into sync_failure (odoo_id, error_code, error, attempts, next_attempt_at)
      values (5, 'ODOO_USER_ERROR', 'broken computed field', 2, now() - interval '1 minute')`;
    await db.sql!`
      insert into sync_log (kind, trigger, status, bcs_seen, created, lines_deleted, finished_at)
      values ('sync', 'schedule', 'succeeded', 40, 40, 3, now())`;
    await db.sql!`
      insert into sync_audit (run_id, model, odoo_id, bc_odoo_id, action) values
        (1, 'dimagaz.bc', 7, 7, 'created'),
        (1, 'dimagaz.bc.line', 70, 7, 'deleted')`;
    await runMigrations(db);
  });
  afterAll(async () => {
    await h?.dispose();
    if (!h) await db.dispose();
    before.remove();
  });

  it('carries the state, the failures, the run log and the audit over', async () => {
    const [state] = await db.sql!<
      { key: string; paused_by: string; lease_token: string; settled_through: Date }[]
    >`select key, paused_by, lease_token, settled_through from sync_state`;
    expect(state).toMatchObject({ key: 'bcs', paused_by: 'api:ops', lease_token: '41' });
    expect(new Date(state!.settled_through)).toEqual(lineWatermark);
    const watermarks = await db.sql!<{ family: string; model: string; watermark: string }[]>`
      select family, model, watermark from sync_watermark order by model`;
    expect(watermarks.map((row) => ({ ...row, watermark: new Date(row.watermark) }))).toEqual([
      { family: 'bcs', model: BC_MODEL, watermark },
      { family: 'bcs', model: BC_LINE_MODEL, watermark: lineWatermark },
    ]);
    expect(await db.sql!`select family, odoo_id, error_code, attempts from sync_failure`).toEqual([
      { family: 'bcs', odoo_id: 5, error_code: 'ODOO_USER_ERROR', attempts: 2 },
    ]);
    expect(
      await db.sql!`select family, records_seen, created, children_deleted from sync_log`,
    ).toEqual([{ family: 'bcs', records_seen: 40, created: 40, children_deleted: 3 }]);
    expect(
      await db.sql!`select family, model, odoo_id, root_odoo_id from sync_audit order by id`,
    ).toEqual([
      { family: 'bcs', model: BC_MODEL, odoo_id: 7, root_odoo_id: 7 },
      { family: 'bcs', model: BC_LINE_MODEL, odoo_id: 70, root_odoo_id: 7 },
    ]);
  });

  it('goes on from the watermarks: the next run reads only the pending failure, nothing else again', async () => {
    h = await createSyncHarness({ db, sandbox: { orders: 20, linesPerOrder: 2 } });
    const c = h.sandbox.control;
    c.resetCalls();
    const run = await h.run('sync-run', { trigger: 'after the upgrade' });
    expect(run).toMatchObject({ status: 'succeeded', counts: { recordsSeen: 1, created: 1 } });
    expect(c.countCalls({ model: BC_MODEL, method: 'execute_kw' })).toBeGreaterThan(0);
    expect(
      // The failed BC, with its lines (`web_read`): one read.
      c.calls().filter((call) => call.model === BC_MODEL && call.modelMethod === 'web_read'),
    ).toEqual([expect.objectContaining({ count: 1 })]);
    expect(c.countCalls({ model: BC_MODEL, method: 'read' })).toBe(1);
    expect((await h.bcRows()).map((bc) => bc.odooId)).toEqual([5]);
    expect(await h.failures()).toEqual([]);
  });
});
