/**
 * What Odoo's account module computes on journal entries, reduced to what a copy can observe:
 *
 * - a line's subtotal and total (its taxes), and its balance, debit and credit in the company's
 *   currency, signed by the move's type (a customer invoice's product lines are credits);
 * - the move's untaxed, tax and total amounts, stored computes over its lines;
 * - the line's stored related fields `move_name` and `date`, copies of its move's;
 * - a move's number, given by its type's sequence (`INV/2025/00001`) when it is posted, `/`
 *   before; its display name as `_get_move_display_name` writes it ("Draft Bill (* 12)").
 *
 * When a line changes on its own (written, created or deleted through `account.move.line`), the
 * move's amounts are recomputed, and the move's `write_date` moves if an amount changed: Odoo
 * flushes a recomputed stored field with `_write_multi`, which stamps the record. A change that
 * leaves the amounts as they were (a line's label) leaves the move's stamp alone. Likewise a
 * move's new number or date moves the stamps of the lines whose related copy changed.
 *
 * The sandbox's moves hold their product lines only: no tax, receivable or payable lines are
 * generated, so a move is not balanced; amounts are in the move's currency at a rate of 1.
 */
import type { Row } from '../sandbox-domain.js';
import { MOVE_LINE_MODEL, MOVE_MODEL, type MoveType } from '../models/account-models.js';
import type { SandboxTable, SandboxTables } from '../sandbox-tables.js';
import { formatOdooDate } from '../sandbox-time.js';
import {
  round2,
  stamp,
  type ModelRules,
  type RuleContext,
  type WriteOptions,
} from './model-rules.js';

/** res.currency 1 (MAD) is the company's currency. */
const COMPANY_CURRENCY = 1;

const SEQUENCE_PREFIXES: Record<MoveType, string> = {
  entry: 'MISC',
  out_invoice: 'INV',
  out_refund: 'RINV',
  in_invoice: 'BILL',
  in_refund: 'RBILL',
  out_receipt: 'RCPT',
  in_receipt: 'PREC',
};

const DRAFT_LABELS: Record<MoveType, string> = {
  entry: 'Draft Entry',
  out_invoice: 'Draft Invoice',
  out_refund: 'Draft Credit Note',
  in_invoice: 'Draft Bill',
  in_refund: 'Draft Vendor Credit Note',
  out_receipt: 'Draft Sales Receipt',
  in_receipt: 'Draft Purchase Receipt',
};

/** Product lines of these types are debits; of the others, credits. */
const DEBIT_TYPES = new Set<MoveType>(['entry', 'in_invoice', 'in_receipt', 'out_refund']);

/** The move's number for a posted move: its type's prefix, its year, a 5-digit sequence. */
export function moveNumber(
  moveType: MoveType,
  date: string,
  next: (key: string) => number,
): string {
  const prefix = SEQUENCE_PREFIXES[moveType];
  const year = date.slice(0, 4);
  return `${prefix}/${year}/${String(next(`${MOVE_MODEL}:${prefix}/${year}`)).padStart(5, '0')}`;
}

export const MOVE_RULES: ModelRules = {
  defaults: (_given, ctx) => ({
    name: '/',
    move_type: 'entry',
    state: 'draft',
    date: formatOdooDate(ctx.tx.nowMicros),
    currency_id: 1,
  }),
  computeNew(row, ctx) {
    numberIfPosted(row, ctx);
  },
  created(rows, ctx) {
    const lines = ctx.tables.requireTable(MOVE_LINE_MODEL);
    for (const move of rows) recomputeMoveAmounts(ctx.tables, lines, move);
  },
  written(rows, changed, ctx) {
    const lines = ctx.tables.requireTable(MOVE_LINE_MODEL);
    for (const move of rows) {
      if (changed.has('state')) numberIfPosted(move, ctx);
      if (['name', 'date', 'state', 'move_type'].some((field) => changed.has(field)))
        refreshLines(ctx.tables, lines, move, ctx);
      recomputeMoveAmounts(ctx.tables, lines, move);
    }
  },
  recomputeStored(rows, tables) {
    const lines = tables.requireTable(MOVE_LINE_MODEL);
    for (const move of rows) {
      for (const id of lines.index.get('move_id')?.get(move.id) ?? []) {
        const line = lines.rows.get(id);
        if (line === undefined) continue;
        line.move_name = move.name;
        line.date = move.date;
        line.company_currency_id = COMPANY_CURRENCY;
        computeLineAmounts(tables, line, move);
      }
      recomputeMoveAmounts(tables, lines, move);
    }
  },
  displayName(row) {
    const moveType = row.move_type as MoveType;
    let name = row.state === 'draft' ? `${DRAFT_LABELS[moveType]} ` : '';
    const number = row.name as string | null;
    name += number === null || number === '' || number === '/' ? `(* ${row.id})` : number;
    const ref = row.ref as string | null;
    return ref ? `${name} (${shorten(ref, 50)})` : name;
  },
};

