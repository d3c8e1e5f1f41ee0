import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { comparePositions, decodePosition, encodePosition, FeedPositionError } from './position.js';

const position = fc.record({
  xid: fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
  id: fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
});

describe('feed positions', () => {
  it('read back what they wrote, and compare as their text does', () => {
    fc.assert(
      fc.property(position, position, (a, b) => {
        expect(decodePosition(encodePosition(a))).toEqual(a);
        const byText =
          encodePosition(a) < encodePosition(b)
            ? -1
            : encodePosition(a) > encodePosition(b)
              ? 1
              : 0;
        expect(comparePositions(a, b)).toBe(byText);
      }),
    );
  });

  it('refuse anything the feed never gave', () => {
    for (const text of [
      '',
      'zz',
      '0'.repeat(31),
      'G'.repeat(32),
      `${'0'.repeat(16)}8${'0'.repeat(15)}`,
      `8${'0'.repeat(31)}`,
      'f'.repeat(32),
    ])
      expect(() => decodePosition(text)).toThrow(FeedPositionError);
  });
});
