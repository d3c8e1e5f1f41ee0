/**
 * Seeded random streams for the data generators. Each family draws from a stream of its own,
 * derived from the sandbox's seed and the family's name: adding a family, or changing how one
 * generates, never changes what another family gets for the same seed.
 */
import { mulberry32 } from '../sandbox-faults.js';

export interface SeededRandom {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(probability: number): boolean;
  /** `count` distinct items, in the order drawn. */
  sample<T>(items: readonly T[], count: number): T[];
}

/** The stream named `name` of the sandbox's `seed` (FNV-1a of both picks the generator's seed). */
export function seededRandom(seed: number, name: string): SeededRandom {
  let hash = 0x81_1c_9d_c5;
  for (const char of `${seed}/${name}`) {
    hash ^= char.codePointAt(0) as number;
    hash = Math.imul(hash, 0x01_00_01_93) >>> 0;
  }
  const random = mulberry32(hash);
  const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
  return {
    next: random,
    int,
    pick: <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T,
    chance: (probability) => random() < probability,
    sample<T>(items: readonly T[], count: number): T[] {
      const pool = [...items];
      const out: T[] = [];
      while (out.length < count && pool.length > 0)
        out.push(pool.splice(Math.floor(random() * pool.length), 1)[0] as T);
      return out;
    },
  };
}

/** The first value whose cumulative weight passes `draw`. */
export function weighted<T>(draw: number, choices: ReadonlyArray<readonly [T, number]>): T {
  let cumulative = 0;
  for (const [value, weight] of choices) {
    cumulative += weight;
    if (draw < cumulative) return value;
  }
  return (choices[choices.length - 1] as readonly [T, number])[0];
}
