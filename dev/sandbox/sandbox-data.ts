/**
 * The sandbox's data: the BC family first, from the seed's own stream exactly as it always was
 * (tests compare its values), then each other family from a stream of its own derived from the
 * seed and its name, so the BC data of a seed never changes whatever the other counts are.
 * Default counts give today's BCs with their reference records, and the new families'
 * reference records (countries, tags, accounts) with no contacts, moves or cylinders beyond them.
 * Models loaded from dumps come last (real/real-data.ts): what the other generators made in them
 * is completed to every field the dump declares, and their own records are added.
 */
import { generateAccountData } from './data/account-data.js';
import { generateBcData } from './data/bc-data.js';
import { generateCylinderData } from './data/cylinder-data.js';
import { generatePartnerData } from './data/partner-data.js';
import { seededRandom } from './data/seeded-random.js';
import { generateRealData, type RealDataOptions } from './real/real-data.js';
import type { SandboxStore } from './sandbox-store.js';

export interface SandboxDataOptions {
  orders: number;
  linesPerOrder: number;
  /** Contacts beyond the BCs' vendors (default 0). */
  partners?: number;
  /** Journal entries (default 0), with `linesPerMove` lines each (default 0). */
  moves?: number;
  linesPerMove?: number;
  /** Custom `x_cylinder` records (default 0). */
  cylinders?: number;
  seed: number;
  /** "Now" in microseconds: every generated timestamp is before it. */
  nowMicros: number;
  /** Login of the API user (uid 2). */
  username: string;
  /** Records of the models loaded from dumps, if any are. */
  real?: Pick<RealDataOptions, 'records' | 'linesPerMove'>;
}

export function generateSandboxData(store: SandboxStore, options: SandboxDataOptions): void {
  const { seed, nowMicros } = options;
  generateBcData(store, {
    orders: options.orders,
    linesPerOrder: options.linesPerOrder,
    seed,
    nowMicros,
    username: options.username,
  });
  generatePartnerData(store, seededRandom(seed, 'res.partner'), {
    partners: options.partners ?? 0,
    nowMicros,
  });
  generateAccountData(store, seededRandom(seed, 'account.move'), {
    moves: options.moves ?? 0,
    linesPerMove: options.linesPerMove ?? 0,
    nowMicros,
  });
  generateCylinderData(store, seededRandom(seed, 'x_cylinder'), {
    cylinders: options.cylinders ?? 0,
    nowMicros,
  });
  if (options.real !== undefined) generateRealData(store, { ...options.real, seed, nowMicros });
}
