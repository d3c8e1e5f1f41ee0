/**
 * The bare pipeline: the fastest honest copy this machine can make, the yardstick the product's
 * sync is measured against. A keyset fetch of a family's roots (with their children) from Odoo
 * through the same client and decoder, mapped by the same functions and written into the same
 * tables by the same guarded upserts (and a configured family's link rows), one transaction per
 * page, the next page fetched while the current one is written, with each record's history row
 * in the same statement (and, through the change feed's trigger, its feed row): what every copy
 * must write. No queue, no lease, no change detection, no run log. Without the history rows
 * (`audited` false) it is the old yardstick, kept for continuity.
 *
 * It copies the BC family declared in code, or a family declared in a file (`family` in its
 * spec), into tables `migrate` made: measured against the product copying the same declaration,
 * what is left is the product's own cost, not the width the declaration chose.
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
import type { OdooRecord } from '../src/clients/odoo/odoo-types.js';
import { sql } from 'drizzle-orm';
import { readFamiliesFile } from '../src/config/families-file.js';
import { createDb, type Db } from '../src/db/create-db.js';
import { intArray } from '../src/db/sql-rows.js';
import { bcsFamily } from '../src/families/bcs/family.js';
import { readLayouts } from '../src/families/configured/apply-layouts.js';
import { buildConfiguredFamily } from '../src/families/configured/build.js';
import type { ModelDeclaration, RecordFamily } from '../src/families/family.js';
import {
  mapRoot,
  type MappedRecord,
  type MappedRoot,
  type RootPayload,
} from '../src/families/map-record.js';
import { childWriteShape, rootWriteShape, type WriteShape } from '../src/families/write-shape.js';
import { changedSince, createSchemaCache, type FamilySchema } from '../src/sync/odoo-reads.js';
import { auditInsert } from '../src/sync/audit.js';
import { linkRowsInsert } from '../src/sync/model-rows.js';

export const PAGE_SIZE = 500;

export async function fetchPage(
  odoo: OdooClient,
  family: RecordFamily,
  schema: FamilySchema,
  since: Date | null,
  afterId: number,
): Promise<RootPayload[]> {
  const { fields, context } = schema;
  const roots = await odoo.searchRead(
    family.root.model,
    [...changedSince(since), ['id', '>', afterId]],
    { fields: fields[family.root.model]!, order: 'id asc', limit: PAGE_SIZE, context },
  );
  if (roots.length === 0) return [];
  const ids = roots.map((root) => root.id);
  const children = await Promise.all(
    family.children.map(async (child) => {
      const records = await odoo.searchRead(child.model, [[child.parentField, 'in', ids]], {
        fields: fields[child.model]!,
        order: 'id asc',
        context,
      });
      const byRoot = new Map(ids.map((id) => [id, [] as OdooRecord[]]));
      for (const record of records)
        byRoot.get((record[child.parentField] as [number, string])[0])?.push(record);
      return byRoot;
    }),
  );
  return roots.map((root) => ({
    root,
    children: children.map((byRoot) => byRoot.get(root.id)!),
  }));
}

/** What a copy must write beside each record: its history row (and through it, its feed row). */
export interface BareAudit {
  readonly family: string;
  readonly model: string;
  /** `created` on a first copy, `updated` on a copy of what changed. */
  readonly action: 'created' | 'updated';
}

/**
 * The guarded upsert of the product's writer, without its change detection; with `audit`, each
 * row written gets its history row in the same statement, as the product's writer does, and the
 * change feed's trigger on `sync_audit` gives it its feed row.
 */
export async function bareUpsert(
  tx: Pick<Db, 'execute'>,
  shape: WriteShape,
  rows: readonly (readonly unknown[])[],
  audit?: BareAudit,
) {
  if (rows.length === 0) return;
  const values = rows.map((row) => shape.rowValues(row));
  const upsert = sql`
    insert into ${shape.table} ${shape.into}
    select ${shape.values} from jsonb_array_elements(${JSON.stringify(values)}::jsonb) as r
    order by "odoo_id"
    on conflict (odoo_id) do update set ${shape.update}
    where ${shape.table}.odoo_write_date <= excluded.odoo_write_date`;
  if (!audit) {
    await tx.execute(upsert);
    return;
  }
  await tx.execute(sql`
    with written as (${upsert} returning odoo_id, ${shape.rootOf} as root_id, odoo_write_date)
    ${auditInsert(
      audit.family,
      audit.model,
      { runId: null, trigger: 'bench' },
      sql`select odoo_id, root_id, ${audit.action}::text, '[]'::jsonb, odoo_write_date, null::text from written`,
    )}`);
}

