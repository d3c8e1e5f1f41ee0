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

/**
 * What every spawned command's environment starts from, nothing of the test run's own: the `PATH`
 * and `HOME` it runs with, and Node's compile cache beside the bundles. The packages a command
 * loads are then compiled by the first process of the run, not again by each of the run's
 * hundred-odd workers and CLIs: the commands test/cli and test/worker spawn took a median of 0.78
 * CPU-seconds each without it, 0.66 with.
 */
export function commandBaseEnv(): { PATH: string; HOME: string; NODE_COMPILE_CACHE: string } {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NODE_COMPILE_CACHE: join(inject('commandsDir'), '.compile-cache'),
  };
}
