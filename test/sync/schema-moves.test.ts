/**
 * Nothing the copy holds is lost when Odoo's schema moves, and nothing a reader must not see is
 * copied: a field Odoo stops listing (a Studio field deleted, a module uninstalled) keeps its
 * column and its last value in `data` through runs, reconciles and verifies, before and after
 * `migrate`; the verify says what it kept instead of erasing it, compares the typed columns as
 * well as `data`, and takes Odoo's -0.0 for the 0 jsonb stores; secrets and binaries stay out of
 * the copy unless declared, and a copy made before loses them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/config.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import { applyLayouts } from '../../src/families/configured/apply-layouts.js';
import { loadFamilies } from '../../src/families/load-families.js';
import { partnersFamily } from '../../src/families/partners/family.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';
import { testConfig } from '../helpers/test-app.js';

const FILE = `
families:
  - name: cylinders
    model: x_cylinder
    children:
      - { model: x_cylinder_valve, link: x_cylinder_id }
    api: { filter: [x_status], sort: [x_name] }
`;
const CYLINDER = 'x_cylinder';

describe("the copy when Odoo's schema moves", () => {
  let dir: string;
  let config: Config;
  let h: SyncHarness;
  const query = async <T>(text: string) => rowsOf<T>(await h.db.db.execute(sql.raw(text)));
  const c = () => h.sandbox.control;
  const migrate = () => applyLayouts(h.db.db, h.odoo, config.sync.families.configured);
  const cylinder = async (id: number) =>
    (
      await query<{ x_serial: string | null; serial: unknown; x_notes: string | null }>(
        `select x_serial, data->'x_serial' as serial, x_notes from scrap_x_cylinder where odoo_id = ${id}`,
      )
    )[0]!;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'erp-bridge-schema-moves-'));
    writeFileSync(join(dir, 'families.yaml'), FILE);
    config = testConfig({
      SYNC_FAMILIES_FILE: join(dir, 'families.yaml'),
      SYNC_FAMILIES: 'cylinders,partners',
    });
    h = await createSyncHarness({
      sandbox: { cylinders: 12, partners: 20 },
      loadFamilies: async (db, odoo) => {
        await applyLayouts(db.db, odoo, config.sync.families.configured);
        return loadFamilies(db.db, config.sync.families);
      },
    });
    await h.run('sync-run', { family: 'cylinders', trigger: 'test' });
    await h.run('sync-run', { family: 'partners', trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a field Odoo stops listing keeps its column and its value in data through a run, a reconcile and a verify, before and after migrate', async () => {
    const [id] = c().ids(CYLINDER);
    const before = await cylinder(id!);
    expect(before.x_serial).toEqual(expect.any(String));
    expect(before.serial).toBe(before.x_serial);

    const held = () =>
      query<{ held: number; kept: number }>(
        `select count(x_serial)::int as held, count(*) filter (where data ? 'x_serial')::int as kept
         from scrap_x_cylinder`,
      );
    const heldBefore = await held();
    c().removeField(CYLINDER, 'x_serial');
    // A change Odoo stamps: the next run reads the record, without the field.
    c().write(CYLINDER, id!, { x_notes: 'checked after the upgrade' });
    await h.run('sync-run', { family: 'cylinders', trigger: 'test' });
    expect(await cylinder(id!)).toEqual({ ...before, x_notes: 'checked after the upgrade' });

    await h.run('reconcile', { family: 'cylinders', trigger: 'test' });
    const verified = await h.run('verify', { family: 'cylinders', trigger: 'test', all: true });
    expect(verified).toMatchObject({ drifted: 0 });
    expect(await cylinder(id!)).toEqual({ ...before, x_notes: 'checked after the upgrade' });
    // The verify says what it kept rather than erasing it.
    expect(
      h.logLines.some((line) =>
        /fields Odoo no longer lists are kept in the copy with their last values, not erased: x_cylinder: x_serial/.test(
          line,
        ),
      ),
    ).toBe(true);

    // migrate freezes the column: no longer written, still holding what it held.
    await migrate();
    await h.runtime.sync.families.refresh();
    c().write(CYLINDER, id!, { x_notes: 'checked again' });
    await h.run('sync-run', { family: 'cylinders', trigger: 'test' });
    await h.run('reconcile', { family: 'cylinders', trigger: 'test' });
    await h.run('verify', { family: 'cylinders', trigger: 'test', all: true });
    expect(await cylinder(id!)).toEqual({ ...before, x_notes: 'checked again' });
    expect(await held()).toEqual(heldBefore);
  });

  it('the verify heals a typed column that differs from Odoo though data does not', async () => {
    const [, id] = c().ids(CYLINDER);
    const [right] = await query<{ x_name: string }>(
      `select x_name from scrap_x_cylinder where odoo_id = ${id}`,
    );
    await query(`update scrap_x_cylinder set x_name = 'tampered' where odoo_id = ${id}`);
    const verified = await h.run('verify', { family: 'cylinders', trigger: 'test', all: true });
    expect(verified).toMatchObject({ drifted: 1, healed: 1 });
    expect(verified.driftFields).toEqual({ [CYLINDER]: { x_name: 1 } });
    const [healed] = await query<{ x_name: string }>(
      `select x_name from scrap_x_cylinder where odoo_id = ${id}`,
    );
    expect(healed).toEqual(right);
  });

  it("Odoo's -0.0 is no drift: a verify of a copy holding it finds nothing", async () => {
    const [, , id] = c().ids(CYLINDER);
    c().write(CYLINDER, id!, { x_capacity: -0.0 });
    await h.run('sync-run', { family: 'cylinders', trigger: 'test' });
    expect(
      await h.run('verify', { family: 'cylinders', trigger: 'test', all: true }),
    ).toMatchObject({ drifted: 0 });
  });

  it('a secret or a binary Odoo lists is copied by no family unless declared, and a copy made before loses it', async () => {
    const PARTNER = partnersFamily.root.model;
    const [first, second] = c().ids(PARTNER);
    // A copy made by an earlier version held a secret: it goes at the record's next write.
    await query(
      `update scrap_res_partner set data = data || '{"signup_token": "old-secret"}' where odoo_id = ${second}`,
    );
    c().addField(
      PARTNER,
      { name: 'signup_token', type: 'char', string: 'Signup Token', store: true },
      { default: 'tok-9f8e7d' },
    );
    c().addField(
      CYLINDER,
      { name: 'x_api_key', type: 'char', string: 'API key', store: true, manual: true },
      { default: 'key-1a2b3c' },
    );
    // The schema is read anew: what Odoo lists now decides what is read.
    await h.run('verify', { family: 'partners', trigger: 'test', all: true });
    await h.run('verify', { family: 'cylinders', trigger: 'test', all: true });
    c().write(PARTNER, [first!, second!], { comment: 'touched' });
    await h.run('sync-run', { family: 'partners', trigger: 'test' });
    const applied = await migrate();
    expect(applied[0]!.leftOut).toEqual(
      expect.arrayContaining([
        {
          model: CYLINDER,
          field: 'x_api_key',
          reason: 'its name says it holds a secret: name it under fields to copy it',
        },
        { model: CYLINDER, field: 'x_photo', reason: 'a binary: list it under binary to copy it' },
      ]),
    );
    const leaked = await query<{ table: string }>(`
      select 'partner' as table from scrap_res_partner where data ? 'signup_token'
      union all select 'cylinder' from scrap_x_cylinder where data ? 'x_api_key' or data ? 'x_photo'`);
    expect(leaked).toEqual([]);
  });
});
