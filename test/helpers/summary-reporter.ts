/**
 * Prints one plain closing line, `tests: N passed, N failed, N skipped`, so a CI that does not
 * know vitest's own summary can still read the outcome; before it, the files that held a fork
 * longest, their collection included. vitest's own list counts only a file's tests and hooks: a
 * describe block that spent 85 s building its data at collection showed there as 0.6 s.
 */
import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

/** Files listed as the slowest. */
const SLOWEST_LISTED = 8;

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') failed += 1;
        else skipped += 1;
      }
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) failed += 1;
    }
    const slowest = testModules
      .map((module) => {
        const { collectDuration, setupDuration, duration } = module.diagnostic();
        return {
          file: relative(process.cwd(), module.moduleId),
          collectMs: collectDuration,
          totalMs: collectDuration + setupDuration + duration,
        };
      })
      .sort((a, b) => b.totalMs - a.totalMs)
      .slice(0, SLOWEST_LISTED);
    process.stdout.write('\nslowest files (collection + setup + tests):\n');
    for (const { file, collectMs, totalMs } of slowest)
      process.stdout.write(
        `  ${(totalMs / 1_000).toFixed(1).padStart(6)} s  ${file} (collected in ${(collectMs / 1_000).toFixed(1)} s)\n`,
      );
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
