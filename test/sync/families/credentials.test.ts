/**
 * Credentials revoked in the middle of a run of another family than BCs
 * (test/sync/credentials.test.ts for BCs): the run stops, it does not lock the account — after
 * the first refusal no job of the run calls Odoo again — and nothing is recorded against records
 * that have nothing wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOVES_CASE } from '../../helpers/family-cases.js';
import { createSyncHarness, type SyncHarness } from '../../helpers/sync-harness.js';

/** A worker runs as many pages at once as its concurrency. */
const PAGES_IN_FLIGHT = 6;
const c = MOVES_CASE;

describe('credentials revoked during a moves run', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    // 40 pages, six at a time.
    h = await createSyncHarness({
      families: [c.family],
      sandbox: c.sandbox({ roots: 200, childrenPerRoot: 1 }),
      pageSize: 5,
      concurrency: PAGES_IN_FLIGHT,
    });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('one refusal halts the run: at most one refused call per page in flight, the run fails with ODOO_AUTH', async () => {
    const control = h.sandbox.control;
    const firstPage = control.waitForCall({ method: 'read', model: c.rootModel });
    const run = await h.add('sync-run', { trigger: 'test' });
    await firstPage;
    control.setPassword('rotated-in-odoo');
    control.resetCalls();

    await expect(h.wait(run)).rejects.toThrow(/failed/);
    // Every call after the revocation is refused: there are at most as many as pages in flight.
    expect(control.countCalls()).toBeLessThanOrEqual(PAGES_IN_FLIGHT);
    const [last] = await h.runs();
    expect(last).toMatchObject({ family: c.family.name, status: 'failed' });
    expect(last!.errors[0]!.code).toBe('ODOO_AUTH');
    expect(JSON.stringify(last!.errors)).not.toContain(h.sandbox.username);
    // Nothing was wrong with the moves: none waits in sync_failure, no watermark moved.
    expect(await h.failures()).toEqual([]);
    expect(await h.watermark(c.rootModel)).toBeNull();
    expect(await h.watermark(c.family.children[0]!.model)).toBeNull();
    expect(await h.state()).toMatchObject({ leaseOwner: null, lastRunStatus: 'failed' });
  });
});

describe('credentials refused when a moves run starts', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({
      families: [c.family],
      sandbox: c.sandbox({ roots: 20, childrenPerRoot: 1 }),
    });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('stop the run at once with ODOO_AUTH, without a retry storm', async () => {
    const control = h.sandbox.control;
    control.setPassword('rotated-elsewhere');
    control.resetCalls();
    await expect(h.run('sync-run', { trigger: 'test' })).rejects.toThrow(/ODOO_AUTH/);
    const [last] = await h.runs();
    expect(last).toMatchObject({ family: c.family.name, status: 'failed' });
    expect(last!.errors[0]!.code).toBe('ODOO_AUTH');
    expect(control.countCalls({ method: 'authenticate' })).toBeLessThanOrEqual(1);
    expect(control.countCalls()).toBeLessThanOrEqual(3);
    expect(await h.watermark(c.rootModel)).toBeNull();
  });
});
