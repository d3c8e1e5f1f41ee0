/**
 * Drops, before anything is written, the BCs of a page whose copy is already current. The overlap
 * window re-reads many such BCs on every run; they cost two queries per page this way.
 *
 * Stamps alone cannot prove a BC current: Odoo sends `write_date` in whole seconds, so two
 * commits in one second carry the same stamp. A BC whose stamps all match is compared by its data
 * too, in PostgreSQL (jsonb equality does not depend on key order); a stamp that differs already
 * proves a change.
 */
import { inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { scrapDimagazBc, scrapDimagazBcLine } from '../db/schema/index.js';
import { KEY_LOOKUPS_ONLY, rowsOf } from '../db/sql-rows.js';
import type { MappedBc } from './map-records.js';

export async function selectChanged(
  db: Db,
  items: readonly MappedBc[],
): Promise<{ changed: MappedBc[]; current: number }> {
  if (items.length === 0) return { changed: [], current: 0 };
  const ids = items.map((item) => item.odooId);
  return db.transaction(async (tx) => {
    await tx.execute(KEY_LOOKUPS_ONLY);
    return selectChangedIn(tx, items, ids);
  });
}

async function selectChangedIn(
  db: Db,
  items: readonly MappedBc[],
  ids: number[],
): Promise<{ changed: MappedBc[]; current: number }> {
  // One after the other: a transaction is one connection (and PGlite's cannot interleave).
  const bcs = await db
    .select({
      odooId: scrapDimagazBc.odooId,
      writeDate: scrapDimagazBc.odooWriteDate,
      archivedAt: scrapDimagazBc.archivedAt,
    })
    .from(scrapDimagazBc)
    .where(inArray(scrapDimagazBc.odooId, ids));
  const lines = await db
    .select({
      odooId: scrapDimagazBcLine.odooId,
      bcOdooId: scrapDimagazBcLine.bcOdooId,
      writeDate: scrapDimagazBcLine.odooWriteDate,
    })
    .from(scrapDimagazBcLine)
    .where(inArray(scrapDimagazBcLine.bcOdooId, ids));
  const storedBc = new Map(bcs.map((row) => [row.odooId, row]));
  const storedLines = new Map<number, Map<number, number>>();
  for (const line of lines) {
    let byId = storedLines.get(line.bcOdooId);
    if (!byId) storedLines.set(line.bcOdooId, (byId = new Map<number, number>()));
    byId.set(line.odooId, line.writeDate.getTime());
  }
  const sameStamps = (item: MappedBc) => {
    const stored = storedBc.get(item.odooId);
    if (
      !stored ||
      stored.archivedAt ||
      stored.writeDate.getTime() !== item.bc.odooWriteDate.getTime()
    )
      return false;
    const byId = storedLines.get(item.odooId);
    if ((byId?.size ?? 0) !== item.lines.length) return false;
    return item.lines.every((line) => byId?.get(line.odooId) === line.odooWriteDate.getTime());
  };
  const candidates = items.filter(sameStamps);
  const differing = await differingData(db, candidates);
  const changed = items.filter((item) => !candidates.includes(item) || differing.has(item.odooId));
  return { changed, current: items.length - changed.length };
}

/** Of BCs whose stamps match the copy's, those whose data (the BC's or a line's) does not. */
async function differingData(db: Db, items: readonly MappedBc[]): Promise<Set<number>> {
  if (items.length === 0) return new Set();
  const bcs = items.map((item) => ({ id: item.odooId, data: item.bc.data }));
  const lines = items.flatMap((item) =>
    item.lines.map((line) => ({ id: line.odooId, bc: item.odooId, data: line.data })),
  );
  const rows = rowsOf<{ odoo_id: number }>(
    await db.execute(sql`
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
