import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './test/slow-first-sequencer.js';

export default defineConfig({
  test: {
    include: [
      'src/**/*.test.ts',
      'workers/**/*.test.ts',
      'dev/**/*.test.ts',
      'bench/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    sequence: { sequencer: SlowFirstSequencer },
    // Files run in parallel forks, each on its own database and queue prefix. Most of a test's
    // time is spent waiting (a lock to lapse, a worker process to start, Odoo's latency), so on
    // two cores four forks keep both busy: when the suite took 237 s, two forks took 408 s and
    // five 314 s. The suite of 2026-11-29 (about 600 s) kept two cores 95 % busy from start to
    // end: its time is its CPU, which is where to look to shorten it. A fork keeps its modules
    // from one file to the next (no import-time singletons hold state: the code builds
    // everything in factories).
    pool: 'forks',
    maxWorkers: 4,
    isolate: false,
  },
});
