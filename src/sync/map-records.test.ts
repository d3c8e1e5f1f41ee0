import { describe, expect, it } from 'vitest';
import { dataHashOf, mapBc } from './map-records.js';
import { SyncDataError } from './sync-errors.js';

const bc = { id: 7, name: 'P00007', write_date: '2026-03-02 08:00:00', partner_id: [3, 'Atlas'] };
const line = { id: 70, bc_id: [7, 'P00007'], write_date: '2026-03-02 08:00:00', product_qty: 2 };

describe('dataHashOf', () => {
  it('is the same for the same data in any key order, and differs when a value moves', () => {
    const reordered = {
      write_date: bc.write_date,
      partner_id: [3, 'Atlas'],
      name: 'P00007',
      id: 7,
    };
    expect(dataHashOf(reordered)).toBe(dataHashOf(bc));
    expect(dataHashOf({ ...bc, name: 'P00008' })).not.toBe(dataHashOf(bc));
    expect(dataHashOf({ ...bc, partner_id: [3, 'Atlas SA'] })).not.toBe(dataHashOf(bc));
  });
});

describe('mapBc', () => {
  it('maps a BC and its lines, each with its digest', () => {
    const mapped = mapBc({ bc, lines: [line] });
    expect(mapped.odooId).toBe(7);
    expect(mapped.bc.dataHash).toBe(dataHashOf(bc));
    expect(mapped.lines.map((l) => [l.odooId, l.bcOdooId, l.dataHash])).toEqual([
      [70, 7, dataHashOf(line)],
    ]);
  });

  it('refuses an empty write_date and a line of another BC', () => {
    expect(() => mapBc({ bc: { ...bc, write_date: false }, lines: [] })).toThrow(SyncDataError);
    expect(() => mapBc({ bc, lines: [{ ...line, bc_id: [8, 'P00008'] }] })).toThrow(
      /belongs to BC 8, not 7/,
    );
  });
});
