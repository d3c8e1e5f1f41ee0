/**
 * The chaos runs that once found a defect (docs/chaos.md, "What a run found"), replayed: each
 * seed on its queue store for ten minutes, on this machine, and its line of the runs' table.
 * Seed 1, the short run, is in `npm test` instead. A run takes about 12 minutes, so this bench is
 * named only (`npm run bench -- chaos`), never part of `npm run bench`; give it a quiet machine.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChaosQueues } from '../dev/chaos/chaos-plan.js';
import {
  CHAOS_DEFAULTS,
  CHAOS_TABLE_HEADER,
  chaosTableRow,
  runChaos,
} from '../dev/chaos/chaos-run.js';

/** The seeds whose first run found a defect, on the queues they found it on. */
export const CHAOS_REPLAYS: readonly { readonly seed: number; readonly queues: ChaosQueues }[] = [
  { seed: 7, queues: 'postgres' },
  { seed: 8, queues: 'redis' },
  { seed: 9, queues: 'postgres' },
  { seed: 10, queues: 'sentinel' },
  { seed: 11, queues: 'postgres' },
  { seed: 16, queues: 'postgres' },
];

export interface ChaosReplay {
  readonly seed: number;
  readonly queues: ChaosQueues;
  readonly differences: number;
  readonly row: string;
  readonly dir: string;
}

export async function runChaosReplays(
  log: (line: string) => void,
): Promise<readonly ChaosReplay[]> {
  const replays: ChaosReplay[] = [];
  for (const { seed, queues } of CHAOS_REPLAYS) {
    const dir = mkdtempSync(join(tmpdir(), `erp-bridge-chaos-${seed}-${queues}-`));
    log(`[chaos] seed ${seed} on ${queues}, ${CHAOS_DEFAULTS.minutes} minutes: ${dir}`);
    const result = await runChaos({ ...CHAOS_DEFAULTS, seed, queues, dir });
    replays.push({
      seed,
      queues,
      differences: result.differences.length,
      row: chaosTableRow(result),
      dir,
    });
  }
  return replays;
}

export function describeChaosReplays(replays: readonly ChaosReplay[]): string {
  return [
    'Chaos runs that once found a defect, replayed (docs/chaos.md)',
    CHAOS_TABLE_HEADER,
    ...replays.map((replay) => replay.row),
  ].join('\n');
}
