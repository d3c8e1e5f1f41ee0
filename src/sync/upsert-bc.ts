/**
 * Writes one BC and its lines into the copy, all or nothing: the BC row, its lines, the deletion
 * of local lines Odoo no longer lists for it, and one audit row per change.
 *
 * Guarded: data older than what is stored (by Odoo `write_date`) never overwrites it, so a late
 * retry of a stale job cannot undo a newer change. Records that did not change are not written
 * and leave no audit row.
 */
import { and, eq, inArray, notInArray, or, sql } from 'drizzle-orm';
import type { OdooRecord } from '../clients/odoo/odoo-types.js';
import type { Db } from '../db/create-db.js';
import {
  scrapDimagazBc,
  scrapDimagazBcLine,
  syncAudit,
  type NewBcLineRow,
} from '../db/schema/index.js';
import { changedFields, toBcLineRow, toBcRow } from './map-records.js';
import { BC_LINE_MODEL, BC_MODEL } from './models.js';
import { SyncDataError } from './sync-errors.js';

export interface BcPayload {
  readonly bc: OdooRecord;
  readonly lines: readonly OdooRecord[];
}

export type BcAction = 'created' | 'updated' | 'unchanged' | 'restored' | 'stale';

export interface UpsertOutcome {
  readonly odooId: number;
  readonly action: BcAction;
  readonly linesCreated: number;
  readonly linesUpdated: number;
  readonly linesDeleted: number;
}

type AuditInsert = typeof syncAudit.$inferInsert;

const excluded = (column: string) => sql.raw(`excluded.${column}`);

/** Every mapped column of a line, taken from the row being inserted. */
const LINE_UPDATE_SET = {
  bcOdooId: excluded('bc_odoo_id'),
  sequence: excluded('sequence'),
  productId: excluded('product_id'),
  productName: excluded('product_name'),
  name: excluded('name'),
  productQty: excluded('product_qty'),
  qtyReceived: excluded('qty_received'),
  priceUnit: excluded('price_unit'),
  priceSubtotal: excluded('price_subtotal'),
  odooWriteDate: excluded('odoo_write_date'),
  data: excluded('data'),
  syncedAt: sql`now()`,
};

