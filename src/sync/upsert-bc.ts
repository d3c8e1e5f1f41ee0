/**
 * Writes BCs and their lines into the copy. For each BC, all or nothing: the BC row, its lines,
 * the deletion of local lines Odoo no longer lists for it, and one audit row per change. Several
 * BCs may share one transaction (the workers batch them); a batch that fails is retried BC by BC,
 * so one bad BC never takes others down with it.
 *
 * Guarded: data older than what is stored (by Odoo `write_date`) never overwrites it, so a late
 * retry of a stale job cannot undo a newer change. Records that did not change are not written
 * and leave no audit row.
 *
 * Set-based: each batch is five statements whatever its size, every row set passed as one jsonb
 * parameter and expanded by PostgreSQL (`jsonb_to_recordset`), which keeps query building and
 * round trips off the hot path.
 */
import { sql } from 'drizzle-orm';
import type { OdooRecord } from '../clients/odoo/odoo-types.js';
import type { Db } from '../db/create-db.js';
import type { NewBcLineRow, NewBcRow, OdooRecordData } from '../db/schema/index.js';
import { intArray, rowsOf } from '../db/sql-rows.js';
import { changedFields, toBcLineRow, toBcRow } from './map-records.js';
import { BC_LINE_MODEL, BC_MODEL } from './models.js';
import { SyncDataError } from './sync-errors.js';

export interface BcPayload {
  readonly bc: OdooRecord;
  readonly lines: readonly OdooRecord[];
}

export type BcAction = 'created' | 'updated' | 'unchanged' | 'restored' | 'stale';

