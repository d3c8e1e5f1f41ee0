/**
 * The chaos run's short form, part of `npm test` (docs/chaos.md): one fixed seed, two minutes of
 * storm on one Redis server, every fault kind of those queues thrown at least once, then the
 * oracle. It asserts that every kind was thrown and that the oracle found no difference in the
 * copies, the feed, the deliveries, the stream, the failures table, the inbox, the processes or
 * their memory. Longer runs, on every kind of queues, are the bench's (`npm run chaos`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { FAULT_CLASSES, kindsFor } from '../../dev/chaos/chaos-plan.js';
import { runChaos } from '../../dev/chaos/chaos-run.js';

/** The seed the suite replays: `npm run chaos -- --seed 1 --minutes 2` is the same run. */
const SEED = 1;

const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-chaos-test-'));
let passed = false;
afterAll(() => {
  // A failed run's files (plan, operations, faults, each process's log) stay for its reader.
  if (passed) rmSync(dir, { recursive: true, force: true });
});

describe('a short chaos run', () => {
  it(
    `seed ${SEED}, two minutes on Redis: every fault class thrown, no difference`,
    { timeout: 20 * 60_000 },
    async () => {
      const lines: string[] = [];
      const result = await runChaos({
        seed: SEED,
        minutes: 2,
        queues: 'redis',
        sources: 2,
        workers: 2,
        opsPerSecond: 2,
        checkpointEveryMinutes: 5,
        size: { orders: 60, lines: 3, cylinders: 30 },
        dir,
        commandsDir: inject('commandsDir'),
        print: (line) => lines.push(line),
      });
      const report = `${lines.join('\n')}\nthe run's files: ${dir}`;
      expect(result.differences, report).toEqual([]);
      expect(result.faultErrors, report).toBe(0);
      for (const name of FAULT_CLASSES) expect(result.faults[name], report).toBeGreaterThan(0);
      for (const kind of kindsFor('redis'))
        expect(result.faultsByKind[kind] ?? 0, `${kind}\n${report}`).toBeGreaterThan(0);
      expect(result.faultsByKind['odoo-late-commit'] ?? 0, report).toBeGreaterThan(0);
      passed = true;
    },
  );
});
