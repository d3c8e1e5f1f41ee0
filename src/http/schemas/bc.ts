/**
 * The BC, line and audit shapes the API answers with, and the audit rows' mapping (PostgreSQL
 * builds the BC and line bodies itself: routes/api/bcs/bc-json.ts).
 */
import { z } from 'zod';
import type { SyncAuditRow } from '../../db/schema/index.js';

const many2one = z.object({ id: z.number().int(), name: z.string().nullable() }).nullable();
const odooData = z
  .record(z.string(), z.unknown())
  .describe('every stored field exactly as Odoo sent it');

export const bcSchema = z
  .object({
    odooId: z.number().int(),
    name: z.string().nullable(),
    state: z.string().nullable(),
    partner: many2one,
    dateOrder: z.string().nullable(),
    datePlanned: z.string().nullable(),
    amountUntaxed: z.string().nullable().describe('decimal string'),
    amountTax: z.string().nullable(),
    amountTotal: z.string().nullable(),
    currency: many2one,
    companyId: z.number().int().nullable(),
    origin: z.string().nullable(),
    active: z.boolean(),
    archivedAt: z.string().nullable(),
    archiveReason: z.string().nullable(),
    odooWriteDate: z.string(),
    syncedAt: z.string(),
    data: odooData,
  })
  .describe('Bc');

export const bcLineSchema = z
  .object({
    odooId: z.number().int(),
    bcOdooId: z.number().int(),
    sequence: z.number().int().nullable(),
    product: many2one,
    name: z.string().nullable(),
    productQty: z.string().nullable(),
    qtyReceived: z.string().nullable(),
    priceUnit: z.string().nullable(),
    priceSubtotal: z.string().nullable(),
    odooWriteDate: z.string(),
    syncedAt: z.string(),
    data: odooData,
  })
  .describe('BcLine');

export const auditSchema = z
  .object({
    id: z.number().int(),
    runId: z.number().int().nullable(),
    model: z.string(),
    odooId: z.number().int(),
    action: z.string(),
    changedFields: z.array(z.string()),
    odooWriteDate: z.string().nullable(),
    createdAt: z.string(),
  })
  .describe('AuditEntry');

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export function toAuditBody(row: SyncAuditRow): z.infer<typeof auditSchema> {
  return {
    id: row.id,
    runId: row.runId,
    model: row.model,
    odooId: row.odooId,
    action: row.action,
    changedFields: row.changedFields,
    odooWriteDate: iso(row.odooWriteDate),
    createdAt: row.createdAt.toISOString(),
  };
}
