/**
 * Writes BCs and their lines into the copy. For each BC, all or nothing: the BC row, its lines,
 * the deletion of local lines Odoo no longer lists for it, and one audit row per change. Several
 * BCs share one transaction (a batch); a batch that fails is retried BC by BC, so one bad BC
 * never takes others down with it.
 *
 * Guarded: data with an older `write_date` than what is stored never overwrites it (a late retry
 * of a stale job cannot undo a newer change); with an equal stamp the data decide, since two
 * commits in one second share a stamp. Records that did not change are not written and leave no
 * audit row. Fenced: a run's batch commits only while the run holds the lease.
 *
 * Set-based: each batch is a handful of statements whatever its size, every row set passed as
 * one jsonb parameter and expanded by PostgreSQL (`jsonb_to_recordset`). The batch's BCs whose
 * copy is already current are sorted out in the same transaction (select-changed.ts), and the
 * pending failures of every BC it brings up to date are cleared with it. Round trips are what a
 * page costs most on a busy machine: a batch of new BCs takes eight.
 */
import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import {
  scrapDimagazBc,
  scrapDimagazBcLine,
  type NewBcLineRow,
  type NewBcRow,
  type OdooRecordData,
} from '../db/schema/index.js';
import { intArray, KEY_LOOKUPS_ONLY, rowsOf } from '../db/sql-rows.js';
import type { Logger } from '../lib/logger.js';
import { auditInsert, type AuditSource } from './audit.js';
import { changedFields, type MappedBc } from './map-records.js';
import { BC_LINE_MODEL, BC_MODEL } from './models.js';
import type { BcAction, BcOutcome } from './run-counts.js';
import { selectChanged } from './select-changed.js';
import { LeaseLostError, SyncDataError } from './sync-errors.js';
import { clearFailures } from './sync-failures.js';
import { fenceLease, type Lease } from './sync-state.js';

/** Who writes: a run (its log row and lease) or a single resync outside any run. */
export interface WriteContext {
  readonly runId: number | null;
  readonly lease: Lease | null;
  /** What made the change outside a run (`resync`, `webhook`), kept on its audit rows. */
  readonly trigger?: string;
}

interface StoredBc {
  odoo_id: number;
  odoo_write_date: Date;
  data: OdooRecordData;
  archived_at: Date | null;
}

interface StoredLine {
  odoo_id: number;
  bc_odoo_id: number;
  odoo_write_date: Date;
  data: OdooRecordData;
}

/** The stored lines of these BCs, and these lines wherever they are (a line can move). */
export function storedLinesQuery(bcIds: readonly number[], lineIds: readonly number[]): SQL {
  return sql`
    select odoo_id, bc_odoo_id, odoo_write_date, data from scrap_dimagaz_bc_line
    where bc_odoo_id = any(${intArray(bcIds)}::int[]) or odoo_id = any(${intArray(lineIds)}::int[])`;
}

const older = (stored: Date, incoming: Date | string) =>
  new Date(stored).getTime() > new Date(incoming).getTime();

const unchanged = (odooId: number): BcOutcome => ({
  odooId,
  action: 'unchanged',
  linesCreated: 0,
  linesUpdated: 0,
  linesDeleted: 0,
});

/**
 * Writes distinct BCs in one transaction and returns one outcome per BC, in order; their pending
 * failures (sync_failure) are cleared with the write.
 * @throws LeaseLostError when the run no longer holds the lease (nothing is written)
 */
export async function writeBcs(
  db: Db,
  items: readonly MappedBc[],
  context: WriteContext,
): Promise<BcOutcome[]> {
  if (items.length === 0) return [];
  const bcIds = items.map((item) => item.odooId);
  if (new Set(bcIds).size !== bcIds.length)
    throw new SyncDataError('a batch holds the same BC twice');

  return db.transaction(async (tx) => {
    await tx.execute(KEY_LOOKUPS_ONLY);
    if (context.lease) await fenceLease(tx, context.lease);
    const selection = await selectChanged(tx, items);
    await clearFailures(tx, bcIds);
    const written = await writeChanged(tx, selection.changed, selection.anyStored, context);
    const byId = new Map(written.map((outcome) => [outcome.odooId, outcome]));
    return bcIds.map((odooId) => byId.get(odooId) ?? unchanged(odooId));
  });
}

