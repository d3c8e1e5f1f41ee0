/**
 * What the settled stamps' proof costs a run's scan page (docs/sync.md, "Settled stamps"): the run
 * after a settling run lists again the records that run wrote, and proves each one the copy holds
 * as that run wrote it from the run's audit rows, instead of reading it from Odoo again. Measured
 * on one throw-away PostgreSQL, migrated, over an audit history of two million rows, a page of the
 * scan's size (10,000 records) at a time:
 *
 * - a page of children, every one written by the settling run, of roots with 12, 200 and 2,000
 *   children (a mass window's lines; invoices of many lines);
 * - a page of roots, each of 12 children, every one written by the settling run;
 * - a steady page: children written before the stamps settled, which the proof takes as they are.
 *
 * Each page is staged five times (the median printed) and must come out proven whole.
 *
 * `npx tsx bench/proof-bench.ts [--history N]`; `npm run bench -- proof` runs it.
 */
import { pathToFileURL } from 'node:url';
import type { DbHandle } from '../src/db/create-db.js';
import { BC_LINE_MODEL, BC_MODEL, bcsFamily } from '../src/families/bcs/family.js';
import { SCAN_PAGE_SIZE } from '../src/sync/odoo-reads.js';
import { stageScanPage, type ScannedRow, type SettledStamps } from '../src/sync/run-plan.js';
import { parseBenchArgs } from './bench-args.js';
import { onMigratedPostgres } from './migrated-postgres.js';
import { markdownTable, median } from './report.js';

export interface ProofBenchFigure {
  readonly page: string;
  readonly records: number;
  readonly roots: number;
  /** Median over the repeats, one page staged. */
  readonly milliseconds: number;
}

const REPEATS = 5;
const SETTLING_RUN = 7;
/** The records' stamp, settled; the settling run's start; its writes. */
const STAMP = '2026-03-02T08:00:00.000Z';
const SETTLED_AT = '2026-03-02T09:00:00.000Z';
const WRITTEN_AT = '2026-03-02T09:00:30.000Z';
const BEFORE_SETTLED = '2026-03-02T08:30:00.000Z';

/** A scan page as the run stages it: every record with its root. */
type ScannedPage = (ScannedRow & { root: number })[];

interface PageCase {
  readonly page: string;
  readonly childrenPerRoot: number;
  readonly scanned: 'children' | 'roots';
  readonly writtenAt: string;
}

const CASES: readonly PageCase[] = [
  {
    page: 'children of roots of 12, written by the settling run',
    childrenPerRoot: 12,
    scanned: 'children',
    writtenAt: WRITTEN_AT,
  },
  {
    page: 'children of roots of 200, written by the settling run',
    childrenPerRoot: 200,
    scanned: 'children',
    writtenAt: WRITTEN_AT,
  },
  {
    page: 'children of roots of 2,000, written by the settling run',
    childrenPerRoot: 2_000,
    scanned: 'children',
    writtenAt: WRITTEN_AT,
  },
  {
    page: 'roots of 12 children, written by the settling run',
    childrenPerRoot: 12,
    scanned: 'roots',
    writtenAt: WRITTEN_AT,
  },
  {
    page: 'children of roots of 12, written before the stamps settled',
    childrenPerRoot: 12,
    scanned: 'children',
    writtenAt: BEFORE_SETTLED,
  },
];

/** Roots of `childrenPerRoot` children each, copied and audited as a run writes them; the page the scan lists of them. */
async function copyOf(h: DbHandle, c: PageCase, firstId: number): Promise<ScannedPage> {
  const roots =
    c.scanned === 'roots' ? SCAN_PAGE_SIZE : Math.ceil(SCAN_PAGE_SIZE / c.childrenPerRoot);
  const sql = h.sql!;
  const family = bcsFamily.name;
  // Root r's children are r * childrenPerRoot + 1 … + childrenPerRoot, above every root id.
  const childBase = firstId + roots;
  await sql`
    with r as (select g as root from generate_series(${firstId}::int, ${firstId + roots - 1}::int) g),
    b as (insert into scrap_dimagaz_bc (odoo_id, odoo_write_date, data, synced_at)
      select root, ${STAMP}::timestamptz, '{}', ${c.writtenAt}::timestamptz from r),
    l as (insert into scrap_dimagaz_bc_line (odoo_id, bc_odoo_id, odoo_write_date, data, synced_at)
      select ${childBase}::int + (root - ${firstId}::int) * ${c.childrenPerRoot}::int + k, root, ${STAMP}::timestamptz, '{}', ${c.writtenAt}::timestamptz
      from r, generate_series(1, ${c.childrenPerRoot}::int) k)
    insert into sync_audit (family, model, odoo_id, root_odoo_id, action, created_at, run_id)
    select ${family}::text, ${BC_MODEL}::text, root, root, 'created', ${c.writtenAt}::timestamptz, ${SETTLING_RUN}::bigint from r
    union all
    select ${family}::text, ${BC_LINE_MODEL}::text, ${childBase}::int + (root - ${firstId}::int) * ${c.childrenPerRoot}::int + k,
      root, 'created', ${c.writtenAt}::timestamptz, ${SETTLING_RUN}::bigint
    from r, generate_series(1, ${c.childrenPerRoot}::int) k`;
  const rows: ScannedPage = [];
  if (c.scanned === 'roots')
    for (let root = firstId; root < firstId + roots; root += 1)
      rows.push({ id: root, root, wd: STAMP });
  else
    for (let i = 0; i < roots * c.childrenPerRoot && rows.length < SCAN_PAGE_SIZE; i += 1)
      rows.push({
        id: childBase + i + 1,
        root: firstId + Math.floor(i / c.childrenPerRoot),
        wd: STAMP,
      });
  return rows;
}

