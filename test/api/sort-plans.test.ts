/**
 * Every sort the API offers reads an index in its order: for each sort of /api/bcs and of every
 * model's /api/models/{model}/records (the families in code and a configured one), both directions, with and without archived records,
 * PostgreSQL never plans a Sort over a scan of the whole table (checked with EXPLAIN on 30,000
 * rows a table, not with timings). A sort that did would hold a connection for as long as the
 * table takes to read, per request.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgDialect } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OdooFieldDescription } from '../../src/clients/odoo/odoo-types.js';
import { applyLayouts } from '../../src/families/configured/apply-layouts.js';
import { familyModels, isChild } from '../../src/families/family.js';
import { loadFamilies } from '../../src/families/load-families.js';
import type { Families } from '../../src/families/registry.js';
import { boundedPageQuery, type PageQuery } from '../../src/http/records/bounded-page.js';
import { listBcsQuery, listQuery, SORT_FIELDS } from '../../src/http/routes/api/bcs/list-bcs.js';
import { modelList } from '../../src/http/records/model-list.js';
import { piecesQuery } from '../../src/http/records/field-value.js';
import { testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { schemaAnswers, storedField as field } from '../helpers/schema-answers.js';

const ROWS = 30_000;
const PAGE_BYTES = 4_000_000;

const GADGETS = `
families:
  - name: gadgets
    model: x_gadget
    table: x_gadget
    children:
      - model: x_gadget_part
        link: x_gadget_id
        table: x_gadget_part
        api: { filter: [x_label], sort: [x_label, x_qty] }
    api:
      filter: [x_name, x_kind]
      sort: [x_name, x_size, x_price, x_ok, x_day, x_at, x_kind, x_owner_id]
`;

const FIELDS: Record<string, Record<string, OdooFieldDescription>> = {
  x_gadget: {
    id: field('integer'),
    write_date: field('datetime'),
    x_active: field('boolean'),
    x_name: field('char'),
    x_size: field('integer'),
    x_price: field('float', { digits: [12, 2] }),
    x_ok: field('boolean'),
    x_day: field('date'),
    x_at: field('datetime'),
    x_kind: field('selection'),
    x_owner_id: field('many2one', { relation: 'res.partner' }),
  },
  x_gadget_part: {
    id: field('integer'),
    write_date: field('datetime'),
    x_gadget_id: field('many2one', { relation: 'x_gadget' }),
    x_label: field('char'),
    x_qty: field('float'),
  },
};

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

/** The Sort nodes of a plan that read a whole table, by the table they scan. */
function sortsOverSeqScans(node: PlanNode, underSort = false): string[] {
  const sorting = underSort || node['Node Type'].endsWith('Sort');
  const here =
    sorting && node['Node Type'] === 'Seq Scan'
      ? [`Sort over Seq Scan of ${node['Relation Name']}`]
      : [];
  return [...here, ...(node.Plans ?? []).flatMap((child) => sortsOverSeqScans(child, sorting))];
}

