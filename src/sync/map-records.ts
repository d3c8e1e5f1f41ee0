/**
 * Pure mapping from Odoo records (as Odoo sent them) to rows of the copy: typed columns for what
 * the API filters and sorts on, and `data` holding the record untouched, so a field Odoo adds
 * later is copied without a migration.
 */
import {
  parseMany2one,
  parseOdooDatetime,
  parseOdooFloat,
  parseOdooInteger,
  fromOdooString,
} from '../clients/odoo/odoo-values.js';
import type { OdooRecord } from '../clients/odoo/odoo-types.js';
import type { NewBcLineRow, NewBcRow } from '../db/schema/index.js';
import { SyncDataError } from './sync-errors.js';
import { BC_LINE_MODEL, BC_MODEL, LINE_PARENT_FIELD } from './models.js';

/** One BC as Odoo sent it, with every line it has. */
export interface BcPayload {
  readonly bc: OdooRecord;
  readonly lines: readonly OdooRecord[];
}

/** One BC mapped to the rows of the copy. */
export interface MappedBc {
  readonly odooId: number;
  readonly bc: NewBcRow;
  readonly lines: readonly NewBcLineRow[];
}

/**
 * Maps a BC and its lines, checking that every line is the BC's.
 * @throws SyncDataError when a record cannot be copied (an empty `write_date`, a line of another BC)
 */
export function mapBc(payload: BcPayload): MappedBc {
  const bc = toBcRow(payload.bc);
  const lines = payload.lines.map((record) => {
    const line = toBcLineRow(record);
    if (line.bcOdooId !== bc.odooId)
      throw new SyncDataError(
        `${BC_LINE_MODEL} ${line.odooId} belongs to BC ${line.bcOdooId}, not ${bc.odooId}`,
      );
    return line;
  });
  return { odooId: bc.odooId, bc, lines };
}

/** A decimal string for a numeric column: Odoo's double exactly as JavaScript prints it. */
function decimal(value: unknown): string | null {
  const number = parseOdooFloat(value);
  return number === null ? null : String(number);
}

/**
 * A field parsed for its column; undefined when the record does not have it. A plain function and
 * module-level parsers: a page maps thousands of records, and a closure per field was most of
 * what mapping allocated.
 */
function field<T>(
  record: OdooRecord,
  model: string,
  name: string,
  parse: (value: unknown) => T,
): T | undefined {
  if (!(name in record)) return undefined;
  try {
    return parse(record[name]);
  } catch (error) {
    throw new SyncDataError(
      `${model} ${String(record.id)}: field ${name}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** The record's `write_date`, which every guard and watermark relies on. */
export function writeDateOf(record: OdooRecord, model: string): Date {
  const date = field(record, model, 'write_date', parseOdooDatetime);
  if (!date) throw new SyncDataError(`${model} ${record.id}: write_date is empty`);
  return date;
}

export function toBcRow(record: OdooRecord): NewBcRow {
  const m = BC_MODEL;
  const partner = field(record, m, 'partner_id', parseMany2one);
  const currency = field(record, m, 'currency_id', parseMany2one);
  const company = field(record, m, 'company_id', parseMany2one);
  return {
    odooId: record.id,
    name: field(record, m, 'name', fromOdooString) ?? null,
    state: field(record, m, 'state', fromOdooString) ?? null,
    partnerId: partner?.id ?? null,
    partnerName: partner?.name ?? null,
    dateOrder: field(record, m, 'date_order', parseOdooDatetime) ?? null,
    datePlanned: field(record, m, 'date_planned', parseOdooDatetime) ?? null,
    amountUntaxed: field(record, m, 'amount_untaxed', decimal) ?? null,
    amountTax: field(record, m, 'amount_tax', decimal) ?? null,
    amountTotal: field(record, m, 'amount_total', decimal) ?? null,
    currencyId: currency?.id ?? null,
    currencyName: currency?.name ?? null,
    companyId: company?.id ?? null,
    origin: field(record, m, 'origin', fromOdooString) ?? null,
    // A model without `active` has no archived records: everything it returns is live.
    active: 'active' in record ? record.active !== false : true,
    odooCreateDate: field(record, m, 'create_date', parseOdooDatetime) ?? null,
    odooWriteDate: writeDateOf(record, m),
    data: record,
  };
}

/** The BC a line belongs to, from its `bc_id` many2one. */
export function lineParentId(record: OdooRecord): number {
  const parent = field(record, BC_LINE_MODEL, LINE_PARENT_FIELD, parseMany2one);
  if (!parent)
    throw new SyncDataError(`${BC_LINE_MODEL} ${record.id}: ${LINE_PARENT_FIELD} is empty`);
  return parent.id;
}

export function toBcLineRow(record: OdooRecord): NewBcLineRow {
  const m = BC_LINE_MODEL;
  const product = field(record, m, 'product_id', parseMany2one);
  return {
    odooId: record.id,
    bcOdooId: lineParentId(record),
    sequence: field(record, m, 'sequence', parseOdooInteger) ?? null,
    productId: product?.id ?? null,
    productName: product?.name ?? null,
    name: field(record, m, 'name', fromOdooString) ?? null,
    productQty: field(record, m, 'product_qty', decimal) ?? null,
    qtyReceived: field(record, m, 'qty_received', decimal) ?? null,
    priceUnit: field(record, m, 'price_unit', decimal) ?? null,
    priceSubtotal: field(record, m, 'price_subtotal', decimal) ?? null,
    odooWriteDate: writeDateOf(record, m),
    data: record,
  };
}

/** Names of the fields whose values differ between two stored `data` objects. */
export function changedFields(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  const changed: string[] = [];
  for (const name of names) {
    if (JSON.stringify(before[name]) !== JSON.stringify(after[name])) changed.push(name);
  }
  return changed.sort();
}