/** Writes BCs known to differ from the copy, in the caller's transaction. */
async function writeChanged(
  tx: Db,
  items: readonly MappedBc[],
  anyStored: boolean,
  context: WriteContext,
): Promise<BcOutcome[]> {
  if (items.length === 0) return [];
  const bcIds = items.map((item) => item.odooId);
  const lineIds = items.flatMap((item) => item.lines.map((line) => line.odooId));
  // When the copy holds none of these BCs and none of their lines (a first copy), there is
  // nothing to lock or compare. Locked in id order, so two batches that share BCs cannot deadlock.
  const storedBcs = anyStored
    ? rowsOf<StoredBc>(
        await tx.execute(sql`
          select odoo_id, odoo_write_date, data, archived_at from scrap_dimagaz_bc
          where odoo_id = any(${intArray(bcIds)}::int[]) order by odoo_id for update`),
      )
    : [];
  const storedLines = anyStored
    ? rowsOf<StoredLine>(await tx.execute(storedLinesQuery(bcIds, lineIds)))
    : [];
  const bcById = new Map(storedBcs.map((row) => [row.odoo_id, row]));
  const lineById = new Map(storedLines.map((row) => [row.odoo_id, row]));
  const linesByBc = new Map<number, StoredLine[]>();
  for (const line of storedLines) {
    const list = linesByBc.get(line.bc_odoo_id) ?? [];
    list.push(line);
    linesByBc.set(line.bc_odoo_id, list);
  }

  const bcWrites: NewBcRow[] = [];
  const lineWrites: NewBcLineRow[] = [];
  const lineDeletes: number[] = [];
  const bcUpdates: AuditedUpdate[] = [];
  const lineUpdates: AuditedUpdate[] = [];

  const outcomes = items.map(({ odooId, bc, lines }): BcOutcome => {
    const stored = bcById.get(odooId);
    if (stored && older(stored.odoo_write_date, bc.odooWriteDate)) {
      return { odooId, action: 'stale', linesCreated: 0, linesUpdated: 0, linesDeleted: 0 };
    }
    let action: BcAction = 'created';
    if (stored) {
      const changed = changedFields(stored.data, bc.data);
      action = stored.archived_at ? 'restored' : changed.length > 0 ? 'updated' : 'unchanged';
      if (action !== 'unchanged') bcUpdates.push({ odoo_id: odooId, action, changed });
    }
    if (action !== 'unchanged') bcWrites.push(bc);

    let linesCreated = 0;
    let linesUpdated = 0;
    const incoming = new Set<number>();
    for (const line of lines) {
      incoming.add(line.odooId);
      const storedLine = lineById.get(line.odooId);
      if (!storedLine) {
        linesCreated += 1;
        lineWrites.push(line);
        continue;
      }
      if (older(storedLine.odoo_write_date, line.odooWriteDate)) continue;
      const changed = changedFields(storedLine.data, line.data);
      if (changed.length === 0 && storedLine.bc_odoo_id === odooId) continue;
      linesUpdated += 1;
      lineWrites.push(line);
      lineUpdates.push({ odoo_id: line.odooId, action: 'updated', changed });
    }
    // Lines Odoo no longer lists under this BC: gone from Odoo (or moved, and re-parented above).
    let linesDeleted = 0;
    for (const storedLine of linesByBc.get(odooId) ?? []) {
      if (incoming.has(storedLine.odoo_id)) continue;
      linesDeleted += 1;
      lineDeletes.push(storedLine.odoo_id);
    }
    return { odooId, action, linesCreated, linesUpdated, linesDeleted };
  });

  const source = { runId: context.runId, trigger: context.trigger ?? null };
  const audited = (updates: AuditedUpdate[]): RowsAudit => ({ ...source, updates });
  await upsertBcRows(tx, bcWrites, audited(bcUpdates));
  if (lineDeletes.length > 0) {
    await tx.execute(sql`
      with gone as (
        delete from scrap_dimagaz_bc_line where odoo_id = any(${intArray(lineDeletes)}::int[])
        returning odoo_id, bc_odoo_id, odoo_write_date)
      ${auditInsert(
        BC_LINE_MODEL,
        source,
        sql`select odoo_id, bc_odoo_id, 'deleted', '[]'::jsonb, odoo_write_date from gone`,
      )}`);
  }
  await upsertLineRows(tx, lineWrites, audited(lineUpdates));
  return outcomes;
}

