/**
 * The sandbox against the facts of docs/odoo.md (reading, the time model), checked on the raw
 * wire: the implicit active filter, default order, fields_get attributes, domains, datetime
 * truncation and microsecond comparisons, and the time model of long transactions.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../dev/sandbox/odoo-sandbox.js';
import { startSandbox, useSandbox, type SandboxHarness } from './sandbox-harness.js';
import { sandboxWire } from './sandbox-wire.js';

const START = new Date('2025-03-10T08:00:00.000Z');

let harness: SandboxHarness;

const clock: ManualClock = createManualClock(START);
useSandbox(
  { orders: 60, linesPerOrder: 2, seed: 3, clock: clock.source },
  (started) => (harness = started),
);

const { executeKw, value } = sandboxWire(() => harness);

describe('search semantics (docs/odoo.md, Reading)', () => {
  it('adds active = True unless active_test is false or the domain names active', async () => {
    const id = harness.sandbox.control.create('dimagaz.bc', {
      partner_id: 4,
      origin: 'archived-one',
    });
    harness.sandbox.control.archive('dimagaz.bc', id);
    const domain = [['origin', '=', 'archived-one']];
    expect(await value(executeKw('dimagaz.bc', 'search', [domain]))).toEqual([]);
    expect(
      await value(executeKw('dimagaz.bc', 'search', [domain], { context: { active_test: false } })),
    ).toEqual([id]);
    expect(
      await value(executeKw('dimagaz.bc', 'search', [[...domain, ['active', '=', false]]])),
    ).toEqual([id]);
    expect(await value(executeKw('dimagaz.bc', 'search_count', [domain]))).toBe(0);
    expect(await value(executeKw('dimagaz.bc', 'read', [[id]], { fields: ['active'] }))).toEqual([
      { id, active: false },
    ]);
  });

  it('orders by the model’s _order when no order is given (priority desc, id desc)', async () => {
    const ids = (await value(
      executeKw('dimagaz.bc', 'search', [[['id', '<=', 40]]], { context: { active_test: false } }),
    )) as number[];
    const records = harness.sandbox.control.records('dimagaz.bc', { fields: ['priority'], ids });
    const expected = [...records]
      .sort((a, b) => (a.priority === b.priority ? b.id - a.id : a.priority === '1' ? -1 : 1))
      .map((r) => r.id);
    expect(ids).toEqual(expected);
    expect(ids).not.toEqual([...ids].sort((a, b) => a - b));
  });

  it('honours order, limit and offset (False = no limit)', async () => {
    const all = (await value(
      executeKw('dimagaz.bc', 'search', [[]], {
        order: 'id',
        limit: false,
        context: { active_test: false },
      }),
    )) as number[];
    expect(all.length).toBe(harness.sandbox.control.ids('dimagaz.bc').length);
    expect(
      await value(
        executeKw('dimagaz.bc', 'search', [[]], {
          order: 'id asc',
          offset: 5,
          limit: 3,
          context: { active_test: false },
        }),
      ),
    ).toEqual(all.slice(5, 8));
    const byWrite = (await value(
      executeKw('dimagaz.bc', 'search_read', [[['id', '<=', 30]]], {
        fields: ['write_date'],
        order: 'write_date desc, id',
        context: { active_test: false },
      }),
    )) as Array<{ id: number; write_date: string }>;
    for (let i = 1; i < byWrite.length; i++)
      expect(byWrite[i - 1]!.write_date >= byWrite[i]!.write_date).toBe(true);
  });

  it('evaluates prefix domains with & | ! and the usual operators, with SQL NULL rules', async () => {
    const search = async (domain: unknown[]) =>
      new Set(
        (await value(
          executeKw('dimagaz.bc', 'search', [[['id', '<=', 60], ...domain]], {
            context: { active_test: false },
          }),
        )) as number[],
      );
    const records = harness.sandbox.control
      .records('dimagaz.bc', {
        fields: ['state', 'origin', 'user_id', 'name', 'amount_total'],
        load: '',
      })
      .filter((r) => r.id <= 60);
    const ids = (filter: (r: Record<string, unknown>) => boolean) =>
      new Set(records.filter(filter).map((r) => r.id));
    expect(await search(['|', ['state', '=', 'draft'], ['state', '=', 'cancel']])).toEqual(
      ids((r) => r.state === 'draft' || r.state === 'cancel'),
    );
    expect(await search(['!', ['state', 'in', ['draft', 'sent']]])).toEqual(
      ids((r) => r.state !== 'draft' && r.state !== 'sent'),
    );
    expect(await search([['state', 'not in', ['purchase']]])).toEqual(
      ids((r) => r.state !== 'purchase'),
    );
    expect(await search([['origin', '!=', 'x']])).toEqual(ids(() => true));
    expect(await search([['origin', '=', false]])).toEqual(ids((r) => r.origin === false));
    expect(await search([['user_id', '=?', false]])).toEqual(ids(() => true));
    expect(await search([['name', 'ilike', 'p0001']])).toEqual(
      ids((r) => String(r.name).toLowerCase().includes('p0001')),
    );
    expect(await search([['name', '=like', 'P0000_']])).toEqual(
      ids((r) => /^P0000.$/.test(String(r.name))),
    );
    expect(await search([['origin', 'not ilike', 'so']])).toEqual(
      ids((r) => r.origin === false || !String(r.origin).toLowerCase().includes('so')),
    );
    expect(
      await search([
        ['amount_total', '>', 1000],
        ['amount_total', '<=', 5_000_000],
      ]),
    ).toEqual(
      ids((r) => (r.amount_total as number) > 1000 && (r.amount_total as number) <= 5_000_000),
    );
  });

  it('search_read on lines by bc_id in [...] and reads x2many as id lists', async () => {
    const lines = (await value(
      executeKw('dimagaz.bc.line', 'search_read', [[['bc_id', 'in', [3, 4]]]], {
        fields: ['bc_id', 'taxes_id'],
        order: 'id',
        load: '',
      }),
    )) as Array<{ bc_id: number; taxes_id: unknown }>;
    expect(lines.map((line) => line.bc_id)).toEqual([3, 3, 4, 4]);
    for (const line of lines) expect(Array.isArray(line.taxes_id)).toBe(true);
  });

  it('fields_get honours attributes exactly', async () => {
    const two = (await value(
      executeKw('dimagaz.bc', 'fields_get', [], { attributes: ['type', 'store'] }),
    )) as Record<string, Record<string, unknown>>;
    expect(two.partner_id).toEqual({ store: true, type: 'many2one' });
    expect(two.line_count).toEqual({ store: false, type: 'integer' });
    expect(two.display_name).toEqual({ store: false, type: 'char' });
    const none = (await value(
      executeKw('dimagaz.bc', 'fields_get', [], { attributes: [] }),
    )) as Record<string, unknown>;
    expect(none.name).toEqual({});
    const all = (await value(executeKw('dimagaz.bc', 'fields_get', [['state']]))) as Record<
      string,
      Record<string, unknown>
    >;
    expect(Object.keys(all)).toEqual(['state']);
    expect(all.state?.selection).toContainEqual(['to approve', 'To Approve']);
    expect(all.state?.string).toBe('Status');
  });
});

describe('time model (docs/odoo.md, The time model)', () => {
  it('stamps write_date with the transaction start in microseconds and sends whole seconds', async () => {
    clock.set(new Date('2025-03-10T09:15:30.000Z'));
    clock.advanceMicros(123_456);
    const id = harness.sandbox.control.create('dimagaz.bc', { partner_id: 1 });
    expect(harness.sandbox.control.writeDateMicros('dimagaz.bc', id)).toBe(
      Date.parse('2025-03-10T09:15:30.000Z') * 1000 + 123_456,
    );
    const [record] = (await value(
      executeKw('dimagaz.bc', 'read', [[id]], { fields: ['write_date', 'create_date'] }),
    )) as Array<Record<string, unknown>>;
    expect(record).toEqual({
      id,
      write_date: '2025-03-10 09:15:30',
      create_date: '2025-03-10 09:15:30',
    });
  });

  it('compares datetimes in domains to the whole second on 19 (> the shown second does not match; = does), with the microseconds on 17', async () => {
    clock.set(new Date('2025-03-10T10:00:00.000Z'));
    clock.advanceMicros(250_000);
    const first = harness.sandbox.control.create('dimagaz.bc', {
      partner_id: 1,
      origin: 'same-second',
    });
    clock.advanceMicros(500_000);
    const second = harness.sandbox.control.create('dimagaz.bc', {
      partner_id: 1,
      origin: 'same-second',
    });
    const base = [['origin', '=', 'same-second']];
    const matching = async (operator: string, stamp: string) =>
      value(
        executeKw('dimagaz.bc', 'search', [[...base, ['write_date', operator, stamp]]], {
          order: 'id',
        }),
      );
    const both = [first, second];
    expect(await matching('>', '2025-03-10 10:00:00')).toEqual([]);
    expect(await matching('>=', '2025-03-10 10:00:00.600000')).toEqual(both);
    expect(await matching('=', '2025-03-10 10:00:00')).toEqual(both);
    expect(await matching('<=', '2025-03-10 10:00:00')).toEqual(both);
    expect(await matching('<', '2025-03-10 10:00:01')).toEqual(both);
    // Odoo 17 compares the stored microseconds.
    const older = await startSandbox({
      serverVersion: '17.0',
      orders: 1,
      clock: createManualClock(new Date('2025-03-10T10:00:00.250Z')).source,
    });
    try {
      const id = older.sandbox.control.create('dimagaz.bc', { partner_id: 1, origin: 'o17' });
      const on17 = async (operator: string) =>
        older.client('jsonrpc').search('dimagaz.bc', [
          ['origin', '=', 'o17'],
          ['write_date', operator, '2025-03-10 10:00:00'],
        ]);
      expect({ '>': await on17('>'), '=': await on17('=') }).toEqual({ '>': [id], '=': [] });
    } finally {
      await older.close();
    }
    const read = (await value(
      executeKw('dimagaz.bc', 'read', [[first, second]], { fields: ['write_date'] }),
    )) as Array<{ write_date: string }>;
    expect(read.map((record) => record.write_date)).toEqual([
      '2025-03-10 10:00:00',
      '2025-03-10 10:00:00',
    ]);
  });

  it('makes a long transaction visible only at commit, with its start as write_date', async () => {
    clock.set(new Date('2025-03-10T11:00:00.000Z'));
    const tx = harness.sandbox.control.begin();
    const id = tx.create('dimagaz.bc', { partner_id: 1, origin: 'long-tx' });
    tx.write('dimagaz.bc', 1, { origin: 'touched by long-tx' });
    clock.advanceMs(90_000);
    const later = harness.sandbox.control.create('dimagaz.bc', { partner_id: 1, origin: 'after' });
    expect(later).toBeGreaterThan(id);
    expect(await value(executeKw('dimagaz.bc', 'search', [[['origin', '=', 'long-tx']]]))).toEqual(
      [],
    );
    expect(await value(executeKw('dimagaz.bc', 'read', [[id]], { fields: ['name'] }))).toEqual([]);
    clock.advanceMs(30_000);
    tx.commit();
    const [created] = (await value(
      executeKw('dimagaz.bc', 'read', [[id]], { fields: ['write_date', 'origin'] }),
    )) as Array<Record<string, unknown>>;
    expect(created).toEqual({ id, write_date: '2025-03-10 11:00:00', origin: 'long-tx' });
    const [touched] = (await value(
      executeKw('dimagaz.bc', 'read', [[1]], { fields: ['write_date', 'origin'] }),
    )) as Array<Record<string, unknown>>;
    expect(touched).toEqual({
      id: 1,
      write_date: '2025-03-10 11:00:00',
      origin: 'touched by long-tx',
    });
    // A watermark taken from the later record would miss it: the classic lost update.
    expect(
      await value(
        executeKw('dimagaz.bc', 'search', [
          [
            ['write_date', '>', '2025-03-10 11:01:29'],
            ['id', '=', id],
          ],
        ]),
      ),
    ).toEqual([]);
  });

  it('does not move a BC when its line changes on its own, unless asked', () => {
    clock.set(new Date('2025-03-10T12:00:00.000Z'));
    const before = harness.sandbox.control.writeDateMicros('dimagaz.bc', 10);
    const [lineId] = harness.sandbox.control.ids('dimagaz.bc.line').filter(
      (id) =>
        harness.sandbox.control.records('dimagaz.bc.line', {
          ids: [id],
          fields: ['bc_id'],
          load: '',
        })[0]?.bc_id === 10,
    );
    harness.sandbox.control.write('dimagaz.bc.line', lineId as number, { price_unit: 42 });
    expect(harness.sandbox.control.writeDateMicros('dimagaz.bc', 10)).toBe(before);
    expect(harness.sandbox.control.writeDateMicros('dimagaz.bc.line', lineId as number)).toBe(
      Date.parse('2025-03-10T12:00:00.000Z') * 1000,
    );
    clock.advanceMs(1_000);
    harness.sandbox.control.unlink('dimagaz.bc.line', lineId as number, { bumpParent: true });
    expect(harness.sandbox.control.writeDateMicros('dimagaz.bc', 10)).toBe(
      Date.parse('2025-03-10T12:00:01.000Z') * 1000,
    );
  });

  it('generates write_dates strictly in the past; clock readings strictly increase', async () => {
    const fresh = await startSandbox({
      orders: 300,
      linesPerOrder: 4,
      seed: 9,
      clock: createManualClock(START).source,
    });
    try {
      const { control } = fresh.sandbox;
      const now = control.nowMicros();
      expect(control.nowMicros()).toBeGreaterThan(now);
      for (const model of ['dimagaz.bc', 'dimagaz.bc.line']) {
        for (const id of control.ids(model))
          expect(control.writeDateMicros(model, id)).toBeLessThan(START.getTime() * 1000);
      }
    } finally {
      await fresh.close();
    }
  });
});
