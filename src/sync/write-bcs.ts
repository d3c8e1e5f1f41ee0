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
 * one jsonb parameter and expanded by PostgreSQL (`jsonb_to_recordset`).
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import type { NewBcLineRow, NewBcRow, OdooRecordData } from '../db/schema/index.js';
import { intArray, KEY_LOOKUPS_ONLY, rowsOf } from '../db/sql-rows.js';
import type { Logger } from '../lib/logger.js';
import { changedFields, type MappedBc } from './map-records.js';
import { BC_LINE_MODEL, BC_MODEL } from './models.js';
import type { BcAction, BcOutcome } from './run-counts.js';
import { LeaseLostError, SyncDataError } from './sync-errors.js';
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

interface AuditRow {
  run_id: number | null;
  trigger: string | null;
  model: string;
  odoo_id: number;
  bc_odoo_id: number | null;
  action: string;
  changed_fields: string[];
  odoo_write_date: string | null;
}

const iso = (date: Date | null | undefined) => (date ? date.toISOString() : null);

function bcRecord(row: NewBcRow) {
  return {
    odoo_id: row.odooId,
    name: row.name,
    state: row.state,
    partner_id: row.partnerId,
    partner_name: row.partnerName,
    date_order: iso(row.dateOrder),
    date_planned: iso(row.datePlanned),
    amount_untaxed: row.amountUntaxed,
    amount_tax: row.amountTax,
    amount_total: row.amountTotal,
    currency_id: row.currencyId,
    currency_name: row.currencyName,
    company_id: row.companyId,
    origin: row.origin,
    active: row.active,
    odoo_create_date: iso(row.odooCreateDate),
    odoo_write_date: iso(row.odooWriteDate),
    data: row.data,
  };
}

function lineRecord(row: NewBcLineRow) {
  return {
    odoo_id: row.odooId,
    bc_odoo_id: row.bcOdooId,
    sequence: row.sequence,
    product_id: row.productId,
    product_name: row.productName,
    name: row.name,
    product_qty: row.productQty,
    qty_received: row.qtyReceived,
    price_unit: row.priceUnit,
    price_subtotal: row.priceSubtotal,
    odoo_write_date: iso(row.odooWriteDate),
    data: row.data,
  };
}

/** The stored lines of these BCs, and these lines wherever they are (a line can move). */
export function storedLinesQuery(bcIds: readonly number[], lineIds: readonly number[]): SQL {
  return sql`
    select odoo_id, bc_odoo_id, odoo_write_date, data from scrap_dimagaz_bc_line
    where bc_odoo_id = any(${intArray(bcIds)}::int[]) or odoo_id = any(${intArray(lineIds)}::int[])`;
}

const json = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;
const older = (stored: Date, incoming: Date | string) =>
  new Date(stored).getTime() > new Date(incoming).getTime();

/**
 * Writes distinct BCs in one transaction and returns one outcome per BC, in order.
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
  const lineIds = items.flatMap((item) => item.lines.map((line) => line.odooId));

  return db.transaction(async (tx) => {
    await tx.execute(KEY_LOOKUPS_ONLY);
    if (context.lease) await fenceLease(tx, context.lease);
    // Locked in id order, so two batches that share BCs cannot deadlock.
    const storedBcs = rowsOf<StoredBc>(
      await tx.execute(sql`
        select odoo_id, odoo_write_date, data, archived_at from scrap_dimagaz_bc
        where odoo_id = any(${intArray(bcIds)}::int[]) order by odoo_id for update`),
    );
    const storedLines = rowsOf<StoredLine>(await tx.execute(storedLinesQuery(bcIds, lineIds)));
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
    const audits: AuditRow[] = [];
    const audit = (
      model: string,
      odooId: number,
      action: AuditRow['action'],
      changed: string[],
      writeDate: Date | string,
      bcOdooId: number | null = null,
    ) =>
      audits.push({
        run_id: context.runId,
        trigger: context.trigger ?? null,
        model,
        odoo_id: odooId,
        bc_odoo_id: bcOdooId,
        action,
        changed_fields: changed,
        odoo_write_date: iso(new Date(writeDate)),
      });

    const outcomes = items.map(({ odooId, bc, lines }): BcOutcome => {
      const stored = bcById.get(odooId);
      if (stored && older(stored.odoo_write_date, bc.odooWriteDate)) {
        return { odooId, action: 'stale', linesCreated: 0, linesUpdated: 0, linesDeleted: 0 };
      }
      let action: BcAction;
      if (!stored) {
        action = 'created';
        audit(BC_MODEL, odooId, action, [], bc.odooWriteDate);
      } else {
        const changed = changedFields(stored.data, bc.data);
        action = stored.archived_at ? 'restored' : changed.length > 0 ? 'updated' : 'unchanged';
        if (action !== 'unchanged') audit(BC_MODEL, odooId, action, changed, bc.odooWriteDate);
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
          audit(BC_LINE_MODEL, line.odooId, 'created', [], line.odooWriteDate, odooId);
          continue;
        }
        if (older(storedLine.odoo_write_date, line.odooWriteDate)) continue;
        const changed = changedFields(storedLine.data, line.data);
        if (changed.length === 0 && storedLine.bc_odoo_id === odooId) continue;
        linesUpdated += 1;
        lineWrites.push(line);
        audit(BC_LINE_MODEL, line.odooId, 'updated', changed, line.odooWriteDate, odooId);
      }
      // Lines Odoo no longer lists under this BC: gone from Odoo (or moved, and re-parented above).
      let linesDeleted = 0;
      for (const storedLine of linesByBc.get(odooId) ?? []) {
        if (incoming.has(storedLine.odoo_id)) continue;
        linesDeleted += 1;
        lineDeletes.push(storedLine.odoo_id);
        audit(BC_LINE_MODEL, storedLine.odoo_id, 'deleted', [], storedLine.odoo_write_date, odooId);
      }
      return { odooId, action, linesCreated, linesUpdated, linesDeleted };
    });

    await upsertBcRows(tx, bcWrites);
    if (lineDeletes.length > 0) {
      await tx.execute(
        sql`delete from scrap_dimagaz_bc_line where odoo_id = any(${intArray(lineDeletes)}::int[])`,
      );
    }
    await upsertLineRows(tx, lineWrites);
    if (audits.length > 0) {
      await tx.execute(sql`
        insert into sync_audit (run_id, trigger, model, odoo_id, bc_odoo_id, action, changed_fields, odoo_write_date)
        select run_id, trigger, model, odoo_id, bc_odoo_id, action, changed_fields, odoo_write_date
        from jsonb_to_recordset(${json(audits)}) as x(run_id bigint, trigger text, model text, odoo_id int, bc_odoo_id int,
          action text, changed_fields jsonb, odoo_write_date timestamptz)`);
    }
    return outcomes;
  });
}

type Executor = Pick<Db, 'execute'>;

/**
 * Upserts BC rows in one statement, guarded: a row is never overwritten by an older `write_date`.
 * No audit and no lease: callers that need them (`writeBcs`) add them around it.
 */
