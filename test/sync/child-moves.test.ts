/**
 * A child that moves to another root changes the one2many of the root it left, whose stamp Odoo
 * does not move: in every family with children (test/helpers/family-cases.ts) the run reads that
 * root again too, so its data stops listing the child at once, not at the next verify; and two
 * roots of one batch pass the child on as a move, not as a deletion and a creation.
 */
import { describe, expect, it } from 'vitest';
import {
  caseCopy,
  childIdsOf,
  FAMILY_CASES,
  LAGGING_CASES,
  useCaseHarness,
  type FamilyCase,
} from '../helpers/family-cases.js';

function childMoved(c: FamilyCase): void {
  const h = useCaseHarness(c, { size: { roots: 12, childrenPerRoot: 3 }, copied: true });

  it('leaves no trace in the data of the root it left, after one run', async () => {
    if (c.childModel === undefined) {
      // The row's root has no children to move.
      expect(h.family.children).toEqual([]);
      return;
    }
    const control = h.sandbox.control;
    const copy = caseCopy(h, c);
    const [from, to] = c.standalone(control);
    const listed = (id: number) =>
      control.records(c.rootModel, { ids: [id], fields: [c.childList!] })[0]![
        c.childList!
      ] as number[];
    const child = childIdsOf(control, c, from!)[0]!;
    // Where moving a child changes its roots' totals, one that weighs nothing: no stamp moves.
    c.quietChild(control, child);
    await h.run('sync-run', { trigger: 'test' });
    const stampOfFrom = control.writeDateMicros(c.rootModel, from!);
    const stampOfTo = control.writeDateMicros(c.rootModel, to!);
    const auditsBefore = (await h.auditRows()).length;
    // The child alone is written: Odoo moves no stamp of either root.
    control.write(c.childModel, child, { [c.childLink!]: to! });
    expect(control.writeDateMicros(c.rootModel, from!)).toBe(stampOfFrom);
    expect(control.writeDateMicros(c.rootModel, to!)).toBe(stampOfTo);

    await h.run('sync-run', { trigger: 'test' });
    expect((await copy.root(from!))!.data[c.childList!]).toEqual(listed(from!));
    expect((await copy.root(from!))!.data[c.childList!]).not.toContain(child);
    expect((await copy.root(to!))!.data[c.childList!]).toContain(child);
    expect(await h.diffWithSandbox()).toEqual([]);
    // Moved, not deleted and created again.
    const audit = (await h.auditRows())
      .slice(auditsBefore)
      .filter((row) => row.model === c.childModel && row.odooId === child);
    expect(audit.map((row) => row.action)).toEqual(['updated']);
  });
}

describe.each(FAMILY_CASES)('a $name child moved to another root', childMoved);
describe.each(LAGGING_CASES)(
  'a $name child moved to another root, read from a replica that lags',
  childMoved,
);
