/**
 * Where the writer's PostgreSQL time goes. The same 20,000 BCs × 10 lines, read once from the
 * Odoo sandbox and mapped, written into empty tables again and again, each way a few times, the
 * server's CPU counted from /proc:
 *
 * - `bare`: the bare pipeline's guarded upserts (bench/bare-pipeline.ts), nothing else;
 * - `bare, no API indexes`: the same into tables without the indexes that serve only the API's
 *   filters and sorts (expressions, trigrams): what those indexes cost every write;
 * - `bare + audit per record`: the same plus one `sync_audit` row per record written;
 * - `writer`: the product's writer as a page job calls it (src/sync/write-records.ts): change
 *   detection, failures cleared, upserts with their audit rows, planner statistics kept fresh;
 * - `writer, all changed`: the writer again over the full copy, every record's data changed.
 *
 * Runs of one server, on one connection, one after the other: CPU figures compare within a run.
 * `npx tsx bench/write-bench.ts [--orders N] [--lines M] [--batch B] [--repeat R] [--json]`.
 */
import { pathToFileURL } from 'node:url';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { createOdooClient } from '../src/clients/odoo/index.js';
import { createDb, type Db, type DbHandle } from '../src/db/create-db.js';
import { runMigrations } from '../src/db/migrate.js';
import { rowsOf } from '../src/db/sql-rows.js';
import { BC_MODEL, bcsFamily } from '../src/families/bcs/family.js';
import { mapRoot, type MappedRecord, type MappedRoot } from '../src/families/map-record.js';
import { childWriteShape, rootWriteShape, rowLayout } from '../src/families/write-shape.js';
import type { ChildModel, RootModel } from '../src/families/family.js';
import { createSchemaCache } from '../src/sync/odoo-reads.js';
import { readRootPage } from '../src/sync/root-pages.js';
import { writeRootBatches } from '../src/sync/write-records.js';
import { createOdooSandbox } from '../dev/sandbox/odoo-sandbox.js';
import { startLocalPostgres } from '../test/helpers/local-services.js';
import { bareUpsert } from './bare-pipeline.js';
import { parseBenchArgs } from './bench-args.js';
import { postgresCpuSeconds } from './sync-bench.js';
import { median } from './report.js';

export interface WriteBenchFigure {
  readonly way: string;
  /** Medians over the repeats. */
  readonly seconds: number;
  readonly postgresCpuSeconds: number;
  readonly copierCpuSeconds: number;
  /** PostgreSQL CPU per 1,000 records written, in ms. */
  readonly postgresMsPerThousand: number;
}

export interface WriteBenchResult {
  readonly records: number;
  readonly batchRoots: number;
  readonly figures: WriteBenchFigure[];
}

const READ_PAGE = 500;

/** Reads every BC with its lines from the sandbox, mapped as the sync maps them. */
async function readAll(orders: number, lines: number): Promise<MappedRoot[]> {
  const sandbox = createOdooSandbox({
    orders,
    linesPerOrder: lines,
    logger: pino({ level: 'warn' }),
  });
  await sandbox.start();
  const odoo = createOdooClient(
    {
      url: sandbox.url,
      database: sandbox.database,
      username: sandbox.username,
      password: sandbox.password,
      protocol: 'jsonrpc',
      timeoutMs: 60_000,
      retries: 0,
    },
    { logger: pino({ level: 'warn' }) },
  );
  try {
    const schema = await createSchemaCache(60_000)(bcsFamily, odoo);
    const ids = sandbox.control.ids(BC_MODEL, { activeOnly: false });
    const mapped: MappedRoot[] = [];
    for (let at = 0; at < ids.length; at += READ_PAGE) {
      const page = await readRootPage(odoo, bcsFamily, ids.slice(at, at + READ_PAGE), schema);
      mapped.push(...page.items.map((item) => mapRoot(bcsFamily, item)));
    }
    return mapped;
  } finally {
    await odoo.close();
    await sandbox.stop();
  }
}

/** Every record's data changed, its stamp a second later: a write that updates every row. */
function changedCopy(items: readonly MappedRoot[]): MappedRoot[] {
  const later = (date: Date) => new Date(date.getTime() + 1_000);
  const change = <T extends MappedRecord>(record: T, model: RootModel | ChildModel): T => {
    const writeDate = later(record.writeDate);
    const data = { ...record.data, x_bench: 1 };
    const { slotOf } = rowLayout(model);
    const values = [...record.values];
    values[slotOf.get('odoo_write_date')!] = writeDate.toISOString();
    values[slotOf.get('data')!] = data;
    return { ...record, writeDate, data, values };
  };
  return items.map((item) => ({
    ...change(item, bcsFamily.root),
    children: item.children.map((children, i) =>
      children.map((child) => change(child, bcsFamily.children[i]!)),
    ),
  }));
}

/** The indexes of the BC table that serve only the API: no write needs them. */
async function dropApiIndexes(db: Db): Promise<void> {
  const indexes = rowsOf<{ name: string }>(
    await db.execute(sql`
      select indexname as name from pg_indexes
      where tablename = 'scrap_dimagaz_bc' and indexname not like '%pkey' and indexname not like '%odoo_id%'`),
  );
  for (const { name } of indexes) await db.execute(sql`drop index ${sql.identifier(name)}`);
}

function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let at = 0; at < items.length; at += size) out.push(items.slice(at, at + size));
  return out;
}