/**
 * The link rows of `records`, in Odoo's order; a copy of changed records (`replace`) removes
 * their earlier ones first.
 */
async function bareLinks(
  tx: Pick<Db, 'execute'>,
  model: ModelDeclaration,
  records: readonly MappedRecord[],
  replace: boolean,
) {
  for (const [i, link] of model.links.entries()) {
    const table = sql.identifier(link.table);
    const linked = records.filter((record) => record.links[i] !== undefined);
    if (replace && linked.length > 0)
      await tx.execute(sql`
        delete from ${table} where owner_id = any(${intArray(linked.map((r) => r.odooId))}::int[])`);
    const insert = linkRowsInsert(link, linked, i);
    if (insert) await tx.execute(insert);
  }
}

/**
 * Copies the roots written since `since` (all with null); resolves with the records written.
 * `audited`: with each record's history and feed rows (the yardstick of goals 2 and 6).
 */
export async function runBarePipeline(
  odoo: OdooClient,
  db: Db,
  family: RecordFamily,
  schema: FamilySchema,
  since: Date | null,
  audited: boolean,
): Promise<number> {
  const action = since === null ? 'created' : 'updated';
  const auditOf = (model: string): BareAudit | undefined =>
    audited ? { family: family.name, model, action } : undefined;
  let records = 0;
  let next = fetchPage(odoo, family, schema, since, 0);
  for (;;) {
    const page = await next;
    if (page.length === 0) return records;
    next = fetchPage(odoo, family, schema, since, page[page.length - 1]!.root.id);
    const mapped = page.map((item) => mapRoot(family, item, schema.unread));
    await db.transaction(async (tx) => {
      await bareUpsert(
        tx,
        rootWriteShape(family.root),
        mapped.map((item) => item.values),
        auditOf(family.root.model),
      );
      await bareLinks(tx, family.root, mapped, since !== null);
      for (const [i, child] of family.children.entries()) {
        const children = mapped.flatMap((item: MappedRoot) => item.children[i]!);
        await bareUpsert(
          tx,
          childWriteShape(child),
          children.map((record) => record.values),
          auditOf(child.model),
        );
        await bareLinks(tx, child, children, since !== null);
      }
    });
    records += mapped.reduce(
      (sum, item) => sum + 1 + item.children.reduce((n, children) => n + children.length, 0),
      0,
    );
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
  /** A family declared in a file, whose tables `migrate` made; absent: the BC family. */
  readonly family?: { readonly file: string; readonly name: string };
  /**
   * Writes each record's history row, and through the change feed's trigger its feed row: what
   * every copy must write (the yardstick of goals 2 and 6). Without, the old yardstick.
   */
  readonly audited: boolean;
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

/** A family of a declarations file, as the worker builds it from the layout `migrate` kept. */
async function declaredFamily(db: Db, declared: NonNullable<BareSpec['family']>) {
  const { families, problems } = readFamiliesFile(declared.file, { families: [], tables: [] });
  const spec = families.find((family) => family.name === declared.name);
  if (!spec)
    throw new Error(`${declared.file}: no family ${declared.name} (${problems.join('; ')})`);
  const built = buildConfiguredFamily(spec, (await readLayouts(db)).get(declared.name));
  if (typeof built === 'string') throw new Error(built);
  return built;
}

async function main(spec: BareSpec): Promise<void> {
  const odoo = createOdooClient(
    { ...spec.odoo, timeoutMs: 60_000, retries: 2 },
    { logger: pino({ level: 'warn' }) },
  );
  const handle = await createDb({ url: spec.databaseUrl, poolMax: 2 });
  try {
    const family = spec.family ? await declaredFamily(handle.db, spec.family) : bcsFamily;
    const schema = await createSchemaCache(60_000)(family, odoo);
    await handle.ping();
    const lines = createInterface({ input: process.stdin });
    process.stdout.write('ready\n');
    for await (const line of lines) {
      const { since } = JSON.parse(line) as BareCopy;
      const startedMs = performance.now();
      const records = await runBarePipeline(
        odoo,
        handle.db,
        family,
        schema,
        since === null ? null : new Date(since),
        spec.audited,
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
