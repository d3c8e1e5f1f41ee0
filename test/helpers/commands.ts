/**
 * The operator commands a test spawns, bundled once per test run as `npm run build` bundles them
 * (build.ts, test/global-setup.ts): a spawned process then starts as the image's does, in about
 * 0.4 s of CPU, instead of the 1.5 s tsx takes to compile the sources again in each process.
 */
import { join } from 'node:path';
import { inject } from 'vitest';

/** The bundled file of `entry` (`workers/main.ts`), to run with `node`. */
export function commandFile(entry: string): string {
  return join(inject('commandsDir'), entry.replace(/\.ts$/, '.js'));
}
