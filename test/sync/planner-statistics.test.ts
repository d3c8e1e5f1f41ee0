/**
 * A copy table analyzed while empty is planned as empty until autovacuum comes back: a first copy
 * then scans a whole index per batch. The writer analyzes such a table once it holds rows.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/sql-rows.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

describe('planner statistics of the copy', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({ sandbox: { orders: 30, linesPerOrder: 3 }, pageSize: 10 });
  });
  afterAll(async () => {
    await h.dispose();
  });

  const statistics = async () =>
    rowsOf<{ name: string; tuples: number }>(
      await h.db.db.execute(sql`
        select relname as name, reltuples::int as tuples from pg_class
        where relname in ('scrap_dimagaz_bc', 'scrap_dimagaz_bc_line') order by relname`),
    );

  it('analyzes the tables a first copy fills when their statistics say empty', async () => {
    await h.db.db.execute(sql`vacuum analyze scrap_dimagaz_bc, scrap_dimagaz_bc_line`);
    expect(await statistics()).toEqual([
      { name: 'scrap_dimagaz_bc', tuples: 0 },
      { name: 'scrap_dimagaz_bc_line', tuples: 0 },
    ]);

    await h.run('sync-run', { trigger: 'test' });

    const [bcs, lines] = await statistics();
    expect(bcs!.tuples).toBeGreaterThan(0);
    expect(lines!.tuples).toBeGreaterThan(0);
    expect(h.logLines.join('')).toContain('tables analyzed');
    expect(await h.diffWithSandbox()).toEqual([]);
  });
});
