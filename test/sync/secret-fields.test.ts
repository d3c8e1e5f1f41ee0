/**
 * Odoo's own credentials never reach the copy, in every family (test/helpers/family-cases.ts):
 * a field named as one (an outgoing mail server's `smtp_pass`, a payment provider's
 * `*_secret_key`) and a field only Odoo's administrators may read (`groups` in `fields_get`)
 * are read by no run and held in no column nor in `data`; `migrate` names each with why
 * (docs/models.md, "Fields left out").
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/sql-rows.js';
import { FAMILY_CASES, useCaseHarness, type FamilyCase } from '../helpers/family-cases.js';

function credentialsOf(c: FamilyCase): void {
  const configured = 'file' in c.declaration;
  const h = useCaseHarness(c, { size: { roots: 6, childrenPerRoot: 1 }, copied: true });

  it("holds no credential of Odoo's and no field only its administrators read", async () => {
    const control = h.sandbox.control;
    const fields = [
      { name: 'x_smtp_pass', type: 'char', string: 'SMTP password', store: true, manual: true },
      {
        name: 'x_stripe_secret_key',
        type: 'char',
        string: 'Secret key',
        store: true,
        manual: true,
      },
      {
        name: 'x_admin_note',
        type: 'char',
        string: 'Settings only',
        store: true,
        manual: true,
        groups: 'base.group_system',
      },
    ] as const;
    for (const field of fields) control.addField(c.rootModel, field, { default: 'hunter2' });
    const id = c.standalone(control)[0]!;
    control.write(c.rootModel, id, { [c.rootText]: 'with its secrets' });
    const applied = configured ? await h.migrate() : [];
    await h.run('sync-run', { trigger: 'test' });
    await h.run('verify', { trigger: 'test', all: true });

    const [row] = rowsOf<{ data: Record<string, unknown> }>(
      await h.db.db.execute(
        sql`select data from ${sql.identifier(h.family.root.table.name)} where odoo_id = ${id}`,
      ),
    );
    expect(row!.data[c.rootText]).toBe('with its secrets');
    for (const field of fields) expect(row!.data).not.toHaveProperty(field.name);
    const everything = JSON.stringify(
      rowsOf(
        await h.db.db.execute(
          sql`select * from ${sql.identifier(h.family.root.table.name)} where odoo_id = ${id}`,
        ),
      ),
    );
    expect(everything).not.toContain('hunter2');
    if (configured)
      expect(applied[0]!.leftOut).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            field: 'x_smtp_pass',
            reason: expect.stringMatching(/secret/),
          }),
          expect.objectContaining({
            field: 'x_admin_note',
            reason: expect.stringMatching(/only Odoo's administrators may read it/),
          }),
        ]),
      );
  });
}

describe.each(FAMILY_CASES)("the $name copy and Odoo's credentials", credentialsOf);