export async function runProofBench(input: { history: number }): Promise<ProofBenchFigure[]> {
  return onMigratedPostgres(async (h) => {
    const sql = h.sql!;
    // Audit rows of other roots, from before the settling run: what the index holds beside them.
    await sql`
      insert into sync_audit (family, model, odoo_id, root_odoo_id, action, created_at, run_id)
      select ${bcsFamily.name}, ${BC_LINE_MODEL}, g, 1000000000 + g / 13, 'created', '2026-01-01', 3
      from generate_series(1, ${input.history}::int) g`;
    const [last] = await sql<{ after: number }[]>`select max(id)::int as after from sync_audit`;
    const pages: { c: PageCase; rows: ScannedPage }[] = [];
    let firstId = 1;
    for (const c of CASES) {
      pages.push({ c, rows: await copyOf(h, c, firstId) });
      firstId += 10_000_000;
    }
    await sql.unsafe('vacuum analyze');
    const settled: SettledStamps = {
      settledThrough: new Date(SETTLED_AT),
      settledAt: new Date(SETTLED_AT),
      byRun: { runId: SETTLING_RUN, auditAfter: last!.after },
    };
    const figures: ProofBenchFigure[] = [];
    let token = 0;
    for (const { c, rows } of pages) {
      const times: number[] = [];
      for (let i = 0; i < REPEATS; i += 1) {
        token += 1;
        const ref = { runId: 1, token };
        const started = performance.now();
        await stageScanPage(
          h.db,
          ref,
          bcsFamily,
          c.scanned === 'roots' ? undefined : bcsFamily.children[0],
          rows,
          settled,
        );
        times.push(performance.now() - started);
        const [staged] = await sql<{ roots: number; proven: number }[]>`
          select count(*)::int as roots, count(*) filter (where proven)::int as proven
          from sync_scan where run_id = 1 and token = ${token}`;
        if (staged!.proven !== staged!.roots)
          throw new Error(`${c.page}: ${staged!.proven} of ${staged!.roots} roots proven`);
      }
      const roots = new Set(rows.map((row) => row.root)).size;
      figures.push({ page: c.page, records: rows.length, roots, milliseconds: median(times) });
      process.stderr.write(`[proof] ${c.page}: ${median(times).toFixed(0)} ms\n`);
    }
    return figures;
  });
}

export function describeProofBench(figures: readonly ProofBenchFigure[], history: number): string {
  return [
    `The settled stamps' proof, one scan page staged, over ${history.toLocaleString('en')} older audit rows (median of ${REPEATS})`,
    ...markdownTable(
      ['page', 'records', 'roots', 'time'],
      figures.map((f) => [
        f.page,
        f.records.toLocaleString('en'),
        f.roots.toLocaleString('en'),
        `${f.milliseconds.toFixed(0)} ms`,
      ]),
    ),
  ].join('\n');
}

export const PROOF_HISTORY = 2_000_000;

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseBenchArgs({
    command: 'npx tsx bench/proof-bench.ts',
    about:
      "What the settled stamps' proof costs a run's scan page: pages of children of roots of 12, 200 and 2,000 children, of roots, and a steady page, each proven from the settling run's audit rows on a migrated PostgreSQL; the median of five stagings each.",
    options: {
      history: {
        type: 'string',
        value: 'N',
        default: String(PROOF_HISTORY),
        number: 'whole',
        about: 'rows of audit history the proof reads among',
      },
    },
    examples: ['npx tsx bench/proof-bench.ts --history 200000', 'npm run bench -- proof'],
  });
  const history = Number(values.history);
  console.log(describeProofBench(await runProofBench({ history }), history));
}
