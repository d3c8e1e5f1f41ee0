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

describe("a sandbox process's control", () => {
  it('applies commands in their order and answers what each returned, or why it refused', async () => {
    const sandbox = await startSandboxProcess({ orders: 3, lines: 1, control: true });
    try {
      const id = await sandbox.control({
        op: 'create',
        model: 'dimagaz.bc',
        vals: { partner_id: 1, origin: 'made' },
      });
      await sandbox.control({ op: 'write', model: 'dimagaz.bc', ids: [id], vals: { origin: 'w' } });
      expect(
        await sandbox.control({
          op: 'records',
          model: 'dimagaz.bc',
          ids: [id],
          fields: ['origin'],
        }),
      ).toEqual([{ id, origin: 'w' }]);
      await expect(
        sandbox.control({ op: 'write', model: 'no.such.model', ids: [1], vals: {} }),
      ).rejects.toThrow(/refused a command: .*no model no.such.model/);

      // Odoo's clock ten minutes ahead stamps the next write ten minutes ahead.
      await sandbox.control({ op: 'clockSkew', ms: 600_000 });
      await sandbox.control({ op: 'write', model: 'dimagaz.bc', ids: [id], vals: { origin: 's' } });
      const [skewed] = await sandbox.control({
        op: 'records',
        model: 'dimagaz.bc',
        ids: [id],
        fields: ['write_date'],
      });
      const stamp = Date.parse(`${String(skewed!.write_date).replace(' ', 'T')}Z`);
      expect(stamp - Date.now()).toBeGreaterThan(500_000);
      await sandbox.control({ op: 'clockSkew', ms: 0 });

      // A late transaction's record appears once it committed.
      const { tx, created } = await sandbox.control({
        op: 'late',
        steps: [{ create: { model: 'dimagaz.bc', vals: { partner_id: 1 } } }],
      });
      const late = created[0];
      expect(await sandbox.control({ op: 'ids', model: 'dimagaz.bc' })).not.toContain(late);
      await sandbox.control({ op: 'commitLate', tx });
      await sandbox.control({ op: 'settled' });
      expect(await sandbox.control({ op: 'ids', model: 'dimagaz.bc' })).toContain(late);
    } finally {
      await sandbox.stop();
    }
  });
});
