/**
 * Drops, before any job is queued, the BCs of a page whose copy is already current: same BC
 * `write_date`, not archived, and the same lines with the same `write_date`s. Odoo moves
 * `write_date` on every write, so equal stamps mean equal data; the overlap window re-reads many
 * such BCs on every run, and they cost nothing this way.
 */
import { inArray } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { scrapDimagazBc, scrapDimagazBcLine } from '../db/schema/index.js';
import { writeDateOf } from './map-records.js';
import { BC_LINE_MODEL, BC_MODEL } from './models.js';
import type { BcPayload } from './upsert-bc.js';

export async function selectChanged(
  db: Db,
  items: readonly BcPayload[],
): Promise<{ changed: BcPayload[]; current: number }> {
  if (items.length === 0) return { changed: [], current: 0 };
  const ids = items.map((item) => item.bc.id);
  const [bcs, lines] = await Promise.all([
    db
      .select({
        odooId: scrapDimagazBc.odooId,
        writeDate: scrapDimagazBc.odooWriteDate,
        archivedAt: scrapDimagazBc.archivedAt,
      })
      .from(scrapDimagazBc)
      .where(inArray(scrapDimagazBc.odooId, ids)),
    db
      .select({
        odooId: scrapDimagazBcLine.odooId,
        bcOdooId: scrapDimagazBcLine.bcOdooId,
        writeDate: scrapDimagazBcLine.odooWriteDate,
      })
      .from(scrapDimagazBcLine)
      .where(inArray(scrapDimagazBcLine.bcOdooId, ids)),
  ]);
  const storedBc = new Map(bcs.map((row) => [row.odooId, row]));
  const storedLines = new Map<number, Map<number, number>>();
  for (const line of lines) {
    let byId = storedLines.get(line.bcOdooId);
    if (!byId) storedLines.set(line.bcOdooId, (byId = new Map<number, number>()));
    byId.set(line.odooId, line.writeDate.getTime());
  }
  const changed = items.filter((item) => {
    const stored = storedBc.get(item.bc.id);
    if (
      !stored ||
      stored.archivedAt ||
      stored.writeDate.getTime() !== writeDateOf(item.bc, BC_MODEL).getTime()
    )
      return true;
    const byId = storedLines.get(item.bc.id) ?? new Map<number, number>();
    if (byId.size !== item.lines.length) return true;
    return item.lines.some(
      (line) => byId.get(line.id) !== writeDateOf(line, BC_LINE_MODEL).getTime(),
    );
  });
  return { changed, current: items.length - changed.length };
}
