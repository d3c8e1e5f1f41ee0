/**
 * Odoo locks an IP out after 10 failed logins in 60 s. Credentials revoked in the middle of a
 * run must stop the run, not lock the account: after the first refusal no job of the run calls
 * Odoo again, whatever worker it is on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BC_MODEL } from '../../src/families/bcs/family.js';
import { createSyncHarness, ODOO_PROTOCOLS, type SyncHarness } from '../helpers/sync-harness.js';

/** A worker runs as many pages at once as its concurrency. */
const PAGES_IN_FLIGHT = 6;

describe.each(ODOO_PROTOCOLS)('credentials revoked mid-run over %s', (protocol) => {
  let h: SyncHarness;
  beforeAll(async () => {
    // 40 pages, six at a time.
    h = await createSyncHarness({
      protocol,
      sandbox: { orders: 200, linesPerOrder: 1 },
      pageSize: 5,
      concurrency: PAGES_IN_FLIGHT,
    });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('one refusal halts the run: at most one refused call per page in flight, the run fails with ODOO_AUTH', async () => {
    const c = h.sandbox.control;
    const firstPage = c.waitForCall({ method: 'read', model: BC_MODEL });
    const run = await h.add('sync-run', { trigger: 'test' });
    await firstPage;
    c.setPassword('rotated-in-odoo');
    c.resetCalls();

    await expect(h.wait(run)).rejects.toThrow(/failed/);
    // Every call after the revocation is refused: there are at most as many as pages in flight.
    expect(c.countCalls()).toBeLessThanOrEqual(PAGES_IN_FLIGHT);
    const [last] = await h.runs();
    expect(last).toMatchObject({ status: 'failed' });
    expect(last!.errors[0]!.code).toBe('ODOO_AUTH');
    expect(JSON.stringify(last!.errors)).not.toContain(h.sandbox.username);
    // Nothing was wrong with the BCs: none waits in sync_failure.
    expect(await h.failures()).toEqual([]);
    expect(await h.watermark()).toBeNull();
  });
});
