import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BC_LINE_MODEL, BC_MODEL } from '../../src/sync/models.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

describe('initial sync', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({ sandbox: { orders: 200, linesPerOrder: 10 } });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('copies every BC and line with every stored field', async () => {
    const result = await h.run('sync-run', { trigger: 'test' });
    expect(result).toMatchObject({ status: 'succeeded' });
    expect(await h.diffWithSandbox()).toEqual([]);
    const bcs = await h.bcRows();
    expect(bcs).toHaveLength(200);
    const lines = await h.lineRows();
    expect(lines).toHaveLength(h.sandbox.control.ids(BC_LINE_MODEL).length);
    const fields = h.sandbox.control.storedFields(BC_MODEL);
    for (const bc of bcs) expect(Object.keys(bc.data).sort()).toEqual([...fields].sort());
  });
});
