import { describe, expect, it } from 'vitest';
import { changedFields, mapBc } from './map-records.js';
import { SyncDataError } from './sync-errors.js';

const bc = { id: 7, name: 'P00007', write_date: '2026-03-02 08:00:00', partner_id: [3, 'Atlas'] };
const line = { id: 70, bc_id: [7, 'P00007'], write_date: '2026-03-02 08:00:00', product_qty: 2 };

describe('mapBc', () => {
  it('maps a BC and its lines: typed columns, and the records untouched in data', () => {
    const mapped = mapBc({ bc, lines: [line] });
    expect(mapped.odooId).toBe(7);
    expect(mapped.bc).toMatchObject({ odooId: 7, name: 'P00007', partnerName: 'Atlas', data: bc });
    expect(mapped.bc.odooWriteDate).toEqual(new Date('2026-03-02T08:00:00Z'));
    expect(mapped.lines.map((l) => [l.odooId, l.bcOdooId, l.productQty])).toEqual([[70, 7, '2']]);
  });

  it('refuses an empty write_date and a line of another BC', () => {
    expect(() => mapBc({ bc: { ...bc, write_date: false }, lines: [] })).toThrow(SyncDataError);
    expect(() => mapBc({ bc, lines: [{ ...line, bc_id: [8, 'P00008'] }] })).toThrow(
      /belongs to BC 8, not 7/,
    );
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
});
