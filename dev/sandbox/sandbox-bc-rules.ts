/**
 * What Odoo's purchase module computes on its own, reproduced for BCs and their lines: default
 * values, a line's subtotal and the BC's untaxed/tax/total amounts, a new line's fields taken
 * from its BC, and a BC moved (totals, `write_date`) when a line changes through it.
 */
import type { Row } from './sandbox-domain.js';
import { BC_LINE_MODEL, BC_MODEL } from './sandbox-models.js';
import type { SandboxTable, SandboxTables } from './sandbox-tables.js';

/** Who calls and when: the transaction a mutation belongs to. */
export interface TransactionInfo {
  uid: number;
  nowMicros: number;
}

export function defaultValues(
  table: SandboxTable,
  nextBcName: () => string,
  tx: TransactionInfo,
  given: Record<string, unknown>,
): Record<string, unknown> {
  switch (table.spec.name) {
    case BC_MODEL:
      return {
        name: 'name' in given ? null : nextBcName(),
        state: 'draft',
        priority: '0',
        active: true,
        date_order: tx.nowMicros,
        currency_id: 1,
        company_id: 1,
        user_id: tx.uid,
      };
    case BC_LINE_MODEL:
      return { sequence: 10, product_qty: 1, qty_received: 0, price_unit: 0 };
    case 'res.partner':
      return { active: true };
    default:
      return {};
  }
}

export function bumpBcs(tables: SandboxTables, ids: number[], tx: TransactionInfo): void {
  const bcs = tables.requireTable(BC_MODEL);
  for (const id of ids) {
    const bc = bcs.rows.get(id);
    if (bc === undefined) continue;
    recomputeAmounts(tables, bc);
    bc.write_date = tx.nowMicros;
    bc.write_uid = tx.uid;
  }
}

export function fillLineFromBc(tables: SandboxTables, row: Row): void {
  const bc =
    typeof row.bc_id === 'number' ? tables.table(BC_MODEL)?.rows.get(row.bc_id) : undefined;
  if (bc === undefined) return;
  row.state ??= bc.state;
  row.currency_id ??= bc.currency_id;
  row.date_planned ??= bc.date_planned;
  if (row.name === null && typeof row.product_id === 'number')
    row.name = tables.displayName('product.product', row.product_id);
}

export function recomputeAmounts(tables: SandboxTables, bc: Row): void {
  const lines = tables.requireTable(BC_LINE_MODEL);
  const taxes = tables.requireTable('account.tax');
  let untaxed = 0;
  let tax = 0;
  for (const lineId of lines.index.get('bc_id')?.get(bc.id) ?? []) {
    const line = lines.rows.get(lineId);
    if (line === undefined) continue;
    const amount = (line.price_subtotal as number | null) ?? 0;
    untaxed += amount;
    for (const taxId of (line.taxes_id as number[] | null) ?? []) {
      tax += (amount * ((taxes.rows.get(taxId)?.amount as number | null) ?? 0)) / 100;
    }
  }
  bc.amount_untaxed = round2(untaxed);
  bc.amount_tax = round2(tax);
  bc.amount_total = round2(untaxed + tax);
}

/** Recomputes a BC's stored totals from its lines without writing it (the generator's path). */
export function recomputeTotals(tables: SandboxTables, id: number): void {
  const bc = tables.requireTable(BC_MODEL).rows.get(id);
  if (bc !== undefined) recomputeAmounts(tables, bc);
}

export function subtotal(line: Row): number {
  return round2(
    ((line.product_qty as number | null) ?? 0) * ((line.price_unit as number | null) ?? 0),
  );
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
