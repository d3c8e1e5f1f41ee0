import { describe, expect, it } from 'vitest';
import { BadRecordError } from './bad-record-error.js';
import { bcsFamily } from './bcs/family.js';
import type { ChildModel, RootModel } from './family.js';
import { changedFields, mapRoot, type MappedRecord } from './map-record.js';
import { movesFamily } from './moves/family.js';
import { partnersFamily } from './partners/family.js';
import { rowLayout } from './write-shape.js';

/** A mapped record's row by column name. */
const rowOf = (model: RootModel | ChildModel, mapped: MappedRecord) =>
  Object.fromEntries(rowLayout(model).columns.map((name, slot) => [name, mapped.values[slot]]));

const bc = { id: 7, name: 'P00007', write_date: '2026-03-02 08:00:00', partner_id: [3, 'Atlas'] };
const line = { id: 70, bc_id: [7, 'P00007'], write_date: '2026-03-02 08:00:00', product_qty: 2 };

describe('mapRoot', () => {
  it('maps a BC and its lines: typed columns by column name, and the records untouched in data', () => {
    const mapped = mapRoot(bcsFamily, { root: bc, children: [[line]] });
    expect(mapped.odooId).toBe(7);
    expect(rowOf(bcsFamily.root, mapped)).toMatchObject({
      odoo_id: 7,
      name: 'P00007',
      partner_id: 3,
      partner_name: 'Atlas',
      active: true,
      data: bc,
    });
    expect(rowOf(bcsFamily.root, mapped).odoo_write_date).toBe('2026-03-02T08:00:00.000Z');
    expect(
      mapped.children[0]!.map((l) => {
        const row = rowOf(bcsFamily.children[0]!, l);
        return [l.odooId, row.bc_odoo_id, row.product_qty];
      }),
    ).toEqual([[70, 7, '2']]);
  });

  it('refuses an empty write_date and a child of another root', () => {
    expect(() =>
      mapRoot(bcsFamily, { root: { ...bc, write_date: false }, children: [[]] }),
    ).toThrow(BadRecordError);
    expect(() =>
      mapRoot(bcsFamily, { root: bc, children: [[{ ...line, bc_id: [8, 'P00008'] }]] }),
    ).toThrow(/belongs to BC 8, not 7/);
  });

  it("copies Odoo's False as false for a boolean and as empty elsewhere; a model without active is live", () => {
    const partner = mapRoot(partnersFamily, {
      root: { id: 3, write_date: '2026-03-02 08:00:00', is_company: false, email: false },
      children: [],
    });
    expect(rowOf(partnersFamily.root, partner)).toMatchObject({
      is_company: false,
      email: null,
      active: true,
    });
    const move = mapRoot(movesFamily, {
      root: { id: 9, write_date: '2026-03-02 08:00:00', invoice_date: '2026-03-01', date: false },
      children: [[]],
    });
    expect(rowOf(movesFamily.root, move)).toMatchObject({
      invoice_date: '2026-03-01',
      date: null,
      active: true,
    });
  });
});

describe('changedFields', () => {
  it('names the fields whose values differ, whatever the order of the keys', () => {
    const reordered = {
      partner_id: [3, 'Atlas'],
      write_date: bc.write_date,
      name: 'P00007',
      id: 7,
    };
    expect(changedFields(bc, reordered)).toEqual([]);
    expect(changedFields(bc, { ...bc, name: 'P00008', origin: 'SO1' })).toEqual(['name', 'origin']);
  });

  it('takes -0.0 for the 0 jsonb stores, at any depth', () => {
    expect(
      changedFields({ amount: 0, specs: { x: [0] } }, { amount: -0, specs: { x: [-0] } }),
    ).toEqual([]);
  });

  it('keeps a field only the copy holds (Odoo no longer lists it), and drops one the reads leave out', () => {
    const stored = { name: 'a', x_gone: 'kept', signup_token: 'old' };
    expect(changedFields(stored, { name: 'a' })).toEqual([]);
    expect(changedFields(stored, { name: 'a' }, ['signup_token'])).toEqual(['signup_token']);
  });
});
