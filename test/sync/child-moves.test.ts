/**
 * A child that moves to another root changes the one2many of the root it left, whose stamp Odoo
 * does not move: the run reads that root again too, so its data stops listing the child at once,
 * not at the next verify; and two roots of one batch pass the child on as a move, not as a
 * deletion and a creation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BC_LINE_MODEL, BC_MODEL } from '../../src/families/bcs/family.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

describe('a child moved to another root', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({ sandbox: { orders: 6, linesPerOrder: 3 } });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('leaves no trace in the data of the root it left, after one run', async () => {
    const c = h.sandbox.control;
    const [from, to] = c.ids(BC_MODEL, { activeOnly: true });
    const lineIds = (id: number) =>
      c.records(BC_MODEL, { ids: [id], fields: ['line_ids'] })[0]!.line_ids as number[];
    const line = lineIds(from!)[0]!;
    const stampOfFrom = c.writeDateMicros(BC_MODEL, from!);
    // The line alone is written: Odoo moves no stamp of either BC.
    c.write(BC_LINE_MODEL, line, { bc_id: to! });
    expect(c.writeDateMicros(BC_MODEL, from!)).toBe(stampOfFrom);

    await h.run('sync-run', { trigger: 'test' });
    const copy = await h.copyOf(from!);
    expect(copy.bc!.data.line_ids).toEqual(lineIds(from!));
    expect(copy.bc!.data.line_ids).not.toContain(line);
    expect((await h.copyOf(to!)).bc!.data.line_ids).toContain(line);
    expect(await h.diffWithSandbox()).toEqual([]);
    // Moved, not deleted and created again.
    const audit = (await h.auditRows()).filter(
      (row) => row.model === BC_LINE_MODEL && row.odooId === line,
    );
    expect(audit.map((row) => row.action)).toEqual(['created', 'updated']);
  });
});