export interface UpsertOutcome {
  readonly odooId: number;
  readonly action: BcAction;
  readonly linesCreated: number;
  readonly linesUpdated: number;
  readonly linesDeleted: number;
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

const json = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;

/** Upserts one BC; see {@link upsertBcs}. */
export async function upsertBc(
  db: Db,
  payload: BcPayload,
  context: { runId?: number | null },
): Promise<UpsertOutcome> {
  const [outcome] = await upsertBcs(db, [payload], context);
  return outcome!;
}

/**
 * Upserts distinct BCs in one transaction and returns one outcome per payload, in order.
 * @throws SyncDataError when a record cannot be mapped or a line belongs to another BC.
 */
export async function upsertBcs(
  db: Db,
  payloads: readonly BcPayload[],
  context: { runId?: number | null },
): Promise<UpsertOutcome[]> {
  const runId = context.runId ?? null;
  const items = payloads.map((payload) => {
    const bc = toBcRow(payload.bc);
    const lines = payload.lines.map(toBcLineRow);
    for (const line of lines) {
      if (line.bcOdooId !== bc.odooId) {
        throw new SyncDataError(
          `${BC_LINE_MODEL} ${line.odooId} belongs to BC ${line.bcOdooId}, not ${bc.odooId}`,
        );
      }
    }
    return { bc, lines };
  });
  const bcIds = items.map((item) => item.bc.odooId);
  if (new Set(bcIds).size !== bcIds.length)
    throw new SyncDataError('a batch holds the same BC twice');
  if (items.length === 0) return [];
  const lineIds = items.flatMap((item) => item.lines.map((line) => line.odooId));

  return db.transaction(async (tx) => {
    // Locked in id order, so two batches that share BCs cannot deadlock.
    const storedBcs = rowsOf<StoredBc>(
      await tx.execute(sql`
        select odoo_id, odoo_write_date, data, archived_at from scrap_dimagaz_bc
        where odoo_id = any(${intArray(bcIds)}::int[]) order by odoo_id for update`),
    );
    const storedLines = rowsOf<StoredLine>(
      await tx.execute(sql`
        select odoo_id, bc_odoo_id, odoo_write_date, data from scrap_dimagaz_bc_line
        where bc_odoo_id = any(${intArray(bcIds)}::int[]) or odoo_id = any(${intArray(lineIds)}::int[])`),
    );
    const bcById = new Map(storedBcs.map((row) => [row.odoo_id, row]));
    const lineById = new Map(storedLines.map((row) => [row.odoo_id, row]));
    const linesByBc = new Map<number, StoredLine[]>();
    for (const line of storedLines) {
      const list = linesByBc.get(line.bc_odoo_id) ?? [];
      list.push(line);
      linesByBc.set(line.bc_odoo_id, list);
    }

    const bcWrites: ReturnType<typeof bcRecord>[] = [];
    const lineWrites: ReturnType<typeof lineRecord>[] = [];
    const lineDeletes: number[] = [];
    const audits: AuditRow[] = [];
    const audit = (
      model: string,
      odooId: number,
      action: AuditRow['action'],
      changedFields: string[],
      odooWriteDate: Date,
      bcOdooId: number | null = null,
    ) =>
      audits.push({
        run_id: runId,
        model,
        odoo_id: odooId,
        bc_odoo_id: bcOdooId,
        action,
        changed_fields: changedFields,
        odoo_write_date: iso(odooWriteDate),
      });
    const outcomes = items.map(({ bc, lines }): UpsertOutcome => {
      const odooId = bc.odooId;
      const stored = bcById.get(odooId);
      const writeDate = new Date(bc.odooWriteDate);
      if (stored && new Date(stored.odoo_write_date) > writeDate) {
        return { odooId, action: 'stale', linesCreated: 0, linesUpdated: 0, linesDeleted: 0 };
      }
      let action: BcAction;
      if (!stored) {
        action = 'created';
        audit(BC_MODEL, odooId, action, [], writeDate);
      } else {
        const changed = changedFields(stored.data, bc.data);
        action = stored.archived_at ? 'restored' : changed.length > 0 ? 'updated' : 'unchanged';
        if (action !== 'unchanged') {
          audit(BC_MODEL, odooId, action, changed, writeDate);
        }
      }
      if (action !== 'unchanged') bcWrites.push(bcRecord(bc));

      let linesCreated = 0;
      let linesUpdated = 0;
      const incoming = new Set<number>();
      for (const line of lines) {
        incoming.add(line.odooId);
        const storedLine = lineById.get(line.odooId);
        const lineWriteDate = new Date(line.odooWriteDate);
        if (!storedLine) {
          linesCreated += 1;
          lineWrites.push(lineRecord(line));
          audit(BC_LINE_MODEL, line.odooId, 'created', [], lineWriteDate, odooId);
          continue;
        }
        if (new Date(storedLine.odoo_write_date) > lineWriteDate) continue;
        const changed = changedFields(storedLine.data, line.data);
        if (changed.length === 0 && storedLine.bc_odoo_id === odooId) continue;
        linesUpdated += 1;
        lineWrites.push(lineRecord(line));
        audit(BC_LINE_MODEL, line.odooId, 'updated', changed, lineWriteDate, odooId);
      }
      // Lines Odoo no longer lists under this BC: gone from Odoo (or moved, and re-parented above).
      let linesDeleted = 0;
      for (const storedLine of linesByBc.get(odooId) ?? []) {
        if (incoming.has(storedLine.odoo_id)) continue;
        linesDeleted += 1;
        lineDeletes.push(storedLine.odoo_id);
        audit(
          BC_LINE_MODEL,
          storedLine.odoo_id,
          'deleted',
          [],
          new Date(storedLine.odoo_write_date),
          odooId,
        );
      }
      return { odooId, action, linesCreated, linesUpdated, linesDeleted };
    });

    if (bcWrites.length > 0) {
      await tx.execute(sql`
        insert into scrap_dimagaz_bc (odoo_id, name, state, partner_id, partner_name, date_order, date_planned,
          amount_untaxed, amount_tax, amount_total, currency_id, currency_name, company_id, origin, active,
          odoo_create_date, odoo_write_date, data)
        select odoo_id, name, state, partner_id, partner_name, date_order, date_planned, amount_untaxed, amount_tax,
          amount_total, currency_id, currency_name, company_id, origin, active, odoo_create_date, odoo_write_date, data
        from jsonb_to_recordset(${json(bcWrites)}) as x(odoo_id int, name text, state text, partner_id int,
          partner_name text, date_order timestamptz, date_planned timestamptz, amount_untaxed numeric, amount_tax numeric,
          amount_total numeric, currency_id int, currency_name text, company_id int, origin text, active boolean,
          odoo_create_date timestamptz, odoo_write_date timestamptz, data jsonb)
        on conflict (odoo_id) do update set
          name = excluded.name, state = excluded.state, partner_id = excluded.partner_id,
          partner_name = excluded.partner_name, date_order = excluded.date_order, date_planned = excluded.date_planned,
          amount_untaxed = excluded.amount_untaxed, amount_tax = excluded.amount_tax, amount_total = excluded.amount_total,
          currency_id = excluded.currency_id, currency_name = excluded.currency_name, company_id = excluded.company_id,
          origin = excluded.origin, active = excluded.active, odoo_create_date = excluded.odoo_create_date,
          odoo_write_date = excluded.odoo_write_date, data = excluded.data, archived_at = null, archive_reason = null,
          synced_at = now()
        where scrap_dimagaz_bc.odoo_write_date <= excluded.odoo_write_date`);
    }
    if (lineDeletes.length > 0) {
      await tx.execute(
        sql`delete from scrap_dimagaz_bc_line where odoo_id = any(${intArray(lineDeletes)}::int[])`,
      );
    }
    if (lineWrites.length > 0) {
      await tx.execute(sql`
        insert into scrap_dimagaz_bc_line (odoo_id, bc_odoo_id, sequence, product_id, product_name, name, product_qty,
          qty_received, price_unit, price_subtotal, odoo_write_date, data)
        select odoo_id, bc_odoo_id, sequence, product_id, product_name, name, product_qty, qty_received, price_unit,
          price_subtotal, odoo_write_date, data
        from jsonb_to_recordset(${json(lineWrites)}) as x(odoo_id int, bc_odoo_id int, sequence int, product_id int,
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
    if (audits.length > 0) {
      await tx.execute(sql`
        insert into sync_audit (run_id, model, odoo_id, bc_odoo_id, action, changed_fields, odoo_write_date)
        select run_id, model, odoo_id, bc_odoo_id, action, changed_fields, odoo_write_date
        from jsonb_to_recordset(${json(audits)}) as x(run_id bigint, model text, odoo_id int, bc_odoo_id int,
          action text, changed_fields jsonb, odoo_write_date timestamptz)`);
    }
    return outcomes;
  });
}