export async function upsertBcRows(tx: Executor, rows: readonly NewBcRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.execute(sql`
    insert into scrap_dimagaz_bc (odoo_id, name, state, partner_id, partner_name, date_order, date_planned,
      amount_untaxed, amount_tax, amount_total, currency_id, currency_name, company_id, origin, active,
      odoo_create_date, odoo_write_date, data)
    select odoo_id, name, state, partner_id, partner_name, date_order, date_planned, amount_untaxed, amount_tax,
      amount_total, currency_id, currency_name, company_id, origin, active, odoo_create_date, odoo_write_date, data
    from jsonb_to_recordset(${json(rows.map(bcRecord))}) as x(odoo_id int, name text, state text, partner_id int,
      partner_name text, date_order timestamptz, date_planned timestamptz, amount_untaxed numeric, amount_tax numeric,
      amount_total numeric, currency_id int, currency_name text, company_id int, origin text, active boolean,
      odoo_create_date timestamptz, odoo_write_date timestamptz, data jsonb)
    on conflict (odoo_id) do update set
      name = excluded.name, state = excluded.state, partner_id = excluded.partner_id,
      partner_name = excluded.partner_name, date_order = excluded.date_order, date_planned = excluded.date_planned,
      amount_untaxed = excluded.amount_untaxed, amount_tax = excluded.amount_tax, amount_total = excluded.amount_total,
      currency_id = excluded.currency_id, currency_name = excluded.currency_name, company_id = excluded.company_id,
      origin = excluded.origin, active = excluded.active, odoo_create_date = excluded.odoo_create_date,
      odoo_write_date = excluded.odoo_write_date, data = excluded.data, archived_at = null, archive_reason = null, synced_at = now()
    where scrap_dimagaz_bc.odoo_write_date <= excluded.odoo_write_date`);
}

/** Upserts line rows in one statement, guarded like `upsertBcRows`. */
export async function upsertLineRows(tx: Executor, rows: readonly NewBcLineRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.execute(sql`
    insert into scrap_dimagaz_bc_line (odoo_id, bc_odoo_id, sequence, product_id, product_name, name, product_qty,
      qty_received, price_unit, price_subtotal, odoo_write_date, data)
    select odoo_id, bc_odoo_id, sequence, product_id, product_name, name, product_qty, qty_received, price_unit,
      price_subtotal, odoo_write_date, data
    from jsonb_to_recordset(${json(rows.map(lineRecord))}) as x(odoo_id int, bc_odoo_id int, sequence int, product_id int,
      product_name text, name text, product_qty numeric, qty_received numeric, price_unit numeric,
      price_subtotal numeric, odoo_write_date timestamptz, data jsonb)
    order by odoo_id
    on conflict (odoo_id) do update set
      bc_odoo_id = excluded.bc_odoo_id, sequence = excluded.sequence, product_id = excluded.product_id,
      product_name = excluded.product_name, name = excluded.name, product_qty = excluded.product_qty,
      qty_received = excluded.qty_received, price_unit = excluded.price_unit,
      price_subtotal = excluded.price_subtotal, odoo_write_date = excluded.odoo_write_date, data = excluded.data,
      synced_at = now()
    where scrap_dimagaz_bc_line.odoo_write_date <= excluded.odoo_write_date`);
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
