/**
 * Re-syncs one BC from fresh Odoo data: an admin's resync, a retried BC job, a pending failure,
 * or a BC whose page could not be read whole. A BC Odoo no longer has is archived.
 */
import type { OdooCallOptions } from '../clients/odoo/odoo-types.js';
import { archiveBcs } from './archive.js';
import { fetchBcPage } from './fetch.js';
import { countCalls } from './odoo-source.js';
import { clearFailures } from './run-log.js';
import type { SyncDeps } from './sync-deps.js';
import { upsertBc, type UpsertOutcome } from './upsert-bc.js';

export type ResyncOutcome =
  | (UpsertOutcome & { odooCalls: number })
  | { odooId: number; action: 'archived' | 'missing'; odooCalls: number };

export async function resyncBc(
  deps: SyncDeps,
  odooId: number,
  context: { runId?: number | null } = {},
  call?: OdooCallOptions,
): Promise<ResyncOutcome> {
  const runId = context.runId ?? null;
  const odoo = countCalls(deps.odoo);
  const fields = await deps.fields(odoo, call);
  const page = await fetchBcPage(
    odoo,
    [odooId],
    fields,
    Math.max(deps.settings.pageSize * 10, 1_000),
    call,
  );
  const item = page.items[0];
  if (!item) {
    const archived = await archiveBcs(deps.db, [odooId], 'deleted in Odoo', runId);
    await clearFailures(deps.db, [odooId]);
    deps.logger.info(
      { odooId, archived: archived.length > 0 },
      'resync: BC no longer exists in Odoo',
    );
    return { odooId, action: archived.length > 0 ? 'archived' : 'missing', odooCalls: odoo.calls };
  }
  const outcome = await upsertBc(deps.db, item, { runId });
  await clearFailures(deps.db, [odooId]);
  deps.logger.info({ odooId, action: outcome.action }, 'resync: BC synced');
  return { ...outcome, odooCalls: odoo.calls };
}
