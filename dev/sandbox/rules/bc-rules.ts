/**
 * What Odoo's purchase module computes on its own, reproduced for BCs and their lines: default
 * values, a line's subtotal and the BC's untaxed/tax/total amounts, a new line's fields taken
 * from its BC, and a BC moved (totals, `write_date`) when a line changes through it.
 *
 * A line written through `dimagaz.bc.line` does not move its BC (real lines change on their own,
 * no stored compute on the BC is recomputed then); `bumpParent` asks for the BC's totals to be
 * recomputed and its `write_date` moved, as a write through the BC would.
 */
import type { Row } from '../sandbox-domain.js';
import { BC_LINE_MODEL, BC_MODEL } from '../models/bc-models.js';
import type { SandboxTables } from '../sandbox-tables.js';
import { round2, stamp, type ModelRules, type TransactionInfo } from './model-rules.js';

export const BC_RULES: ModelRules = {
  defaults: (given, ctx) => ({
    name: 'name' in given ? null : `P${String(ctx.nextNumber(BC_MODEL)).padStart(5, '0')}`,
    state: 'draft',
    priority: '0',
    active: true,
    date_order: ctx.tx.nowMicros,
    currency_id: 1,
    company_id: 1,
    user_id: ctx.tx.uid,
  }),
  created(rows, ctx) {
    for (const bc of rows) recomputeAmounts(ctx.tables, bc);
  },
  written(rows, changed, ctx) {
    if (!changed.has('line_ids')) return;
    for (const bc of rows) recomputeAmounts(ctx.tables, bc);
  },
  recomputeStored(rows, tables) {
    for (const bc of rows) recomputeAmounts(tables, bc);
  },
};

export const BC_LINE_RULES: ModelRules = {
  defaults: () => ({ sequence: 10, product_qty: 1, qty_received: 0, price_unit: 0 }),
  computeNew(row, ctx) {
    fillLineFromBc(ctx.tables, row);
    row.price_subtotal = subtotal(row);
  },
  written(rows, changed, ctx, options) {
    if (changed.has('product_qty') || changed.has('price_unit'))
      for (const row of rows) row.price_subtotal = subtotal(row);
    if (options.bumpParent === true) bumpBcs(ctx.tables, parentsOf(rows), ctx.tx);
  },
  unlinked(rows, ctx, options) {
    if (options.bumpParent === true) bumpBcs(ctx.tables, parentsOf(rows), ctx.tx);
  },
  displayName(row, lang, tables) {
    const bc = typeof row.bc_id === 'number' ? tables.displayName(BC_MODEL, row.bc_id, lang) : '';
    return `${bc || ''}: ${(row.name as string | null) ?? ''}`;
  },
};

function parentsOf(lines: readonly Row[]): number[] {
  const parents = new Set<number>();
  for (const line of lines) if (typeof line.bc_id === 'number') parents.add(line.bc_id);
  return [...parents];
}

function bumpBcs(tables: SandboxTables, ids: number[], tx: TransactionInfo): void {
  const bcs = tables.requireTable(BC_MODEL);
  for (const id of ids) {
    const bc = bcs.rows.get(id);
    if (bc === undefined) continue;
    recomputeAmounts(tables, bc);
    stamp(bc, tx);
  }
}

function fillLineFromBc(tables: SandboxTables, row: Row): void {
  const bc =
    typeof row.bc_id === 'number' ? tables.table(BC_MODEL)?.rows.get(row.bc_id) : undefined;
  if (bc === undefined) return;
  row.state ??= bc.state;
  row.currency_id ??= bc.currency_id;
  row.date_planned ??= bc.date_planned;
  if (row.name === null && typeof row.product_id === 'number')
    row.name = tables.displayName('product.product', row.product_id) || null;
}

function recomputeAmounts(tables: SandboxTables, bc: Row): void {
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

function subtotal(line: Row): number {
  return round2(
    ((line.product_qty as number | null) ?? 0) * ((line.price_unit as number | null) ?? 0),
  );
}
