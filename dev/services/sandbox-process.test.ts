/**
 * A sandbox process whose start is aborted is killed: a test hook that times out while the
 * sandbox builds its data (millions of records take minutes on a loaded machine) must leave no
 * process behind, or the test run never exits.
 */
import { describe, expect, it } from 'vitest';
import { startSandboxProcess } from './sandbox-process.js';

describe('startSandboxProcess', () => {
  it('kills a sandbox still starting when its start is aborted', async () => {
    const starting = new AbortController();
    const started = startSandboxProcess({ orders: 2_000, lines: 10, signal: starting.signal });
    starting.abort();
    const outcome = await started.then(
      async (sandbox) => {
        await sandbox.stop();
        return 'started after its start was aborted';
      },
      (error: unknown) => (error as Error).message,
    );
    // Its exit was seen: no process is left.
    expect(outcome).toMatch(/^sandbox exited/);
  });
});
