/**
 * A declared family that takes over the table of a family in code (`res.partner` in
 * `scrap_res_partner`): the code family's columns its layout does not write — `parent_name`,
 * beside the layout's own `parent_id_name` — are reported by `migrate`, each with whether it holds
 * a value and the SQL that drops it, and never dropped (the copy never destroys a value).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OdooFieldDescription } from '../../src/clients/odoo/odoo-types.js';
import { applyLayouts } from '../../src/families/configured/apply-layouts.js';
import { schemaAnswers, storedField as field } from '../helpers/schema-answers.js';
import { testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const PARTNER_FIELDS: Record<string, OdooFieldDescription> = {
  id: field('integer'),
  write_date: field('datetime'),
  name: field('char'),
  email: field('char'),
  parent_id: field('many2one', { relation: 'res.partner' }),
  // A related field Odoo does not store: its name still makes parent_id's name column
  // `parent_id_name`, where the family in code named it `parent_name`.
  parent_name: { type: 'char', store: false },
};

describe('a declared family on the table of a family in code', () => {
  let db: TestDb;
  let dir: string;
  beforeAll(async () => {
    db = await createTestDb();
    dir = mkdtempSync(join(tmpdir(), 'erp-bridge-left-behind-'));
    writeFileSync(
      join(dir, 'families.yaml'),
      'families:\n  - name: contacts\n    model: res.partner\n',
    );
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db.dispose();
  });

  const migrate = () =>
    applyLayouts(
      db.db,
      schemaAnswers(PARTNER_FIELDS, false),
      testConfig({ SYNC_FAMILIES_FILE: join(dir, 'families.yaml'), SYNC_FAMILIES: 'contacts' }).sync
        .families.configured,
    );

  it('reports the columns its layout does not write, with the SQL to drop them, and keeps them', async () => {
    const [applied] = await migrate();
    const parentName = applied!.leftBehind.find((column) => column.column === 'parent_name');
    expect(parentName).toEqual({
      table: 'scrap_res_partner',
      column: 'parent_name',
      holdsValues: false,
      dropSql: 'alter table "scrap_res_partner" drop column "parent_name"',
    });
    // Columns the layout writes are not among them.
    const reported = applied!.leftBehind.map((column) => column.column);
    expect(reported).not.toContain('parent_id_name');
    expect(reported).not.toContain('email');
    expect(reported).not.toContain('layout_version');

    // A row of the family in code holds a value there: reported as such, and kept.
    await db.sql!`
      insert into scrap_res_partner (odoo_id, odoo_write_date, data, parent_name)
      values (7, now(), '{}'::jsonb, 'Dimagaz')`;
    const [again] = await migrate();
    expect(again!.leftBehind.find((column) => column.column === 'parent_name')).toMatchObject({
      holdsValues: true,
    });
    const [row] = await db.sql!<[{ parent_name: string }]>`
      select parent_name from scrap_res_partner where odoo_id = 7`;
    expect(row.parent_name).toBe('Dimagaz');
  });
});