async function bareWrite(db: Db, batch: readonly MappedRoot[], audit: boolean): Promise<void> {
  await db.transaction(async (tx) => {
    await bareUpsert(
      tx,
      rootWriteShape(bcsFamily.root),
      batch.map((item) => item.values),
    );
    const lines = batch.flatMap((item) => item.children[0]!);
    await bareUpsert(
      tx,
      childWriteShape(bcsFamily.children[0]!),
      lines.map((line) => line.values),
    );
    if (!audit) return;
    const rows = [...batch, ...lines].map((record) => [record.odooId, record.writeDate]);
    await tx.execute(sql`
      insert into sync_audit (family, model, odoo_id, root_odoo_id, action, odoo_write_date)
      select 'bcs', 'bench', (r->>0)::int, (r->>0)::int, 'created', (r->>1)::timestamptz
      from jsonb_array_elements(${JSON.stringify(rows)}::jsonb) as r`);
  });
}

export async function runWriteBench(input: {
  orders: number;
  lines: number;
  batchRoots: number;
  repeat: number;
}): Promise<WriteBenchResult> {
  const items = await readAll(input.orders, input.lines);
  const changed = changedCopy(items);
  const records = items.reduce((sum, item) => sum + 1 + item.children[0]!.length, 0);
  const pg = await startLocalPostgres();
  let handle: DbHandle | undefined;
  try {
    handle = await createDb({ url: pg.url, poolMax: 1 });
    await runMigrations(handle);
    const { db } = handle;
    const empty = async () => {
      await db.execute(
        sql`truncate scrap_dimagaz_bc_line, scrap_dimagaz_bc, sync_audit, sync_failure`,
      );
      await db.execute(sql`vacuum analyze`);
    };
    const measure = async (way: string, write: () => Promise<void>, before = empty) => {
      const runs: { seconds: number; pg: number; copier: number }[] = [];
      for (let i = 0; i < input.repeat; i += 1) {
        // Truncated and analyzed: statistics that say empty, the writer's worst start.
        await before();
        const pg0 = postgresCpuSeconds();
        const cpu0 = process.cpuUsage();
        const startedMs = performance.now();
        await write();
        const cpu = process.cpuUsage(cpu0);
        runs.push({
          seconds: (performance.now() - startedMs) / 1_000,
          pg: postgresCpuSeconds() - pg0,
          copier: (cpu.user + cpu.system) / 1e6,
        });
      }
      const pgSeconds = median(runs.map((run) => run.pg));
      const figure: WriteBenchFigure = {
        way,
        seconds: median(runs.map((run) => run.seconds)),
        postgresCpuSeconds: pgSeconds,
        copierCpuSeconds: median(runs.map((run) => run.copier)),
        postgresMsPerThousand: (1_000 * pgSeconds) / (records / 1_000),
      };
      process.stderr.write(`${JSON.stringify(figure)}\n`);
      return figure;
    };
    const each = async (write: (batch: MappedRoot[]) => Promise<unknown>, from = items) => {
      for (const batch of batches(from, input.batchRoots)) await write(batch);
    };
    const logger = pino({ level: 'warn' });
    const writer = (batch: MappedRoot[]) =>
      writeRootBatches(
        db,
        bcsFamily,
        batch,
        { runId: null, lease: null, trigger: 'bench' },
        logger,
      );

    const figures = [
      await measure('bare', () => each((batch) => bareWrite(db, batch, false))),
      await measure('bare + audit per record', () => each((batch) => bareWrite(db, batch, true))),
      await measure('writer', () => each(writer)),
      await measure(
        'writer, all changed',
        () => each(writer, changed),
        async () => {
          await empty();
          await each(writer);
          await db.execute(sql`vacuum analyze`);
        },
      ),
    ];
    await dropApiIndexes(db);
    figures.push(
      await measure('bare, no API indexes', () => each((batch) => bareWrite(db, batch, false))),
      await measure('writer, no API indexes', () => each(writer)),
    );
    return { records, batchRoots: input.batchRoots, figures };
  } finally {
    await handle?.close();
    await pg.stop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseBenchArgs({
    command: 'npx tsx bench/write-bench.ts',
    about:
      "Where the writer's PostgreSQL time goes: the same BCs, read once from the Odoo sandbox, written into empty tables again and again, by the bare pipeline's upserts (with and without the API's indexes, with an audit row per record) and by the product's writer; the server's CPU of each.",
    options: {
      orders: {
        type: 'string',
        value: 'N',
        default: '20000',
        number: 'whole',
        about: 'BCs written',
      },
      lines: { type: 'string', value: 'M', default: '10', number: 'whole', about: 'lines per BC' },
      batch: {
        type: 'string',
        value: 'B',
        default: '100',
        number: 'whole',
        about: 'BCs a write takes at once, as a page job hands them to the writer',
      },
      repeat: {
        type: 'string',
        value: 'R',
        default: '3',
        number: 'whole',
        about: 'writes of each way, their medians compared',
      },
      json: { type: 'boolean', default: false, about: 'print the result as JSON' },
    },
    examples: ['npx tsx bench/write-bench.ts --orders 2000 --repeat 1', 'npm run bench -- write'],
  });
  const result = await runWriteBench({
    orders: Number(values.orders),
    lines: Number(values.lines),
    batchRoots: Number(values.batch),
    repeat: Number(values.repeat),
  });
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else
    for (const figure of result.figures)
      process.stdout.write(
        `${figure.way.padEnd(28)} ${figure.seconds.toFixed(2)} s  PostgreSQL ${figure.postgresCpuSeconds.toFixed(2)} s CPU (${figure.postgresMsPerThousand.toFixed(0)} ms per 1,000 records)  copier ${figure.copierCpuSeconds.toFixed(2)} s\n`,
      );
}
