/**
 * Every sort and filter the BC list offers is served by an index: on 200,000 BCs, PostgreSQL's
 * plan for each never scans the whole table (checked with EXPLAIN, not with timings).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDialect } from 'drizzle-orm/pg-core';
import { bcsFamily } from '../../src/families/bcs/family.js';
import { boundedPageQuery } from '../../src/http/records/bounded-page.js';
import { createRecordReader } from '../../src/http/records/record-reader.js';
import { bcModelQuery, listBcsQuery, listQuery } from '../../src/http/routes/api/bcs/list-bcs.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const BCS = 200_000;
const PAGE_BYTES = 4_000_000;

describe('BC list query plans on 200,000 BCs', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
    // Loaded before its indexes are built, each then at once: a GIN index (the trigram searches)
    // takes 200,000 rows one at a time for most of the load's time.
    const indexes = await db.sql!<{ name: string; definition: string }[]>`
      select indexname as name, indexdef as definition from pg_indexes
      where tablename = 'scrap_dimagaz_bc'
        and not exists (select 1 from pg_constraint where conname = indexname)`;
    for (const { name } of indexes) await db.sql!`drop index ${db.sql!(name)}`;
    await db.sql!`
      insert into scrap_dimagaz_bc
        (odoo_id, name, state, partner_id, date_order, amount_total, origin, odoo_write_date, data,
         archived_at)
      select n, 'P' || lpad(n::text, 6, '0'),
        (array['draft','sent','purchase','done','cancel'])[1 + n % 5],
        1 + n % 500,
        timestamptz '2024-01-01' + (n % 900) * interval '1 day',
        (n % 10000)::numeric / 7,
        'SO' || n,
        timestamptz '2026-01-01' + n * interval '1 second',
        '{}'::jsonb,
        case when n % 50 = 0 then now() end
      from generate_series(1, ${BCS}) as n`;
    for (const { definition } of indexes) await db.sql!.unsafe(definition);
    expect(indexes.length).toBeGreaterThan(5);
    await db.sql!`analyze scrap_dimagaz_bc`;
  }, 120_000);
  afterAll(async () => {
    await db.dispose();
  });

  const planOf = async (query: Record<string, string>) => {
    const { sql, params } = new PgDialect().sqlToQuery(
      boundedPageQuery(listBcsQuery(listQuery.parse(query)), PAGE_BYTES),
    );
    const [row] = await db.sql!.unsafe(`explain (format json) ${sql}`, params as never[]);
    return JSON.stringify(row);
  };

  it.each<Record<string, string>>([
    {},
    { sort: '-odooId' },
    { sort: 'name' },
    { sort: '-dateOrder' },
    { sort: 'amountTotal' },
    { sort: '-odooWriteDate' },
    { state: 'purchase' },
    { partnerId: '42' },
    { orderedFrom: '2025-06-01', orderedTo: '2025-06-08', sort: 'dateOrder' },
    { updatedSince: '2026-01-03T00:00:00Z', sort: 'odooWriteDate' },
    { state: 'purchase,done', partnerId: '42', sort: '-dateOrder' },
    { includeArchived: 'true', sort: '-odooWriteDate' },
    { q: '01234' },
    { q: 'SO1999', sort: '-dateOrder' },
  ])('%o is served by an index', async (query) => {
    const plan = await planOf(query);
    expect(plan).not.toContain('"Seq Scan"');
    expect(plan).toMatch(/Index/);
  });

  // The portal's common list: one partner's BCs newest first, page after page. In these rows a
  // partner's state follows from the partner, which only the extended statistics tell the
  // planner; without them it intersects two indexes and sorts the partner's whole set.
  it("one partner's BCs newest first, behind a cursor, are one index range read in order", async () => {
    const query = { partnerId: '42', state: 'sent', sort: '-dateOrder', limit: '50' };
    const reader = createRecordReader({ db: db.db, shapedDb: db.db, pageMaxBytes: PAGE_BYTES });
    const { nextCursor } = await reader.list(bcsFamily.root, bcModelQuery(listQuery.parse(query)));
    expect(nextCursor).toEqual(expect.any(String));
    for (const page of [query, { ...query, cursor: nextCursor! }]) {
      const plan = await planOf(page);
      expect(plan).toContain('scrap_dimagaz_bc_live_partner_date_order_idx');
      // A subplan's: the fields of a record too large for its page, sorted by size to be cut.
      expect(sortsOutsideSubplans(JSON.parse(plan) as PlanNode)).toEqual([]);
    }
  });
});

interface PlanNode {
  readonly 'Node Type'?: string;
  readonly 'Parent Relationship'?: string;
  readonly Plan?: PlanNode;
  readonly Plans?: readonly PlanNode[];
}

/** The Sort nodes of a plan (EXPLAIN's JSON) outside its subplans. */
function sortsOutsideSubplans(node: PlanNode | readonly PlanNode[]): string[] {
  if (Array.isArray(node)) return node.flatMap((item: PlanNode) => sortsOutsideSubplans(item));
  const plan = node as PlanNode;
  if (plan['Parent Relationship'] === 'SubPlan') return [];
  return [
    ...(plan['Node Type']?.endsWith('Sort') ? [plan['Node Type']] : []),
    ...(plan.Plan ? sortsOutsideSubplans(plan.Plan) : []),
    ...(plan.Plans ?? []).flatMap((child) => sortsOutsideSubplans(child)),
  ];
}
