/**
 * The BC, line and audit shapes the API answers with (the first two derived from the BC family's
 * declaration), and the audit rows' mapping (PostgreSQL builds the BC and line bodies itself:
 * record-bodies.ts).
 */
import { z } from 'zod';
import type { SyncAuditRow } from '../../db/schema/index.js';
import { bcsFamily } from '../../families/bcs/family.js';
import { recordSchema } from '../records/record-bodies.js';

export const bcSchema = recordSchema(bcsFamily.root, 'Bc');

export const bcLineSchema = recordSchema(bcsFamily.children[0]!, 'BcLine');

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
