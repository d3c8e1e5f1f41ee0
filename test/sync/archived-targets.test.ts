/**
 * A child's many2many to a record archived since (a tax no longer used, on a journal item that
 * bears it) is copied whole: Odoo's `search_read` drops `active_test` before it reads, so its
 * x2many fields list no archived target; `read` keeps the context. Children with an x2many are
 * read by id (src/sync/root-pages.ts), so the copy holds what Odoo's record holds.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/sql-rows.js';
import { FAMILY_CASES, useCaseHarness } from '../helpers/family-cases.js';

const moves = FAMILY_CASES.find((c) => c.name === 'moves')!;

describe("a journal item's archived tax", () => {
  const h = useCaseHarness(moves, { size: { roots: 6, childrenPerRoot: 2 }, copied: true });

  it('stays in the copy of the item that bears it', async () => {
    const control = h.sandbox.control;
    const line = control
      .records('account.move.line', { fields: ['tax_ids', 'move_id'] })
      .find((record) => (record.tax_ids as number[]).length > 0)!;
    const [tax] = line.tax_ids as number[];
    control.write('account.tax', tax!, { active: false });
    // The item changes: the next run reads its move, and the item with it.
    control.write('account.move.line', line.id, { name: 'after the tax was archived' });
    await h.run('sync-run', { trigger: 'test' });
    const [copy] = rowsOf<{ tax_ids: number[]; name: string }>(
      await h.db.db.execute(
        sql`select data->'tax_ids' as tax_ids, data->>'name' as name
            from scrap_account_move_line where odoo_id = ${line.id}`,
      ),
    );
    expect(copy!.name).toBe('after the tax was archived');
    expect(copy!.tax_ids).toEqual(line.tax_ids);
    expect(await h.diffWithSandbox()).toEqual([]);
  });
});
