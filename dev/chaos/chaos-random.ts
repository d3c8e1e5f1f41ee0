/**
 * The chaos run's randomness: one seed, split into named streams (the storm's, the faults', each
 * source's), so that what one stream draws never moves another's. The same seed gives the same
 * streams on any machine.
 */
import { mulberry32 } from '../sandbox/sandbox-faults.js';

export interface ChaosRandom {
  /** A number in [0, 1). */
  next(): number;
  /** A whole number in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(probability: number): boolean;
  /** Items in an order drawn from this stream. */
  shuffle<T>(items: readonly T[]): T[];
  /** An independent stream, named: the same seed and name give the same stream. */
  fork(name: string): ChaosRandom;
}

/** FNV-1a of the text: a stream's seed from the run's seed and the stream's name. */
function hash(text: string): number {
  let value = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    value ^= text.charCodeAt(i);
    value = Math.imul(value, 0x01000193) >>> 0;
  }
  return value;
}

export function chaosRandom(seed: number, name = 'run'): ChaosRandom {
  const next = mulberry32(hash(`${seed}/${name}`));
  const random: ChaosRandom = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick(items) {
      if (items.length === 0) throw new Error('nothing to pick from');
      return items[Math.floor(next() * items.length)]!;
    },
    chance: (probability) => next() < probability,
    shuffle(items) {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i -= 1) {
        const j = Math.floor(next() * (i + 1));
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    },
    fork: (child) => chaosRandom(seed, `${name}/${child}`),
  };
  return random;
}
