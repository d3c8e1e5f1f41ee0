import { describe, expect, it } from 'vitest';
import { durationText } from './duration-text.js';

describe('durationText', () => {
  it('gives seconds, then minutes and seconds, then hours and minutes', () => {
    expect(durationText(0)).toBe('0 s');
    expect(durationText(44_600)).toBe('45 s');
    expect(durationText(59_499)).toBe('59 s');
    expect(durationText(200_000)).toBe('3 min 20 s');
    expect(durationText(3_599_000)).toBe('59 min 59 s');
    expect(durationText(7_500_000)).toBe('2 h 5 min');
  });
});
