/**
 * Sorts, inside the write's own transaction, the BCs whose copy is already current from those to
 * write. The overlap window re-reads many current BCs on every run; they cost one query for the
 * whole batch this way, and are neither locked nor read in full.
 *
 * Stamps alone cannot prove a BC current: Odoo sends `write_date` in whole seconds, so two
 * commits in one second carry the same stamp. A BC whose stamps all match is compared by its data
 * too, in PostgreSQL (jsonb equality does not depend on key order); a stamp that differs already
 * proves a change.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { intArray, rowsOf } from '../db/sql-rows.js';
import type { MappedBc } from './map-records.js';

export interface Selection {
  /** BCs to write: new, archived, or with a stamp or data that differs from the copy; the
   * others' copy is current. */
  readonly changed: MappedBc[];
  /** Whether the copy holds any of these BCs, or any of their lines (under whatever BC). */
  readonly anyStored: boolean;
}

interface StoredStamp {
  kind: 'bc' | 'line';
  odoo_id: number;
  bc_odoo_id: number;
  odoo_write_date: Date | string;
  archived: boolean;
}

const stampMs = (value: Date | string) => new Date(value).getTime();

/**
 * Runs in the caller's transaction, after its `KEY_LOOKUPS_ONLY`: one query for every stamp, one
 * more for the data of the BCs whose stamps all match.
 */
export async function selectChanged(tx: Db, items: readonly MappedBc[]): Promise<Selection> {
  if (items.length === 0) return { changed: [], anyStored: false };
  const bcIds = items.map((item) => item.odooId);
  const lineIds = items.flatMap((item) => item.lines.map((line) => line.odooId));
  // Lines are looked up by id too: a line that moved from another BC is stored, and its row will
  // be written, even when none of these BCs is.
  const stamps = rowsOf<StoredStamp>(
    await tx.execute(sql`
      select 'bc' as kind, odoo_id, odoo_id as bc_odoo_id, odoo_write_date, archived_at is not null as archived
      from scrap_dimagaz_bc where odoo_id = any(${intArray(bcIds)}::int[])
      union all
      select 'line', odoo_id, bc_odoo_id, odoo_write_date, false
      from scrap_dimagaz_bc_line
      where bc_odoo_id = any(${intArray(bcIds)}::int[]) or odoo_id = any(${intArray(lineIds)}::int[])`),
  );
  if (stamps.length === 0) return { changed: [...items], anyStored: false };

  const storedBc = new Map<number, StoredStamp>();
  const storedLines = new Map<number, Map<number, number>>();
  for (const row of stamps) {
    if (row.kind === 'bc') {
      storedBc.set(row.odoo_id, row);
      continue;
    }
    let byId = storedLines.get(row.bc_odoo_id);
    if (!byId) storedLines.set(row.bc_odoo_id, (byId = new Map<number, number>()));
    byId.set(row.odoo_id, stampMs(row.odoo_write_date));
  }
  const sameStamps = (item: MappedBc) => {
    const stored = storedBc.get(item.odooId);
    if (
      !stored ||
      stored.archived ||
      stampMs(stored.odoo_write_date) !== item.bc.odooWriteDate.getTime()
    )
      return false;
    const byId = storedLines.get(item.odooId);
    if ((byId?.size ?? 0) !== item.lines.length) return false;
    return item.lines.every((line) => byId?.get(line.odooId) === line.odooWriteDate.getTime());
  };
  const candidates = items.filter(sameStamps);
  const differing = await differingData(tx, candidates);
  const current = new Set(candidates.filter((item) => !differing.has(item.odooId)));
  return { changed: items.filter((item) => !current.has(item)), anyStored: true };
}

/** Of BCs whose stamps match the copy's, those whose data (the BC's or a line's) does not. */
async function differingData(tx: Db, items: readonly MappedBc[]): Promise<Set<number>> {
  if (items.length === 0) return new Set();
  const bcs = items.map((item) => ({ id: item.odooId, data: item.bc.data }));
  const lines = items.flatMap((item) =>
    item.lines.map((line) => ({ id: line.odooId, bc: item.odooId, data: line.data })),
  );
  const rows = rowsOf<{ odoo_id: number }>(
    await tx.execute(sql`
      select x.id as odoo_id
      from jsonb_to_recordset(${JSON.stringify(bcs)}::jsonb) as x(id int, data jsonb)
      join scrap_dimagaz_bc b on b.odoo_id = x.id
      where b.data is distinct from x.data
      union
      select x.bc from jsonb_to_recordset(${JSON.stringify(lines)}::jsonb) as x(id int, bc int, data jsonb)
      join scrap_dimagaz_bc_line l on l.odoo_id = x.id
      where l.data is distinct from x.data`),
  );
  return new Set(rows.map((row) => row.odoo_id));
}
