import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'workers/**/*.test.ts', 'dev/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: files run in parallel forks, each on its own database and queue prefix. A fork
    // keeps its modules from one file to the next (no import-time singletons hold state: the
    // code builds everything in factories): 479 s for the suite instead of 543 s.
    pool: 'forks',
    maxWorkers: 2,
    isolate: false,
  },
});
