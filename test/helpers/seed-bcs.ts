/** Odoo-shaped BC records for API tests, written through the real write path. */
import type { OdooRecord } from '../../src/clients/odoo/odoo-types.js';
import type { Db } from '../../src/db/create-db.js';
import { bcsFamily } from '../../src/families/bcs/family.js';
import { mapRoot, type MappedRoot } from '../../src/families/map-record.js';
import type { RecordOutcome } from '../../src/sync/run-counts.js';
import { writeRoots, type WriteContext } from '../../src/sync/write-records.js';

const STATES = ['draft', 'sent', 'purchase', 'done', 'cancel'] as const;
const PARTNERS: [number, string][] = [
  [11, 'Azur Gaz'],
  [12, 'Atlas Détendeurs'],
  [13, 'Maghreb Valves'],
];

const odooDate = (date: Date) => date.toISOString().replace('T', ' ').slice(0, 19);

export function fakeBc(id: number, overrides: Partial<OdooRecord> = {}): OdooRecord {
  const day = new Date(Date.UTC(2026, 0, 1 + (id % 90), 8, 0, 0));
  return {
    id,
    name: `P${String(id).padStart(5, '0')}`,
    state: STATES[id % STATES.length]!,
    partner_id: PARTNERS[id % PARTNERS.length]!,
    date_order: id % 17 === 0 ? false : odooDate(day),
    amount_total: id % 13 === 0 ? 0 : Math.round(id * 1234.5) / 100,
    currency_id: [1, 'MAD'],
    origin: id % 5 === 0 ? `SO${id}` : false,
    active: id % 11 !== 0,
    line_ids: [id * 10 + 1, id * 10 + 2],
    write_date: odooDate(new Date(Date.UTC(2026, 2, 1, 0, 0, id % 3600))),
    ...overrides,
  };
}

export function fakeLine(bcId: number, n: number, overrides: Partial<OdooRecord> = {}): OdooRecord {
  return {
    id: bcId * 10 + n,
    bc_id: [bcId, `P${bcId}`],
    sequence: n * 10,
    product_id: [100 + n, `Bouteille ${n}`],
    name: `Bouteille ${n} kg`,
    product_qty: n * 3,
    qty_received: 0,
    price_unit: 12.5,
    price_subtotal: n * 37.5,
    write_date: '2026-03-01 00:00:00',
    ...overrides,
  };
}

export async function seedBcs(db: Db, ids: readonly number[]): Promise<void> {
  for (const id of ids)
    await writeBcs(db, [mapBc({ bc: fakeBc(id), lines: [fakeLine(id, 1), fakeLine(id, 2)] })], {
      runId: null,
      lease: null,
    });
}

/** A BC and its lines as Odoo sent them, mapped to the BC family's rows. */
export function mapBc(payload: { bc: OdooRecord; lines: readonly OdooRecord[] }): MappedRoot {
  return mapRoot(bcsFamily, { root: payload.bc, children: [payload.lines] });
}

/** Writes BCs through the real write path of the BC family. */
export function writeBcs(
  db: Db,
  items: readonly MappedRoot[],
  context: WriteContext,
): Promise<RecordOutcome[]> {
  return writeRoots(db, bcsFamily, items, context);
}
