/**
 * Drops, before anything is written, the BCs of a page whose copy is already current: same
 * digest of the BC and of each of its lines, not archived, no line gone. The overlap window
 * re-reads many such BCs on every run; they cost one query per page this way.
 *
 * Digests, not stamps: Odoo sends `write_date` in whole seconds, so two commits in one second
 * look equal by stamp while their data differ.
 */
import { inArray } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { scrapDimagazBc, scrapDimagazBcLine } from '../db/schema/index.js';
import type { MappedBc } from './map-records.js';

export async function selectChanged(
  db: Db,
  items: readonly MappedBc[],
): Promise<{ changed: MappedBc[]; current: number }> {
  if (items.length === 0) return { changed: [], current: 0 };
  const ids = items.map((item) => item.odooId);
  const [bcs, lines] = await Promise.all([
    db
      .select({
        odooId: scrapDimagazBc.odooId,
        dataHash: scrapDimagazBc.dataHash,
        archivedAt: scrapDimagazBc.archivedAt,
      })
      .from(scrapDimagazBc)
      .where(inArray(scrapDimagazBc.odooId, ids)),
    db
      .select({
        odooId: scrapDimagazBcLine.odooId,
        bcOdooId: scrapDimagazBcLine.bcOdooId,
        dataHash: scrapDimagazBcLine.dataHash,
      })
      .from(scrapDimagazBcLine)
      .where(inArray(scrapDimagazBcLine.bcOdooId, ids)),
  ]);
  const storedBc = new Map(bcs.map((row) => [row.odooId, row]));
  const storedLines = new Map<number, Map<number, string | null>>();
  for (const line of lines) {
    let byId = storedLines.get(line.bcOdooId);
    if (!byId) storedLines.set(line.bcOdooId, (byId = new Map<number, string | null>()));
    byId.set(line.odooId, line.dataHash);
  }
  const changed = items.filter((item) => {
    const stored = storedBc.get(item.odooId);
    if (!stored || stored.archivedAt || stored.dataHash !== item.bc.dataHash) return true;
    const byId = storedLines.get(item.odooId);
    if ((byId?.size ?? 0) !== item.lines.length) return true;
    return item.lines.some((line) => byId?.get(line.odooId) !== line.dataHash);
  });
  return { changed, current: items.length - changed.length };
}
