/**
 * The bare pipeline: the fastest honest copy this machine can make, the yardstick the product's
 * sync is measured against. A keyset fetch of BCs (with their lines) from Odoo through the same
 * client and decoder, mapped by the same functions and written by the same guarded upserts, one
 * transaction per page, the next page fetched while the current one is written. No queue, no
 * lease, no change detection, no audit rows, no run log.
 */
import type { OdooClient } from '../src/clients/odoo/index.js';
import type { Db } from '../src/db/create-db.js';
import { mapBc, type BcPayload } from '../src/sync/map-records.js';
import { BC_LINE_MODEL, BC_MODEL, LINE_PARENT_FIELD } from '../src/sync/models.js';
import { changedSince, type SyncSchema } from '../src/sync/odoo-reads.js';
import { upsertBcRows, upsertLineRows } from '../src/sync/write-bcs.js';

const PAGE_SIZE = 500;

async function fetchPage(
  odoo: OdooClient,
  schema: SyncSchema,
  since: Date | null,
  afterId: number,
): Promise<BcPayload[]> {
  const { fields, context } = schema;
  const bcs = await odoo.searchRead(BC_MODEL, [...changedSince(since), ['id', '>', afterId]], {
    fields: fields.bc,
    order: 'id asc',
    limit: PAGE_SIZE,
    context,
  });
  if (bcs.length === 0) return [];
  const lines = await odoo.searchRead(
    BC_LINE_MODEL,
    [[LINE_PARENT_FIELD, 'in', bcs.map((bc) => bc.id)]],
    { fields: fields.line, order: 'id asc', context },
  );
  const byBc = new Map(bcs.map((bc) => [bc.id, [] as typeof lines]));
  for (const line of lines) byBc.get((line[LINE_PARENT_FIELD] as [number, string])[0])?.push(line);
  return bcs.map((bc) => ({ bc, lines: byBc.get(bc.id)! }));
}

/** Copies the BCs written since `since` (all with null); resolves with the records written. */
export async function runBarePipeline(
  odoo: OdooClient,
  db: Db,
  schema: SyncSchema,
  since: Date | null,
): Promise<number> {
  let records = 0;
  let next = fetchPage(odoo, schema, since, 0);
  for (;;) {
    const page = await next;
    if (page.length === 0) return records;
    next = fetchPage(odoo, schema, since, page[page.length - 1]!.bc.id);
    const mapped = page.map(mapBc);
    await db.transaction(async (tx) => {
      await upsertBcRows(
        tx,
        mapped.map((item) => item.bc),
      );
      await upsertLineRows(
        tx,
        mapped.flatMap((item) => item.lines),
      );
    });
    records += mapped.reduce((sum, item) => sum + 1 + item.lines.length, 0);
    if (page.length < PAGE_SIZE) {
      await next;
      return records;
    }
  }
}