export const MOVE_LINE_RULES: ModelRules = {
  defaults: () => ({ sequence: 10, quantity: 1, price_unit: 0 }),
  computeNew(row, ctx) {
    const move = moveOf(ctx.tables, row);
    if (move === undefined) return;
    row.move_name = move.name;
    row.date = move.date;
    row.currency_id ??= move.currency_id;
    row.company_currency_id = COMPANY_CURRENCY;
    if (row.name === null && typeof row.product_id === 'number')
      row.name = ctx.tables.displayName('product.product', row.product_id) || null;
    computeLineAmounts(ctx.tables, row, move);
  },
  created(rows, ctx, options) {
    // Again now that the line's taxes (an x2many, set after its insertion) are known.
    for (const row of rows) {
      const move = moveOf(ctx.tables, row);
      if (move !== undefined) computeLineAmounts(ctx.tables, row, move);
    }
    settleMoves(ctx, movesOf(rows), options);
  },
  tracked: ['move_id'],
  written(rows, changed, ctx, options, before) {
    const moves = movesOf(rows);
    for (const row of rows) {
      const move = moveOf(ctx.tables, row);
      if (move === undefined) continue;
      if (changed.has('move_id')) {
        row.move_name = move.name;
        row.date = move.date;
      }
      if (['quantity', 'price_unit', 'tax_ids', 'move_id'].some((field) => changed.has(field)))
        computeLineAmounts(ctx.tables, row, move);
      const previous = before?.get(row.id)?.move_id;
      if (typeof previous === 'number') moves.add(previous);
    }
    settleMoves(ctx, moves, options);
  },
  unlinked(rows, ctx, options) {
    settleMoves(ctx, movesOf(rows), options);
  },
  displayName(row, lang, tables) {
    const move = moveOf(tables, row);
    const label =
      (row.name as string | null) ||
      (typeof row.product_id === 'number'
        ? tables.displayName('product.product', row.product_id, lang)
        : false);
    return [move?.name as string | null, label].filter((part) => part).join(' ');
  },
};

function moveOf(tables: SandboxTables, line: Row): Row | undefined {
  return typeof line.move_id === 'number'
    ? tables.requireTable(MOVE_MODEL).rows.get(line.move_id)
    : undefined;
}

function movesOf(lines: readonly Row[]): Set<number> {
  const moves = new Set<number>();
  for (const line of lines) if (typeof line.move_id === 'number') moves.add(line.move_id);
  return moves;
}

/** A posted move without a number gets the next one of its type's sequence (`_compute_name`). */
function numberIfPosted(move: Row, ctx: RuleContext): void {
  const name = move.name as string | null;
  if (move.state !== 'posted' || (name !== null && name !== '' && name !== '/')) return;
  move.name = moveNumber(move.move_type as MoveType, move.date as string, (key) =>
    ctx.nextNumber(key),
  );
}

/** The lines' related copies of the move and their balances; a line that changed is stamped. */
function refreshLines(
  tables: SandboxTables,
  lines: SandboxTable,
  move: Row,
  ctx: RuleContext,
): void {
  for (const id of lines.index.get('move_id')?.get(move.id) ?? []) {
    const line = lines.rows.get(id);
    if (line === undefined) continue;
    const before = [line.move_name, line.date, line.balance];
    line.move_name = move.name;
    line.date = move.date;
    computeLineAmounts(tables, line, move);
    if (before[0] !== line.move_name || before[1] !== line.date || before[2] !== line.balance)
      stamp(line, ctx.tx);
  }
}

function computeLineAmounts(tables: SandboxTables, line: Row, move: Row): void {
  const taxes = tables.requireTable('account.tax');
  const subtotal = round2(
    ((line.quantity as number | null) ?? 0) * ((line.price_unit as number | null) ?? 0),
  );
  let tax = 0;
  for (const taxId of (line.tax_ids as number[] | null) ?? [])
    tax += (subtotal * ((taxes.rows.get(taxId)?.amount as number | null) ?? 0)) / 100;
  line.price_subtotal = subtotal;
  line.price_total = round2(subtotal + tax);
  const balance = DEBIT_TYPES.has(move.move_type as MoveType) ? subtotal : -subtotal;
  line.balance = balance === 0 ? 0 : balance;
  line.debit = Math.max(balance, 0);
  line.credit = Math.max(-balance, 0);
}

/** Recomputes the move's amounts from its lines; true when one of them changed. */
function recomputeMoveAmounts(tables: SandboxTables, lines: SandboxTable, move: Row): boolean {
  let untaxed = 0;
  let total = 0;
  for (const id of lines.index.get('move_id')?.get(move.id) ?? []) {
    const line = lines.rows.get(id);
    if (line === undefined) continue;
    untaxed += (line.price_subtotal as number | null) ?? 0;
    total += (line.price_total as number | null) ?? 0;
  }
  const next = { untaxed: round2(untaxed), total: round2(total) };
  const changed =
    move.amount_untaxed !== next.untaxed ||
    move.amount_total !== next.total ||
    move.amount_tax !== round2(next.total - next.untaxed);
  move.amount_untaxed = next.untaxed;
  move.amount_total = next.total;
  move.amount_tax = round2(next.total - next.untaxed);
  return changed;
}

/** After lines changed on their own: their moves' amounts, and the stamp of those that moved. */
function settleMoves(ctx: RuleContext, ids: Iterable<number>, options: WriteOptions): void {
  const moves = ctx.tables.requireTable(MOVE_MODEL);
  const lines = ctx.tables.requireTable(MOVE_LINE_MODEL);
  for (const id of ids) {
    const move = moves.rows.get(id);
    if (move === undefined) continue;
    if (recomputeMoveAmounts(ctx.tables, lines, move) || options.bumpParent === true)
      stamp(move, ctx.tx);
  }
}

/** Python's `textwrap.shorten(text, width, placeholder=' [...]')`. */
function shorten(text: string, width: number): string {
  const words = text.split(/\s+/).filter((word) => word !== '');
  const joined = words.join(' ');
  if (joined.length <= width) return joined;
  const placeholder = ' [...]';
  let out = '';
  for (const word of words) {
    const next = out === '' ? word : `${out} ${word}`;
    if (next.length + placeholder.length > width) break;
    out = next;
  }
  return `${out}${placeholder}`.trim();
}
