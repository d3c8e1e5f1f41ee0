/**
 * Pages sized by bytes: a first copy measures a few roots before it plans its pages, and later
 * runs measure the roots the copy holds: narrow records are read many to a call, wide ones few,
 * pages holding about their byte budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BC_MODEL } from '../../src/families/bcs/family.js';
import { rootsPerPage } from '../../src/sync/page-size.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

const BUDGET_BYTES = 64 * 1024;

describe('pages sized by a byte budget', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({
      sandbox: { orders: 300, linesPerOrder: 4 },
      pageSize: 1_000,
      pageMaxBytes: BUDGET_BYTES,
    });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('reads a first copy in pages that fit the budget, many roots to a call', async () => {
    h.sandbox.control.resetCalls();
    const run = await h.run('sync-run', { trigger: 'test' });
    expect(run).toMatchObject({ status: 'succeeded', counts: { created: 300 } });
    const pages = (run as { counts: { pages: number } }).counts.pages;
    // 300 BCs of 4 lines, about 3 KB each as JSON: a few pages of about twenty.
    expect(pages).toBeGreaterThan(3);
    expect(pages).toBeLessThan(40);
    const reads = h.sandbox.control.countCalls({ method: 'web_read', model: BC_MODEL });
    // One read per page, its lines with it, and one for the measure (two when the measure's 50
    // BCs with their lines pass the answer's bound at this small budget: then half as many); no
    // read of lines alone.
    expect(reads).toBeGreaterThanOrEqual(pages + 1);
    expect(reads).toBeLessThanOrEqual(pages + 2);
    expect(h.sandbox.control.countCalls({ model: 'dimagaz.bc.line', method: 'read' })).toBe(0);
    expect(h.sandbox.control.countCalls({ model: BC_MODEL, method: 'read' })).toBe(reads);
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('sizes the pages of a later run from the roots the copy holds, with no read to measure', async () => {
    const c = h.sandbox.control;
    const ids = c.ids(BC_MODEL, { activeOnly: true });
    for (const id of ids) c.write(BC_MODEL, id, { origin: `resent ${id}` });
    c.resetCalls();
    const run = await h.run('sync-run', { trigger: 'test' });
    const pages = (run as { counts: { pages: number } }).counts.pages;
    expect(c.countCalls({ method: 'web_read', model: BC_MODEL })).toBe(pages);
    expect(pages).toBeGreaterThan(3);
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('keeps at least one root to a page, and the most a page may hold when the size is unknown', () => {
    const budget = { maxBytes: 1_000, maxRoots: 500 };
    expect(rootsPerPage(budget, 5_000)).toBe(1);
    expect(rootsPerPage(budget, 10)).toBe(100);
    expect(rootsPerPage(budget, 0.5)).toBe(500);
    expect(rootsPerPage(budget, undefined)).toBe(500);
  });
});