export async function upsertBc(
  db: Db,
  payload: BcPayload,
  context: { runId?: number | null },
): Promise<UpsertOutcome> {
  const bcRow = toBcRow(payload.bc);
  const lineRows = payload.lines.map(toBcLineRow);
  for (const line of lineRows) {
    if (line.bcOdooId !== bcRow.odooId) {
      throw new SyncDataError(
        `${BC_LINE_MODEL} ${line.odooId} belongs to BC ${line.bcOdooId}, not ${bcRow.odooId}`,
      );
    }
  }
  const runId = context.runId ?? null;
  const odooId = bcRow.odooId;

  return db.transaction(async (tx) => {
    const audits: AuditInsert[] = [];
    const [existing] = await tx
      .select({
        odooWriteDate: scrapDimagazBc.odooWriteDate,
        data: scrapDimagazBc.data,
        archivedAt: scrapDimagazBc.archivedAt,
      })
      .from(scrapDimagazBc)
      .where(eq(scrapDimagazBc.odooId, odooId))
      .for('update');

    if (existing && existing.odooWriteDate > bcRow.odooWriteDate) {
      return { odooId, action: 'stale', linesCreated: 0, linesUpdated: 0, linesDeleted: 0 };
    }

    let action: BcAction;
    if (!existing) {
      action = 'created';
      audits.push({
        runId,
        model: BC_MODEL,
        odooId,
        action,
        changedFields: [],
        odooWriteDate: bcRow.odooWriteDate,
      });
    } else {
      const changed = changedFields(existing.data, bcRow.data);
      action = existing.archivedAt ? 'restored' : changed.length > 0 ? 'updated' : 'unchanged';
      if (action !== 'unchanged') {
        audits.push({
          runId,
          model: BC_MODEL,
          odooId,
          action,
          changedFields: changed,
          odooWriteDate: bcRow.odooWriteDate,
        });
      }
    }
    if (action !== 'unchanged') {
      const { odooId: _key, ...columns } = bcRow;
      await tx
        .insert(scrapDimagazBc)
        .values(bcRow)
        .onConflictDoUpdate({
          target: scrapDimagazBc.odooId,
          set: { ...columns, archivedAt: null, archiveReason: null, syncedAt: sql`now()` },
          setWhere: sql`${scrapDimagazBc.odooWriteDate} <= excluded.odoo_write_date`,
        });
    }

    const lineIds = lineRows.map((line) => line.odooId);
    const storedLines = await tx
      .select({
        odooId: scrapDimagazBcLine.odooId,
        bcOdooId: scrapDimagazBcLine.bcOdooId,
        odooWriteDate: scrapDimagazBcLine.odooWriteDate,
        data: scrapDimagazBcLine.data,
      })
      .from(scrapDimagazBcLine)
      .where(
        lineIds.length > 0
          ? or(eq(scrapDimagazBcLine.bcOdooId, odooId), inArray(scrapDimagazBcLine.odooId, lineIds))
          : eq(scrapDimagazBcLine.bcOdooId, odooId),
      );
    const storedById = new Map(storedLines.map((line) => [line.odooId, line]));

    const toWrite: NewBcLineRow[] = [];
    let linesCreated = 0;
    let linesUpdated = 0;
    for (const line of lineRows) {
      const stored = storedById.get(line.odooId);
      if (!stored) {
        linesCreated += 1;
        toWrite.push(line);
        audits.push({
          runId,
          model: BC_LINE_MODEL,
          odooId: line.odooId,
          bcOdooId: odooId,
          action: 'created',
          changedFields: [],
          odooWriteDate: line.odooWriteDate,
        });
        continue;
      }
      if (stored.odooWriteDate > line.odooWriteDate) continue;
      const changed = changedFields(stored.data, line.data);
      if (changed.length === 0 && stored.bcOdooId === line.bcOdooId) continue;
      linesUpdated += 1;
      toWrite.push(line);
      audits.push({
        runId,
        model: BC_LINE_MODEL,
        odooId: line.odooId,
        bcOdooId: odooId,
        action: 'updated',
        changedFields: changed,
        odooWriteDate: line.odooWriteDate,
      });
    }
    if (toWrite.length > 0) {
      await tx
        .insert(scrapDimagazBcLine)
        .values(toWrite)
        .onConflictDoUpdate({
          target: scrapDimagazBcLine.odooId,
          set: LINE_UPDATE_SET,
          setWhere: sql`${scrapDimagazBcLine.odooWriteDate} <= excluded.odoo_write_date`,
        });
    }

    // Lines Odoo no longer lists under this BC: gone from Odoo (or moved, and then re-parented above).
    const deleted = await tx
      .delete(scrapDimagazBcLine)
      .where(
        lineIds.length > 0
          ? and(
              eq(scrapDimagazBcLine.bcOdooId, odooId),
              notInArray(scrapDimagazBcLine.odooId, lineIds),
            )
          : eq(scrapDimagazBcLine.bcOdooId, odooId),
      )
      .returning({
        odooId: scrapDimagazBcLine.odooId,
        odooWriteDate: scrapDimagazBcLine.odooWriteDate,
      });
    for (const line of deleted) {
      audits.push({
        runId,
        model: BC_LINE_MODEL,
        odooId: line.odooId,
        bcOdooId: odooId,
        action: 'deleted',
        changedFields: [],
        odooWriteDate: line.odooWriteDate,
      });
    }

    if (audits.length > 0) await tx.insert(syncAudit).values(audits);
    return { odooId, action, linesCreated, linesUpdated, linesDeleted: deleted.length };
  });
}
