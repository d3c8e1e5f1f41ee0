/**
 * Marking BCs that vanished from Odoo. A BC is never deleted from the copy: it is archived (with
 * the reason), its lines kept, and restored by the next write if it comes back.
 */
import { and, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { scrapDimagazBc, syncAudit } from '../db/schema/index.js';
import { BC_MODEL } from './models.js';
import { fenceLease, type Lease } from './sync-state.js';

/** Archives the live BCs among `odooIds`; returns the ids it archived. */
export async function archiveBcs(
  db: Db,
  odooIds: readonly number[],
  reason: string,
  context: { runId: number | null; lease: Lease | null; trigger?: string },
): Promise<number[]> {
  if (odooIds.length === 0) return [];
  return db.transaction(async (tx) => {
    if (context.lease) await fenceLease(tx, context.lease);
    const rows = await tx
      .update(scrapDimagazBc)
      .set({ archivedAt: sql`now()`, archiveReason: reason })
      .where(and(inArray(scrapDimagazBc.odooId, [...odooIds]), isNull(scrapDimagazBc.archivedAt)))
      .returning({ odooId: scrapDimagazBc.odooId });
    if (rows.length > 0) {
      await tx.insert(syncAudit).values(
        rows.map((row) => ({
          runId: context.runId,
          trigger: context.trigger ?? null,
          model: BC_MODEL,
          odooId: row.odooId,
          action: 'archived' as const,
        })),
      );
    }
    return rows.map((row) => row.odooId);
  });
}