type Executor = Pick<Db, 'execute'>;

/** A written row that replaced a stored one: its audit entry. Every other written row is new. */
interface AuditedUpdate {
  readonly odoo_id: number;
  readonly action: 'updated' | 'restored';
  readonly changed: string[];
}

/** Who wrote a batch of rows, and which of them replaced stored rows. */
interface RowsAudit extends AuditSource {
  readonly updates: readonly AuditedUpdate[];
}

/** How a copy table is written: the columns the mapping fills, by their property names. */
interface UpsertShape {
  /** `(odoo_id, name, …)` */
  readonly into: SQL;
  /** `"odooId", "name", …` */
  readonly select: SQL;
  /** `"odooId" integer, "name" text, …`: the jsonb records' columns */
  readonly recordset: SQL;
  /** `name = excluded.name, …` and what a write resets */
  readonly update: SQL;
  /** The BC of a written row, for its audit row */
  readonly parent: SQL;
}

function upsertShape(
  table: typeof scrapDimagazBc | typeof scrapDimagazBcLine,
  keys: readonly string[],
  onWrite: string,
  parent: string,
): UpsertShape {
  const columns: Record<string, { name: string; getSQLType(): string }> = getTableColumns(table);
  const written = keys.map((key) => ({ key, column: columns[key]! }));
  const list = (part: (entry: (typeof written)[number]) => string) =>
    sql.raw(written.map(part).join(', '));
  return {
    into: sql.raw(`(${written.map(({ column }) => column.name).join(', ')})`),
    select: list(({ key }) => `"${key}"`),
    recordset: list(({ key, column }) => `"${key}" ${column.getSQLType()}`),
    update: sql.raw(
      [
        ...written
          .filter(({ key }) => key !== 'odooId')
          .map(({ column }) => `${column.name} = excluded.${column.name}`),
        onWrite,
      ].join(', '),
    ),
    parent: sql.raw(parent),
  };
}

const BC_SHAPE = upsertShape(
  scrapDimagazBc,
  [
    'odooId',
    'name',
    'state',
    'partnerId',
    'partnerName',
    'dateOrder',
    'datePlanned',
    'amountUntaxed',
    'amountTax',
    'amountTotal',
    'currencyId',
    'currencyName',
    'companyId',
    'origin',
    'active',
    'odooCreateDate',
    'odooWriteDate',
    'data',
  ] satisfies (keyof NewBcRow)[],
  'archived_at = null, archive_reason = null, synced_at = now()',
  'odoo_id',
);

const LINE_SHAPE = upsertShape(
  scrapDimagazBcLine,
  [
    'odooId',
    'bcOdooId',
    'sequence',
    'productId',
    'productName',
    'name',
    'productQty',
    'qtyReceived',
    'priceUnit',
    'priceSubtotal',
    'odooWriteDate',
    'data',
  ] satisfies (keyof NewBcLineRow)[],
  'synced_at = now()',
  'bc_odoo_id',
);

