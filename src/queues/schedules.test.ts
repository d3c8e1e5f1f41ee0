import { describe, expect, it } from 'vitest';
import { staggeredCron, staggerMinutes } from './schedules.js';

describe("the families' reconcile crons", () => {
  it('move the default by minutes that depend on the family name alone', () => {
    const names = ['bcs', 'partners', 'moves', 'invoices', 'cylinders', 'contacts'];
    const offsets = names.map(staggerMinutes);
    expect(offsets).toEqual(names.map(staggerMinutes));
    for (const offset of offsets) expect(offset).toBeGreaterThanOrEqual(0);
    for (const offset of offsets) expect(offset).toBeLessThan(60);
    // Six families do not all start in the same minute.
    expect(new Set(offsets).size).toBeGreaterThan(1);
    expect(staggeredCron('0 3 * * *', 'bcs')).toBe(`${staggerMinutes('bcs')} 3 * * *`);
  });

  it('stay within the hour, with or without seconds', () => {
    const offset = staggerMinutes('partners');
    expect(staggeredCron('59 3 * * *', 'partners')).toBe(`${(59 + offset) % 60} 3 * * *`);
    expect(staggeredCron('30 10 3 * * 1', 'partners')).toBe(`30 ${(10 + offset) % 60} 3 * * 1`);
  });

  it('leave a minute that is not one number as it is', () => {
    expect(staggeredCron('*/15 * * * *', 'bcs')).toBe('*/15 * * * *');
    expect(staggeredCron('0,30 3 * * *', 'bcs')).toBe('0,30 3 * * *');
  });
});
