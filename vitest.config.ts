import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './test/slow-first-sequencer.js';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'workers/**/*.test.ts', 'dev/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    sequence: { sequencer: SlowFirstSequencer },
    // Files run in parallel forks, each on its own database and queue prefix. Most of a test's
    // time is spent waiting (a lock to lapse, a worker process to start, Odoo's latency), so on
    // two cores four forks keep both busy: 237 s for the suite on a fresh clone (304 s before a
    // test's setup stopped taking a core for 85 s at the end; then 408 s with two forks, 314 s
    // with five). A fork keeps its modules from one file to the next (no import-time singletons
    // hold state: the code builds everything in factories).
    pool: 'forks',
    maxWorkers: 4,
    isolate: false,
  },
});
