/**
 * A record's history (`…/history` of `/api/models/{model}/records` and of `/api/bcs`): its audit
 * rows, newest first, a page at a time before an id. A change of the feed is exactly an audit row
 * (docs/feed.md): the fields both say are the change body's own (src/feed/change-body.ts),
 * described once for both.
 */
import { and, desc, eq, lt } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../db/create-db.js';
import { syncAudit, type SyncAuditRow } from '../../db/schema/index.js';
import { isChild, type ModelDeclaration, type RecordFamily } from '../../families/family.js';
import { changeBodySchema } from '../../feed/change-body.js';
import { pageLimit } from '../schemas/common.js';
import { findRecord } from './record-detail.js';

/** What an audit row and a change of the feed both say of a change, in the history's order. */
const changeFields = changeBodySchema.pick({
  runId: true,
  model: true,
  odooId: true,
  action: true,
  changedFields: true,
  odooWriteDate: true,
});

const auditSchema = z
  .object({ id: z.number().int(), ...changeFields.shape, createdAt: z.string() })
  .describe('AuditEntry');

type AuditEntry = z.infer<typeof auditSchema>;

function toAuditBody(row: SyncAuditRow): AuditEntry {
  return {
    id: row.id,
    runId: row.runId,
    model: row.model,
    odooId: row.odooId,
    action: row.action,
    changedFields: row.changedFields,
    odooWriteDate: row.odooWriteDate?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** The history's parameters: a page size, and the id the page is before. */
export const historyQuery = z
  .object({
    limit: pageLimit(50, 500),
    before: z.coerce.number().int().positive().optional(),
  })
  .strict();

export type HistoryQuery = z.infer<typeof historyQuery>;

export const historySchema = z.object({
  items: z.array(auditSchema),
  nextBefore: z.number().int().nullable(),
});

export type HistoryPage = z.infer<typeof historySchema>;

/**
 * A page of a record's audit rows, newest first: a root's with its children's (audit rows are
 * found by their root, one index), even once it is gone; a child's own, found through the root
 * it has now (undefined when there is no such child).
 */
export async function readHistory(
  db: Db,
  family: RecordFamily,
  model: ModelDeclaration,
  odooId: number,
  page: HistoryQuery,
): Promise<HistoryPage | undefined> {
  let root = odooId;
  if (isChild(model)) {
    const found = await findRecord(db, model, odooId);
    if (!found) return undefined;
    root = found.parent!;
  }
  const rows = await db
    .select()
    .from(syncAudit)
    .where(
      and(
        eq(syncAudit.family, family.name),
        eq(syncAudit.rootOdooId, root),
        isChild(model)
          ? and(eq(syncAudit.model, model.model), eq(syncAudit.odooId, odooId))
          : undefined,
        page.before === undefined ? undefined : lt(syncAudit.id, page.before),
      ),
    )
    .orderBy(desc(syncAudit.id))
    .limit(page.limit + 1);
  const items = rows.slice(0, page.limit);
  return {
    items: items.map(toAuditBody),
    nextBefore: rows.length > page.limit ? (items[items.length - 1]?.id ?? null) : null,
  };
}
