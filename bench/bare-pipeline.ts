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
import { createDb, type Db } from '../src/db/create-db.js';
import { mapBc, type BcPayload } from '../src/sync/map-records.js';
import { BC_LINE_MODEL, BC_MODEL, LINE_PARENT_FIELD } from '../src/sync/models.js';
import { changedSince, createSchemaCache, type SyncSchema } from '../src/sync/odoo-reads.js';
import { upsertBcRows, upsertLineRows } from '../src/sync/write-bcs.js';

const PAGE_SIZE = 500;

async function fetchPage(
  odoo: OdooClient,
  schema: SyncSchema,
  since: Date | null,
  afterId: number,
): Promise<BcPayload[]> {
  const { fields, context } = schema;
  const bcs = await odoo.searchRead(BC_MODEL, [...changedSince(since), ['id', '>', afterId]], {
    fields: fields.bc,
    order: 'id asc',
    limit: PAGE_SIZE,
    context,
  });
  if (bcs.length === 0) return [];
  const lines = await odoo.searchRead(
    BC_LINE_MODEL,
    [[LINE_PARENT_FIELD, 'in', bcs.map((bc) => bc.id)]],
    { fields: fields.line, order: 'id asc', context },
  );
  const byBc = new Map(bcs.map((bc) => [bc.id, [] as typeof lines]));
  for (const line of lines) byBc.get((line[LINE_PARENT_FIELD] as [number, string])[0])?.push(line);
  return bcs.map((bc) => ({ bc, lines: byBc.get(bc.id)! }));
}

/** Copies the BCs written since `since` (all with null); resolves with the records written. */
export async function runBarePipeline(
  odoo: OdooClient,
  db: Db,
  schema: SyncSchema,
  since: Date | null,
): Promise<number> {
  let records = 0;
  let next = fetchPage(odoo, schema, since, 0);
  for (;;) {
    const page = await next;
    if (page.length === 0) return records;
    next = fetchPage(odoo, schema, since, page[page.length - 1]!.bc.id);
    const mapped = page.map(mapBc);
    await db.transaction(async (tx) => {
      await upsertBcRows(
        tx,
        mapped.map((item) => item.bc),
      );
      await upsertLineRows(
        tx,
        mapped.flatMap((item) => item.lines),
      );
    });
    records += mapped.reduce((sum, item) => sum + 1 + item.lines.length, 0);
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
    const schema = await createSchemaCache(60_000)(odoo);
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