/**
 * Upserts `rows` in one statement, from one jsonb parameter read by property name, so the mapped
 * rows are serialized as they are. Guarded: a row is never overwritten by an older
 * `write_date`. With `audit`, each row the statement really wrote gets its audit row in the same
 * statement (a row the guard kept out gets none); rows not in `audit.updates` are `created`.
 */
function upsertStatement(
  table: typeof scrapDimagazBc | typeof scrapDimagazBcLine,
  shape: UpsertShape,
  model: string,
  rows: readonly object[],
  audit: RowsAudit | undefined,
): SQL {
  const upsert = sql`
    insert into ${table} ${shape.into}
    select ${shape.select} from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(${shape.recordset})
    order by "odooId"
    on conflict (odoo_id) do update set ${shape.update}
    where ${table}.odoo_write_date <= excluded.odoo_write_date`;
  if (!audit) return upsert;
  return sql`
    with written as (${upsert} returning odoo_id, ${shape.parent} as bc_odoo_id, odoo_write_date)
    ${auditInsert(
      model,
      audit,
      sql`
        select w.odoo_id, w.bc_odoo_id, coalesce(u.action, 'created'), coalesce(u.changed, '[]'::jsonb),
          w.odoo_write_date
        from written w
        left join jsonb_to_recordset(${JSON.stringify(audit.updates)}::jsonb)
          as u(odoo_id int, action text, changed jsonb) on u.odoo_id = w.odoo_id`,
    )}`;
}

/**
 * Upserts BC rows in one statement; a BC written again is live again (not archived). No lease:
 * callers that need one (`writeBcs`) fence around it.
 */
export async function upsertBcRows(
  tx: Executor,
  rows: readonly NewBcRow[],
  audit?: RowsAudit,
): Promise<void> {
  if (rows.length === 0) return;
  await tx.execute(upsertStatement(scrapDimagazBc, BC_SHAPE, BC_MODEL, rows, audit));
}

/** Upserts line rows in one statement, like `upsertBcRows`. */
export async function upsertLineRows(
  tx: Executor,
  rows: readonly NewBcLineRow[],
  audit?: RowsAudit,
): Promise<void> {
  if (rows.length === 0) return;
  await tx.execute(upsertStatement(scrapDimagazBcLine, LINE_SHAPE, BC_LINE_MODEL, rows, audit));
}

/** BCs per transaction: a few hundred kB of jsonb, and a short lock on the rows it touches. */
export const WRITE_BATCH_SIZE = 100;

export interface BatchWrite {
  readonly outcomes: BcOutcome[];
  /** BCs whose own write failed: each gets a job of its own, which retries with backoff. */
  readonly failed: { odooId: number; error: unknown }[];
}

/**
 * Writes BCs in batches; a failed batch is replayed BC by BC. A lost lease is not a BC's fault:
 * it stops the whole write.
 */
export async function writeBcBatches(
  db: Db,
  items: readonly MappedBc[],
  context: WriteContext,
  logger: Logger,
): Promise<BatchWrite> {
  const outcomes: BcOutcome[] = [];
  const failed: { odooId: number; error: unknown }[] = [];
  const writeAlone = async (item: MappedBc) => {
    try {
      outcomes.push(...(await writeBcs(db, [item], context)));
    } catch (error) {
      if (error instanceof LeaseLostError) throw error;
      failed.push({ odooId: item.odooId, error });
    }
  };
  for (let i = 0; i < items.length; i += WRITE_BATCH_SIZE) {
    const batch = items.slice(i, i + WRITE_BATCH_SIZE);
    if (batch.length === 1) {
      await writeAlone(batch[0]!);
      continue;
    }
    try {
      outcomes.push(...(await writeBcs(db, batch, context)));
      continue;
    } catch (error) {
      if (error instanceof LeaseLostError) throw error;
      logger.warn(
        { runId: context.runId, err: error, bcs: batch.length },
        'batch write failed; writing its BCs one by one',
      );
    }
    for (const item of batch) await writeAlone(item);
  }
  return { outcomes, failed };
}
