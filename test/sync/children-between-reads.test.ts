/**
 * Where Odoo has no `web_read` (a server that says so: the client then reads in two calls; from
 * Odoo 17 on a page's roots and children come in one call, one transaction: docs/odoo.md, "Roots
 * and their children in one call"), a root's one2many and its children are read in two calls,
 * and Odoo may commit between them: a
 * child deleted or moved away after the root's read is listed by the root but not found under
 * it. Odoo moves no stamp of the root for either, so a copy that kept that list would keep it
 * until the verify. In every family with children (test/helpers/family-cases.ts), whichever read
 * meets it (a resync of the root, a run's page), the root is read again, and its copy lists the
 * children Odoo lists; a moved child reaches its new root by its own stamp, at the next run.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  caseCopy,
  childIdsOf,
  FAMILY_CASES,
  listedChildrenOf,
  useCaseHarness,
  type FamilyCase,
} from '../helpers/family-cases.js';

function childrenChangedBetweenReads(c: FamilyCase): void {
  const h = useCaseHarness(c, {
    size: { roots: 20, childrenPerRoot: 3 },
    copied: true,
  });
  const control = () => h.sandbox.control;
  const listed = (id: number) => listedChildrenOf(control(), c, id);
  beforeAll(() => {
    control().injectFault({
      kind: 'fault',
      faultCode: 1,
      method: 'web_read',
      message: `The method '${c.rootModel}.web_read' does not exist`,
      times: Infinity,
    });
  });

  /**
   * Runs `change` once the root's read has answered and the first call about its children has
   * arrived, before that call reads anything: the moment Odoo commits between the two reads.
   */
  async function betweenReads(change: () => void, job: Promise<unknown>): Promise<void> {
    const slowChildren = control().injectFault({
      kind: 'latency',
      latencyMs: 50,
      model: c.childModel!,
      times: Infinity,
    });
    try {
      await control().waitForCall({ model: c.rootModel, method: 'read' });
      await control().waitForCall({ model: c.childModel! });
      change();
    } finally {
      slowChildren.remove();
    }
    await job;
  }

  async function expectListedAsOdoo(root: number): Promise<void> {
    expect((await caseCopy(h, c).root(root))!.data[c.childList!]).toEqual(listed(root));
    expect(await h.diffWithSandbox()).toEqual([]);
  }

  it('a child deleted after a resync read its root: the root is read again', async () => {
    if (c.childModel === undefined) {
      expect(h.family.children).toEqual([]);
      return;
    }
    const [root] = c.standalone(control());
    const child = childIdsOf(control(), c, root!)[0]!;
    c.quietChild(control(), child);
    await betweenReads(
      () => control().unlink(c.childModel!, child),
      h.run('resync-record', { odooId: root!, trigger: 'test' }),
    );
    expect(listed(root!)).not.toContain(child);
    await expectListedAsOdoo(root!);
  });

  it("a child moved to another root after a run's page read its root: the root is read again", async () => {
    if (c.childModel === undefined) return;
    const ids = c.standalone(control());
    const [from, to] = [ids[1]!, ids[2]!];
    const child = childIdsOf(control(), c, from)[0]!;
    c.quietChild(control(), child);
    control().write(c.rootModel, from, { [c.rootText]: 'in the next window' });
    await betweenReads(
      () => control().write(c.childModel!, child, { [c.childLink!]: to }),
      h.run('sync-run', { trigger: 'test' }),
    );
    expect(listed(to)).toContain(child);
    expect((await caseCopy(h, c).root(from))!.data[c.childList!]).toEqual(listed(from));
    // The child's own stamp moved after this run's scan: the next run brings it to its new root.
    await h.run('sync-run', { trigger: 'test' });
    await expectListedAsOdoo(to);
  });
}

describe.each(FAMILY_CASES)(
  'a $name child that changes between its root read and its own',
  childrenChangedBetweenReads,
);
