/**
 * The sandbox's journal entries, shaped on Odoo's account module: moves of every type and state
 * with lines through `move_id`, numbers from each type's sequence once posted, amounts stored
 * from the lines, no `active` field; a line changed on its own moves its move's `write_date`
 * only when the move's amounts change; x2many commands on `line_ids` and `tax_ids`.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../dev/sandbox/odoo-sandbox.js';
import { useSandbox, type SandboxHarness } from './sandbox-harness.js';
import { sandboxWire } from './sandbox-wire.js';

const START = new Date('2025-06-02T09:00:00.000Z');
const clock = createManualClock(START);
let harness: SandboxHarness;
useSandbox(
  { orders: 5, partners: 30, moves: 120, linesPerMove: 3, seed: 11, clock: clock.source },
  (started) => (harness = started),
);
const { executeKw, value, fault } = sandboxWire(() => harness);
const control = () => harness.sandbox.control;
const micros = (iso: string) => Date.parse(iso) * 1000;

type Move = Record<string, unknown> & { id: number };
const moves = (): Move[] =>
  control().records('account.move', {
    load: '',
    fields: [...control().storedFields('account.move'), 'display_name'],
  });
const lines = (): Move[] => control().records('account.move.line', { load: '' });
const round2 = (value: number) => Math.round(value * 100) / 100;

describe('generated journal entries', () => {
  it('has every type and state, numbers once posted, drafts shown as Odoo shows them', () => {
    const all = moves();
    expect(all).toHaveLength(120);
    expect(new Set(all.map((move) => move.state))).toEqual(new Set(['draft', 'posted', 'cancel']));
    expect(new Set(all.map((move) => move.move_type)).size).toBeGreaterThanOrEqual(6);
    for (const move of all) {
      if (move.state === 'posted')
        expect(move.name).toMatch(/^(INV|RINV|BILL|RBILL|RCPT|PREC|MISC)\/\d{4}\/\d{5}$/);
      if (move.state === 'draft') {
        expect(move.name).toBe('/');
        expect(move.display_name).toMatch(new RegExp(`^Draft .+ \\(\\* ${move.id}\\)`));
      }
      if (move.move_type === 'entry') expect(move.invoice_date).toBe(false);
    }
    expect(all.some((move) => move.partner_id === false)).toBe(true);
  });

  it('stores amounts computed from the lines, with 0, 1 or 2 taxes per line', () => {
    const taxRates = new Map(
      control()
        .records('account.tax', { fields: ['amount'] })
        .map((tax) => [tax.id, tax.amount as number]),
    );
    const byMove = new Map<number, Move[]>();
    for (const line of lines())
      byMove.set(line.move_id as number, [...(byMove.get(line.move_id as number) ?? []), line]);
    expect(new Set(lines().map((line) => (line.tax_ids as number[]).length))).toEqual(
      new Set([0, 1, 2]),
    );
    for (const move of moves()) {
      const own = byMove.get(move.id) ?? [];
      expect(own).toHaveLength(3);
      let untaxed = 0;
      let total = 0;
      for (const line of own) {
        const subtotal = round2((line.quantity as number) * (line.price_unit as number));
        const tax = (line.tax_ids as number[]).reduce(
          (sum, id) => sum + (subtotal * taxRates.get(id)!) / 100,
          0,
        );
        expect(line.price_subtotal).toBe(subtotal);
        expect(line.price_total).toBe(round2(subtotal + tax));
        expect((line.debit as number) - (line.credit as number)).toBeCloseTo(
          line.balance as number,
          6,
        );
        expect(line.move_name).toBe(move.name);
        expect(line.date).toBe(move.date);
        untaxed += subtotal;
        total += line.price_total as number;
      }
      expect(move.amount_untaxed).toBe(round2(untaxed));
      expect(move.amount_total).toBe(round2(total));
    }
  });

  it('has no active field: no implicit filter, and no action_archive', async () => {
    const count = await value(executeKw('account.move', 'search_count', [[]]));
    expect(count).toBe(control().ids('account.move').length);
    const { faultCode, faultString } = await fault(
      executeKw('account.move', 'action_archive', [[1]]),
    );
    expect(faultCode).toBe(1);
    expect(faultString).toContain(
      "AttributeError: The method 'account.move.action_archive' does not exist",
    );
  });

  it('sends line_ids in the lines’ order and move_id as [id, display name]', async () => {
    const move = moves().find(
      (candidate) => candidate.state === 'posted' && candidate.ref !== false,
    )!;
    const [read] = (await value(
      executeKw('account.move', 'read', [[move.id]], { fields: ['line_ids'] }),
    )) as Move[];
    const ids = read!.line_ids as number[];
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const [line] = (await value(
      executeKw('account.move.line', 'read', [[ids[0]]], { fields: ['move_id'] }),
    )) as Move[];
    expect(line!.move_id).toEqual([move.id, `${move.name as string} (${move.ref as string})`]);
  });
});

describe('a line changed on its own', () => {
  it('moves its move when the amounts change, not when only its label does', () => {
    const move = moves().find((candidate) => candidate.state === 'draft')!;
    const [line] = lines().filter((candidate) => candidate.move_id === move.id);
    const before = control().writeDateMicros('account.move', move.id);
    clock.set(new Date('2025-06-02T10:00:00.000Z'));
    control().write('account.move.line', line!.id, { name: 'Relabelled & <ok>' });
    expect(control().writeDateMicros('account.move', move.id)).toBe(before);
    expect(control().writeDateMicros('account.move.line', line!.id)).toBe(
      micros('2025-06-02T10:00:00Z'),
    );
    clock.set(new Date('2025-06-02T10:05:00.000Z'));
    control().write('account.move.line', line!.id, { price_unit: 1234.5, tax_ids: [[5]] });
    const [after] = control().records('account.move', {
      ids: [move.id],
      fields: ['amount_untaxed'],
    });
    const others = lines()
      .filter((candidate) => candidate.move_id === move.id)
      .reduce((sum, candidate) => sum + (candidate.price_subtotal as number), 0);
    expect(after!.amount_untaxed).toBe(round2(others));
    expect(control().writeDateMicros('account.move', move.id)).toBe(micros('2025-06-02T10:05:00Z'));
  });

  it('deleted: the move’s amounts drop and its stamp moves', () => {
    const move = moves().find((candidate) => (candidate.amount_total as number) > 0)!;
    const [line] = lines().filter((candidate) => candidate.move_id === move.id);
    clock.set(new Date('2025-06-02T10:10:00.000Z'));
    control().unlink('account.move.line', line!.id);
    const [after] = control().records('account.move', {
      ids: [move.id],
      fields: ['amount_total', 'line_ids'],
    });
    expect(after!.line_ids).not.toContain(line!.id);
    expect(after!.amount_total).toBe(
      round2((move.amount_total as number) - (line!.price_total as number)),
    );
    expect(control().writeDateMicros('account.move', move.id)).toBe(micros('2025-06-02T10:10:00Z'));
  });
});

describe('writes through the API', () => {
  it('creates a bill with its lines, posts it (next number of its sequence), lines follow', async () => {
    const posted = moves().filter(
      (move) => move.move_type === 'in_invoice' && move.state !== 'draft',
    );
    const id = (await value(
      executeKw('account.move', 'create', [
        {
          move_type: 'in_invoice',
          partner_id: 3,
          date: '2025-06-01',
          line_ids: [
            [0, 0, { name: 'Butane', quantity: 2, price_unit: 50, tax_ids: [[6, 0, [1, 2]]] }],
            [0, 0, { product_id: 2, quantity: 1, price_unit: 10 }],
          ],
        },
      ]),
    )) as number;
    const [draft] = (await value(
      executeKw('account.move', 'read', [[id]], {
        fields: ['name', 'state', 'amount_untaxed', 'amount_total', 'line_ids'],
      }),
    )) as Move[];
    expect(draft).toMatchObject({
      name: '/',
      state: 'draft',
      amount_untaxed: 110,
      amount_total: 144,
    });
    clock.set(new Date('2025-06-02T11:00:00.000Z'));
    await value(executeKw('account.move', 'write', [[id], { state: 'posted' }]));
    const year2025 = posted.filter((move) => (move.name as string).startsWith('BILL/2025/')).length;
    const [done] = (await value(
      executeKw('account.move', 'read', [[id]], { fields: ['name'] }),
    )) as Move[];
    expect(done!.name).toBe(`BILL/2025/${String(year2025 + 1).padStart(5, '0')}`);
    for (const lineId of draft!.line_ids as number[]) {
      expect(
        control().records('account.move.line', { ids: [lineId], fields: ['move_name'] })[0]!
          .move_name,
      ).toBe(done!.name);
      expect(control().writeDateMicros('account.move.line', lineId)).toBe(
        micros('2025-06-02T11:00:00Z'),
      );
    }
  });

  it('applies tax_ids commands (4 link, 3 unlink, 5 clear, a plain list) to the existing links', async () => {
    const [line] = lines();
    const set = async (vals: unknown) => {
      await value(executeKw('account.move.line', 'write', [[line!.id], { tax_ids: vals }]));
      return control().records('account.move.line', { ids: [line!.id], fields: ['tax_ids'] })[0]!
        .tax_ids;
    };
    expect(await set([[5]])).toEqual([]);
    expect(await set([[4, 3]])).toEqual([3]);
    expect(await set([[4, 1]])).toEqual([1, 3]);
    expect(await set([[3, 3]])).toEqual([1]);
    expect(await set([2, 4])).toEqual([2, 4]);
    const missing = await fault(
      executeKw('account.move.line', 'write', [[line!.id], { tax_ids: [[4, 999]] }]),
    );
    expect(missing.faultCode).toBe(2);
  });

  it('deletes the lines with their move (ondelete cascade), and a line detached from line_ids', async () => {
    const move = moves().find((candidate) => candidate.state === 'draft')!;
    const own = lines()
      .filter((line) => line.move_id === move.id)
      .map((line) => line.id);
    await value(executeKw('account.move', 'write', [[move.id], { line_ids: [[3, own[0]]] }]));
    expect(control().ids('account.move.line')).not.toContain(own[0]);
    expect(await value(executeKw('account.move', 'unlink', [[move.id]]))).toBe(true);
    expect(await value(executeKw('account.move.line', 'search', [[['id', 'in', own]]]))).toEqual(
      [],
    );
  });
});
