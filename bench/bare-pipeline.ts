/**
 * The bare pipeline: the fastest honest copy this machine can make, the yardstick the product's
 * sync is measured against. A keyset fetch of BCs (with their lines) from Odoo through the same
 * client and decoder, mapped by the same functions and written by the same guarded upserts, one
 * transaction per page, the next page fetched while the current one is written. No queue, no
 * lease, no change detection, no audit rows, no run log.
 *
 * It runs as a process of its own, bundled and started as the worker is (bench/sync-bench.ts):
 * `node <flags> bare-pipeline.js '<BareSpec as JSON>'` prepares (logs in, reads the stored
 * fields, connects) and prints `ready`; then each line on its standard input, `{"since": ISO or
 * null}`, is one copy, answered with its figures as one JSON line. It closes when its standard
 * input ends: its PostgreSQL backends live until then, so the bench can count their CPU, and a
 * later copy runs as warm as the worker's.
 */
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { createOdooClient, type OdooClient, type OdooProtocol } from '../src/clients/odoo/index.js';
import { sql } from 'drizzle-orm';
import { createDb, type Db } from '../src/db/create-db.js';
import { BC_LINE_MODEL, BC_MODEL, bcsFamily } from '../src/families/bcs/family.js';
import { mapRoot, type RootPayload } from '../src/families/map-record.js';
import { childWriteShape, rootWriteShape, type WriteShape } from '../src/families/write-shape.js';
import { changedSince, createSchemaCache, type FamilySchema } from '../src/sync/odoo-reads.js';

const PAGE_SIZE = 500;
const LINE = bcsFamily.children[0]!;

async function fetchPage(
  odoo: OdooClient,
  schema: FamilySchema,
  since: Date | null,
  afterId: number,
): Promise<RootPayload[]> {
  const { fields, context } = schema;
  const bcs = await odoo.searchRead(BC_MODEL, [...changedSince(since), ['id', '>', afterId]], {
    fields: fields[BC_MODEL]!,
    order: 'id asc',
    limit: PAGE_SIZE,
    context,
  });
  if (bcs.length === 0) return [];
  const lines = await odoo.searchRead(
    BC_LINE_MODEL,
    [[LINE.parentField, 'in', bcs.map((bc) => bc.id)]],
    { fields: fields[BC_LINE_MODEL]!, order: 'id asc', context },
  );
  const byBc = new Map(bcs.map((bc) => [bc.id, [] as typeof lines]));
  for (const line of lines) byBc.get((line[LINE.parentField] as [number, string])[0])?.push(line);
  return bcs.map((bc) => ({ root: bc, children: [byBc.get(bc.id)!] }));
}

/** The guarded upsert of the product's writer, without its change detection and audit rows. */
export async function bareUpsert(
  tx: Pick<Db, 'execute'>,
  shape: WriteShape,
  rows: readonly (readonly unknown[])[],
) {
  if (rows.length === 0) return;
  const values = rows.map((row) => shape.rowValues(row));
  await tx.execute(sql`
    insert into ${shape.table} ${shape.into}
    select ${shape.values} from jsonb_array_elements(${JSON.stringify(values)}::jsonb) as r
    order by "odoo_id"
    on conflict (odoo_id) do update set ${shape.update}
    where ${shape.table}.odoo_write_date <= excluded.odoo_write_date`);
}

/** Copies the BCs written since `since` (all with null); resolves with the records written. */
export async function runBarePipeline(
  odoo: OdooClient,
  db: Db,
  schema: FamilySchema,
  since: Date | null,
): Promise<number> {
  let records = 0;
  let next = fetchPage(odoo, schema, since, 0);
  for (;;) {
    const page = await next;
    if (page.length === 0) return records;
    next = fetchPage(odoo, schema, since, page[page.length - 1]!.root.id);
    const mapped = page.map((item) => mapRoot(bcsFamily, item));
    await db.transaction(async (tx) => {
      await bareUpsert(
        tx,
        rootWriteShape(bcsFamily.root),
        mapped.map((item) => item.values),
      );
      await bareUpsert(
        tx,
        childWriteShape(LINE),
        mapped.flatMap((item) => item.children[0]!.map((line) => line.values)),
      );
    });
    records += mapped.reduce((sum, item) => sum + 1 + item.children[0]!.length, 0);
    if (page.length < PAGE_SIZE) {
      await next;
      return records;
    }
  }
}

/** What the bare pipeline's process is told to copy. */
export interface BareSpec {
  readonly odoo: {
    url: string;
    database: string;
    username: string;
    password: string;
    protocol: OdooProtocol;
  };
  readonly databaseUrl: string;
}

/** One copy the process is asked for. */
export interface BareCopy {
  /** ISO instant: copy what changed since then; null copies everything. */
  readonly since: string | null;
}

/** What the process prints: the copy's wall time (the bench reads its CPU and RSS from /proc). */
export interface BareFigures {
  readonly seconds: number;
  readonly records: number;
}

async function main(spec: BareSpec): Promise<void> {
  const odoo = createOdooClient(
    { ...spec.odoo, timeoutMs: 60_000, retries: 2 },
    { logger: pino({ level: 'warn' }) },
  );
  const handle = await createDb({ url: spec.databaseUrl, poolMax: 2 });
  try {
    const schema = await createSchemaCache(60_000)(bcsFamily, odoo);
    await handle.ping();
    const lines = createInterface({ input: process.stdin });
    process.stdout.write('ready\n');
    for await (const line of lines) {
      const { since } = JSON.parse(line) as BareCopy;
      const startedMs = performance.now();
      const records = await runBarePipeline(
        odoo,
        handle.db,
        schema,
        since === null ? null : new Date(since),
      );
      const figures: BareFigures = { seconds: (performance.now() - startedMs) / 1_000, records };
      process.stdout.write(`${JSON.stringify(figures)}\n`);
    }
  } finally {
    await handle.close();
    await odoo.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(JSON.parse(process.argv[2] ?? '') as BareSpec);
}
