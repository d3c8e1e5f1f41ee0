/**
 * Starts the slow files first. Without durations of its own from an earlier run (a fresh clone,
 * CI), vitest starts the largest files first, so a short file that takes a minute (the mass
 * update: 122 lines, 40–70 s) started near the end and ran alone while the other forks had
 * nothing left to do. The other files keep vitest's order after these.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files that run for half a minute or more, mostly waiting (a lock to lapse, a process to start, a
 * cluster node to come back), slowest first: started last, they ran alone at the end while the
 * other forks had nothing left to do.
 */
const SLOWEST_FIRST = [
  // The chaos run's short form: five to six minutes on a loaded machine (docs/chaos.md).
  'test/chaos/chaos-short.test.ts',
  'test/sync/run-crashes.test.ts',
  'test/sync/mass-update.test.ts',
  'test/sync/failed-records.test.ts',
  'test/queues/redis-cluster.test.ts',
  'test/odoo/api-key-fleet.test.ts',
  'test/sync/reconcile.test.ts',
  'test/sync/worker-fleet.test.ts',
  'test/sync/call-budget-fleet.test.ts',
];

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const index = SLOWEST_FIRST.findIndex((file) => spec.moduleId.endsWith(`/${file}`));
      return index < 0 ? SLOWEST_FIRST.length : index;
    };
    const sorted = await super.sort(files);
    return sorted
      .map((spec, order) => ({ spec, order }))
      .sort((a, b) => rank(a.spec) - rank(b.spec) || a.order - b.order)
      .map(({ spec }) => spec);
  }
}
