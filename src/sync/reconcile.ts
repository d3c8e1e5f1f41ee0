/**
 * Finds what a write_date scan cannot see: records deleted in Odoo. Lists every BC and line id
 * Odoo has (keyset-paged `search`, archived ones included), compares with the copy, archives the
 * BCs that vanished, deletes the lines that vanished from living BCs, and restores BCs that came
 * back. Stops before archiving anything when Odoo suddenly reports far fewer BCs than we hold —
 * a changed API user or record rule looks exactly like a mass deletion.
 */
import { eq, isNull, sql } from 'drizzle-orm';
import type { OdooCallOptions } from '../clients/odoo/odoo-types.js';
import { scrapDimagazBc, scrapDimagazBcLine, syncState } from '../db/schema/index.js';
import { archiveBcs } from './archive.js';
import { fetchBcPage, scanIds } from './fetch.js';
import { releaseLease, takeLease } from './lease.js';
import { BC_LINE_MODEL, BC_MODEL, BC_SYNC_KEY } from './models.js';
import { countCalls } from './odoo-source.js';
import { clearFailures, closeRun, openRun, recordSkippedRun, toRunError } from './run-log.js';
import { ReconcileSafetyStop } from './sync-errors.js';
import type { SyncDeps } from './sync-deps.js';
import { upsertBc } from './upsert-bc.js';

export type ReconcileOutcome =
  | { status: 'skipped'; runId: number }
  | {
      status: 'succeeded';
      runId: number;
      archived: number;
      restored: number;
      linesDeleted: number;
      odooBcs: number;
      odooCalls: number;
    };

export async function reconcile(
  deps: SyncDeps,
  input: { trigger: string; owner: string },
  call?: OdooCallOptions,
): Promise<ReconcileOutcome> {
  const { db, logger, settings } = deps;
  const lease = await takeLease(db, {
    key: BC_SYNC_KEY,
    owner: input.owner,
    leaseSeconds: settings.leaseSeconds,
  });
  if (!lease) {
    const { runId, heldBy } = await recordSkippedRun(db, {
      kind: 'reconcile',
      trigger: input.trigger,
      leaseOwner: input.owner,
    });
    logger.info({ runId, heldBy }, 'reconcile skipped: another run holds the lease');
    return { status: 'skipped', runId };
  }
  const run = await openRun(db, {
    kind: 'reconcile',
    trigger: input.trigger,
    leaseOwner: input.owner,
  });
  const odoo = countCalls(deps.odoo);
  try {
    const odooBcIds = new Set(await scanIds(odoo, BC_MODEL, [], call));
    const local = await db
      .select({ odooId: scrapDimagazBc.odooId, archivedAt: scrapDimagazBc.archivedAt })
      .from(scrapDimagazBc);
    const live = local.filter((row) => !row.archivedAt);
    if (live.length > 0 && odooBcIds.size < live.length * settings.reconcileMinRatio) {
      throw new ReconcileSafetyStop(
        `Odoo lists ${odooBcIds.size} BCs but the copy holds ${live.length} live ones (below the ratio ${settings.reconcileMinRatio}); nothing archived. Check the Odoo user's access, then raise SYNC_RECONCILE_MIN_RATIO if the deletions are real.`,
      );
    }
    const vanished = live.filter((row) => !odooBcIds.has(row.odooId)).map((row) => row.odooId);
    const archived = await archiveBcs(db, vanished, 'deleted in Odoo', run.id);
    await clearFailures(db, archived);

    // Archived BCs that Odoo lists again (an access rule lifted, a restore from backup), and live
    // BCs that lost lines: both are read again fresh. The upsert restores the former; for the
    // latter it deletes the vanished lines and refreshes the BC's `line_ids`, which moved without
    // its write_date. Lines of archived BCs stay: the copy of a BC is never cut down.
    const returned = local
      .filter((row) => row.archivedAt && odooBcIds.has(row.odooId))
      .map((row) => row.odooId);
    const odooLineIds = new Set(await scanIds(odoo, BC_LINE_MODEL, [], call));
    const localLines = await db
      .select({ odooId: scrapDimagazBcLine.odooId, bcOdooId: scrapDimagazBcLine.bcOdooId })
      .from(scrapDimagazBcLine)
      .innerJoin(scrapDimagazBc, eq(scrapDimagazBc.odooId, scrapDimagazBcLine.bcOdooId))
      .where(isNull(scrapDimagazBc.archivedAt));
    const lostLines = localLines
      .filter((row) => !odooLineIds.has(row.odooId) && odooBcIds.has(row.bcOdooId))
      .map((row) => row.bcOdooId);
    let restored = 0;
    let linesDeleted = 0;
    const toRefresh = [...new Set([...returned, ...lostLines])].sort((a, b) => a - b);
    if (toRefresh.length > 0) {
      const fields = await deps.fields(odoo, call);
      for (let i = 0; i < toRefresh.length; i += settings.pageSize) {
        const ids = toRefresh.slice(i, i + settings.pageSize);
        const page = await fetchBcPage(odoo, ids, fields, settings.pageSize * 10, call);
        for (const item of page.items) {
          const outcome = await upsertBc(db, item, { runId: run.id });
          if (outcome.action === 'restored') restored += 1;
          linesDeleted += outcome.linesDeleted;
        }
      }
    }

    await closeRun(db, run.id, {
      status: 'succeeded',
      counts: {
        archived: archived.length,
        restored,
        linesDeleted,
        odooCalls: odoo.calls,
        bcsSeen: odooBcIds.size,
      },
    });
    await db
      .update(syncState)
      .set({ lastReconcileAt: sql`now()` })
      .where(eq(syncState.key, BC_SYNC_KEY));
    logger.info(
      { runId: run.id, odooBcs: odooBcIds.size, archived: archived.length, restored, linesDeleted },
      'reconcile succeeded',
    );
    return {
      status: 'succeeded',
      runId: run.id,
      archived: archived.length,
      restored,
      linesDeleted,
      odooBcs: odooBcIds.size,
      odooCalls: odoo.calls,
    };
  } catch (error) {
    await closeRun(db, run.id, {
      status: 'failed',
      errors: [toRunError(error)],
      counts: { odooCalls: odoo.calls },
    });
    logger.error({ runId: run.id, err: error }, 'reconcile failed');
    throw error;
  } finally {
    await releaseLease(db, BC_SYNC_KEY, input.owner);
  }
}
