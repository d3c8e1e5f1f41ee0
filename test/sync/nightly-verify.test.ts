/**
 * The night's verify does not depend on the night's reconcile: a scheduled reconcile that fails
 * for good (here its safety stop, Odoo listing too few of the copy's records) still queues the
 * verify, which proves the copy by content and reports what it finds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BC_MODEL } from '../../src/families/bcs/family.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

describe("the night's verify", () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({ sandbox: { orders: 10, linesPerOrder: 1 }, jobAttempts: 1 });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('runs after a scheduled reconcile that failed', async () => {
    const c = h.sandbox.control;
    // A record rule hides most BCs from the sync user: the reconcile's safety stop refuses.
    const ids = c.ids(BC_MODEL);
    c.hide(BC_MODEL, ids.slice(0, 8));
    const verified = h.nextCompleted('sync-reconcile', 'verify-after-');
    await expect(h.run('reconcile', { trigger: 'nightly', scheduled: true })).rejects.toThrow(
      /SYNC_RECONCILE_SAFETY_STOP|lists only/,
    );
    expect(await verified).toMatchObject({ family: 'bcs', scope: { slices: 7 } });
    c.unhide(BC_MODEL, ids.slice(0, 8));
  });
});
