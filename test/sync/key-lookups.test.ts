/**
 * While a first sync fills the copy, autovacuum has not analyzed it: the planner guesses 200
 * distinct BCs and would read the whole line table for each batch's stored lines, a cost that
 * grows with the square of the copy. The write path's key lookups go through their indexes
 * whatever the statistics (EXPLAIN, not timings).
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_LOOKUPS_ONLY, rowsOf } from '../../src/db/sql-rows.js';
import { bcsFamily } from '../../src/families/bcs/family.js';
import { storedChildrenQuery } from '../../src/sync/write-records.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const BCS = 10_000;
const LINES_PER_BC = 10;

describe('the stored lines of a batch, on a copy never analyzed', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
    // As during a first sync: no statistics yet (and none arriving while the test looks).
    for (const table of ['scrap_dimagaz_bc', 'scrap_dimagaz_bc_line'])
      await db.sql!.unsafe(`alter table ${table} set (autovacuum_enabled = false)`);
    await db.sql!`
      insert into scrap_dimagaz_bc (odoo_id, odoo_write_date, data)
      select n, now(), '{}'::jsonb from generate_series(1, ${BCS}) as n`;
    await db.sql!`
      insert into scrap_dimagaz_bc_line (odoo_id, bc_odoo_id, odoo_write_date, data)
      select n, 1 + (n - 1) / ${LINES_PER_BC}, now(), '{}'::jsonb
      from generate_series(1, ${BCS * LINES_PER_BC}) as n`;
  }, 60_000);
  afterAll(async () => {
    await db.dispose();
  });

  const batch = Array.from({ length: 100 }, (_, i) => BCS - 100 + i + 1);
  const lines = batch.flatMap((bc) =>
    Array.from({ length: LINES_PER_BC }, (_, n) => (bc - 1) * LINES_PER_BC + n + 1),
  );
  const plan = (lookupsOnly: boolean) =>
    db.db.transaction(async (tx) => {
      if (lookupsOnly) await tx.execute(KEY_LOOKUPS_ONLY);
      const query = storedChildrenQuery(bcsFamily.children[0]!, batch, lines);
      const rows = rowsOf<{ 'QUERY PLAN': string }>(await tx.execute(sql`explain ${query}`));
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    });

  it('would scan the whole line table left to the planner’s guesses', async () => {
    expect(await plan(false)).toMatch(/Seq Scan on scrap_dimagaz_bc_line/);
  });

  it('goes through the indexes in the write path’s transactions', async () => {
    const explained = await plan(true);
    expect(explained).not.toMatch(/Seq Scan/);
    expect(explained).toMatch(/Index/);
  });
});
