import { describe, expect, it } from 'vitest';
import { leaseMsFor } from './call-budget.js';

describe('leaseMsFor', () => {
  it('holds a slot for the attempt’s timeout and 5 s more (README, ODOO_MAX_CONCURRENT_CALLS)', () => {
    // The client releases an attempt at its timeout at the latest: the grace covers that release
    // on its way to Redis, so a live process's slot is never taken back under it.
    expect(leaseMsFor(30_000)).toBe(35_000);
    expect(leaseMsFor(1_000)).toBe(6_000);
  });
});