describe('every sort the API offers reads an index', () => {
  let db: TestDb;
  let dir: string;
  let families: Families;

  beforeAll(async () => {
    db = await createTestDb();
    dir = mkdtempSync(join(tmpdir(), 'erp-bridge-sort-plans-'));
    writeFileSync(join(dir, 'families.yaml'), GADGETS);
    const config = testConfig({
      SYNC_FAMILIES_FILE: join(dir, 'families.yaml'),
      SYNC_FAMILIES: 'bcs,partners,moves,gadgets',
    });
    await applyLayouts(db.db, schemaAnswers(FIELDS), config.sync.families.configured);
    families = await loadFamilies(db.db, config.sync.families);
    // A fiftieth of the roots archived: includeArchived=true reads them too.
    await db.sql!.unsafe(`
      insert into scrap_dimagaz_bc (odoo_id, name, state, partner_id, date_order, amount_total,
        origin, odoo_write_date, data, archived_at)
      select n, 'P' || lpad(n::text, 6, '0'), (array['draft','sent','purchase'])[1 + n % 3],
        1 + n % 300, timestamptz '2024-01-01' + (n % 900) * interval '1 day',
        (n % 10000)::numeric / 7, 'SO' || n, timestamptz '2026-01-01' + n * interval '1 second',
        '{}'::jsonb, case when n % 50 = 0 then now() end
      from generate_series(1, ${ROWS}) as n;
      insert into scrap_dimagaz_bc_line (odoo_id, bc_odoo_id, sequence, name, odoo_write_date, data)
      select n, n, 1, 'line ' || n, timestamptz '2026-01-01' + n * interval '1 second', '{}'::jsonb
      from generate_series(1, ${ROWS}) as n;
      insert into scrap_res_partner (odoo_id, name, email, is_company, customer_rank,
        supplier_rank, country_id, parent_id, odoo_write_date, data, archived_at)
      select n, 'partner ' || n, 'p' || n || '@example.com', n % 5 = 0, n % 40, n % 30,
        1 + n % 200, case when n % 5 <> 0 then 1 + n % 3000 end,
        timestamptz '2026-01-01' + n * interval '1 second', '{}'::jsonb,
        case when n % 50 = 0 then now() end
      from generate_series(1, ${ROWS}) as n;
      insert into scrap_account_move (odoo_id, name, move_type, state, partner_id, date,
        amount_total, odoo_write_date, data, archived_at)
      select n, 'INV/' || n, (array['entry','out_invoice','in_invoice'])[1 + n % 3],
        (array['draft','posted','cancel'])[1 + n % 3], 1 + n % 300,
        date '2020-01-01' + n % 2000, (n % 10000)::numeric / 7,
        timestamptz '2026-01-01' + n * interval '1 second', '{}'::jsonb,
        case when n % 50 = 0 then now() end
      from generate_series(1, ${ROWS}) as n;
      insert into scrap_account_move_line (odoo_id, move_odoo_id, sequence, name, account_id,
        odoo_write_date, data)
      select n, n, 1, 'line ' || n, 1 + n % 100, timestamptz '2026-01-01' + n * interval '1 second',
        '{}'::jsonb
      from generate_series(1, ${ROWS}) as n;
      insert into x_gadget (odoo_id, odoo_write_date, data, x_name, x_size, x_price, x_ok, x_day,
        x_at, x_kind, x_owner_id, archived_at)
      select n, timestamptz '2026-01-01' + n * interval '1 second', '{}'::jsonb,
        'gadget ' || n, n % 1000, (n % 997)::numeric / 3, n % 2 = 0,
        date '2020-01-01' + n % 2000, timestamptz '2020-01-01' + n * interval '1 minute',
        (array['a','b','c'])[1 + n % 3], 1 + n % 200, case when n % 50 = 0 then now() end
      from generate_series(1, ${ROWS}) as n;
      insert into x_gadget_part (odoo_id, odoo_write_date, data, x_gadget_id, x_label, x_qty)
      select n, timestamptz '2026-01-01' + n * interval '1 second', '{}'::jsonb, n,
        'part ' || n, (n % 101)::numeric
      from generate_series(1, ${ROWS}) as n;
      -- A hundredth of the BCs hold a large value: its pieces, read by their key.
      insert into sync_value_piece (copy_table, odoo_id, field, sha256, part, piece)
      select 'scrap_dimagaz_bc', n, 'notes', md5(n::text), part, repeat('x', 100)
      from generate_series(100, ${ROWS}, 100) as n, generate_series(0, 3) as part;
      analyze;`);
  }, 120_000);
  afterAll(async () => {
    await db.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const problemsOf = async (query: PageQuery) => {
    const { sql, params } = new PgDialect().sqlToQuery(boundedPageQuery(query, PAGE_BYTES));
    const [row] = await db.sql!.unsafe<{ 'QUERY PLAN': { Plan: PlanNode }[] }[]>(
      `explain (format json) ${sql}`,
      params as never[],
    );
    return sortsOverSeqScans(row!['QUERY PLAN'][0]!.Plan);
  };
  const directions = (names: readonly string[]) => names.flatMap((name) => [name, `-${name}`]);

  it('/api/bcs: each sort, both directions, with and without archived BCs', async () => {
    const problems: string[] = [];
    for (const sort of directions(SORT_FIELDS))
      for (const includeArchived of ['false', 'true'])
        for (const problem of await problemsOf(
          listBcsQuery(listQuery.parse({ sort, includeArchived })),
        ))
          problems.push(`sort=${sort}&includeArchived=${includeArchived}: ${problem}`);
    expect(problems).toEqual([]);
  });

  it('/api/models/{model}/records: each sort of each model, both directions, with and without archived records', async () => {
    const problems: string[] = [];
    const models = families.all.flatMap(familyModels);
    expect(models.map((model) => model.model)).toEqual([
      'dimagaz.bc',
      'dimagaz.bc.line',
      'res.partner',
      'account.move',
      'account.move.line',
      'x_gadget',
      'x_gadget_part',
    ]);
    for (const model of models) {
      const list = modelList(model);
      for (const sort of directions(list.sortNames))
        for (const includeArchived of isChild(model) ? [undefined] : ['false', 'true']) {
          const query = list.querystring.parse(
            includeArchived === undefined ? { sort } : { sort, includeArchived },
          );
          for (const problem of await problemsOf(list.pageQuery(query)))
            problems.push(
              `${model.model} sort=${sort} includeArchived=${includeArchived}: ${problem}`,
            );
        }
    }
    expect(problems).toEqual([]);
  });

  it("the field route reads a large value's pieces in their key's order: nothing sorted", async () => {
    const bcs = families.all.flatMap(familyModels).find((model) => model.model === 'dimagaz.bc')!;
    const { sql, params } = new PgDialect().sqlToQuery(piecesQuery(bcs, 100, 'notes', false));
    const [row] = await db.sql!.unsafe<{ 'QUERY PLAN': { Plan: PlanNode }[] }[]>(
      `explain (format json) ${sql}`,
      params as never[],
    );
    const nodes = (node: PlanNode): string[] => [
      `${node['Node Type']}${node['Relation Name'] ? ` of ${node['Relation Name']}` : ''}`,
      ...(node.Plans ?? []).flatMap(nodes),
    ];
    const plan = nodes(row!['QUERY PLAN'][0]!.Plan);
    expect(plan).toContain('Index Scan of sync_value_piece');
    expect(plan.filter((node) => node.includes('Sort'))).toEqual([]);
  });
});
