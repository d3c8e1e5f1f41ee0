/**
 * A child that moves to another root changes the one2many of the root it left, whose stamp Odoo
 * does not move. In every family with children (test/helpers/family-cases.ts), with both roots'
 * stamps out of the run's overlap window (so nothing but the rule reads them), the root it left
 * stops listing the child at once, not at the next verify — whichever read saw the move: a run's
 * scan, a webhook about the child, or a resync of either root — and the child passes on as a move,
 * not as a deletion and a creation.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../dev/sandbox/sandbox-time.js';
import {
  caseCopy,
  childIdsOf,
  FAMILY_CASES,
  listedChildrenOf,
  POSTGRES_QUEUE_CASES,
  LAGGING_CASES,
  useCaseHarness,
  type FamilyCase,
} from '../helpers/family-cases.js';

const OVERLAP_SECONDS = 60;
const MINUTE_MS = 60_000;

function childMoved(c: FamilyCase): void {
  const clock = createManualClock(new Date('2026-03-02T08:00:00.250Z'));
  const h = useCaseHarness(c, {
    size: { roots: 30, childrenPerRoot: 3 },
    sandbox: { clock: clock.source },
    overlapSeconds: OVERLAP_SECONDS,
    copied: true,
  });
  const control = () => h.sandbox.control;
  const listed = (id: number) => listedChildrenOf(control(), c, id);

  /**
   * Moves a quiet child of `from` to `to` with both roots' stamps out of the next window: another
   * root written ten minutes later moves the watermark past them first.
   */
  async function moveOutOfWindow(from: number, to: number, bump: number): Promise<number> {
    return (await movesOutOfWindow([[from, to]], bump))[0]!;
  }

  /** The same for several moves at once: each `[from, to]` moves a quiet child of `from`. */
  async function movesOutOfWindow(
    moves: readonly (readonly [number, number])[],
    bump: number,
  ): Promise<number[]> {
    const children = moves.map(([from]) => childIdsOf(control(), c, from)[0]!);
    // Where moving a child changes its roots' totals, one that weighs nothing: no stamp moves.
    for (const child of children) c.quietChild(control(), child);
    clock.advanceMs(10 * MINUTE_MS);
    control().write(c.rootModel, bump, { [c.rootText]: `moves the watermark on ${bump}` });
    await h.run('sync-run', { trigger: 'test' });
    clock.advanceMs(10 * MINUTE_MS);
    const roots = [...new Set(moves.flat())];
    const stamps = roots.map((id) => control().writeDateMicros(c.rootModel, id));
    const windowFromMicros = ((await h.watermark())!.getTime() - OVERLAP_SECONDS * 1_000) * 1_000;
    for (const stamp of stamps) expect(stamp).toBeLessThan(windowFromMicros);
    // The children alone are written: Odoo moves no stamp of any root.
    for (const [i, [, to]] of moves.entries())
      control().write(c.childModel!, children[i]!, { [c.childLink!]: to });
    expect(roots.map((id) => control().writeDateMicros(c.rootModel, id))).toEqual(stamps);
    return children;
  }

  async function expectMoved(from: number, to: number, child: number, auditsBefore: number) {
    const copy = caseCopy(h, c);
    expect((await copy.root(from))!.data[c.childList!]).toEqual(listed(from));
    expect((await copy.root(from))!.data[c.childList!]).not.toContain(child);
    expect((await copy.root(to))!.data[c.childList!]).toContain(child);
    expect(await h.diffWithSandbox()).toEqual([]);
    // Moved, not deleted and created again.
    const audit = (await h.auditRows())
      .slice(auditsBefore)
      .filter((row) => row.model === c.childModel && row.odooId === child);
    expect(audit.map((row) => row.action)).toEqual(['updated']);
  }

  /** Each test's two roots, and the root whose edits move the watermark (the same for all). */
  const pairs = () => {
    const ids = c.standalone(control());
    return [0, 1, 2, 3].map((i) => [ids[i * 2]!, ids[i * 2 + 1]!, ids[8]!] as const);
  };

  it('by a run: leaves no trace in the data of the root it left, after one run', async () => {
    if (c.childModel === undefined) {
      // The row's root has no children to move.
      expect(h.family.children).toEqual([]);
      return;
    }
    const [from, to, bump] = pairs()[0]!;
    const child = await moveOutOfWindow(from, to, bump);
    const auditsBefore = (await h.auditRows()).length;
    await h.run('sync-run', { trigger: 'test' });
    await expectMoved(from, to, child, auditsBefore);
  });

  it('by a webhook about the child: the root it left is read with the one it joined', async () => {
    if (c.childModel === undefined) return;
    const [from, to, bump] = pairs()[1]!;
    const child = await moveOutOfWindow(from, to, bump);
    const auditsBefore = (await h.auditRows()).length;
    await h.run('webhook-record', {
      model: c.childModel,
      recordId: child,
      receivedAtMs: Date.now(),
    });
    await expectMoved(from, to, child, auditsBefore);
  });

  it('by a resync of the root it joined: the root it left is read too', async () => {
    if (c.childModel === undefined) return;
    const [from, to, bump] = pairs()[2]!;
    const child = await moveOutOfWindow(from, to, bump);
    const auditsBefore = (await h.auditRows()).length;
    await h.run('resync-record', { odooId: to, trigger: 'test' });
    await expectMoved(from, to, child, auditsBefore);
  });

  it("by a resync of another root whose child joined the same root: the root it left is read with that root's", async () => {
    if (c.childModel === undefined) return;
    // Two children join `to`: one from `from`, one from `other`. Reading `other` alone reads
    // `to` with it, which now lists the child `from` left: `from` is read too.
    const ids = c.standalone(control());
    const [from, other, to, bump] = [ids[9]!, ids[10]!, ids[11]!, ids[8]!];
    const [child] = await movesOutOfWindow(
      [
        [from, to],
        [other, to],
      ],
      bump,
    );
    const auditsBefore = (await h.auditRows()).length;
    await h.run('resync-record', { odooId: other, trigger: 'test' });
    await expectMoved(from, to, child!, auditsBefore);
  });

  it('by a resync of the root it left: the root it joined gets it, a move not a deletion', async () => {
    if (c.childModel === undefined) return;
    const [from, to, bump] = pairs()[3]!;
    const child = await moveOutOfWindow(from, to, bump);
    const auditsBefore = (await h.auditRows()).length;
    await h.run('resync-record', { odooId: from, trigger: 'test' });
    await expectMoved(from, to, child, auditsBefore);
  });

  it('during a run, after its scan: the page of the root it left keeps it, the next run moves it', async () => {
    if (c.childModel === undefined) return;
    const ids = c.standalone(control());
    const [from, to] = [ids.at(-1)!, ids.at(-2)!];
    const child = childIdsOf(control(), c, from)[0]!;
    c.quietChild(control(), child);
    await h.run('sync-run', { trigger: 'test' });
    clock.advanceMs(10 * MINUTE_MS);
    control().write(c.rootModel, from, { [c.rootText]: `edited ${from}` });
    const auditsBefore = (await h.auditRows()).length;
    // The child moves once the scan has planned `from` and its page's read has arrived, before
    // that read reads anything: `to`, whose stamp Odoo does not move, is in no page of the run.
    const slowPage = control().injectFault({
      kind: 'latency',
      latencyMs: 50,
      model: c.rootModel,
      method: 'read',
      times: Infinity,
    });
    const running = h.run('sync-run', { trigger: 'test' });
    try {
      await control().waitForCall({ model: c.rootModel, method: 'read' });
      control().write(c.childModel, child, { [c.childLink!]: to });
    } finally {
      slowPage.remove();
    }
    await expect(running).resolves.toMatchObject({ status: 'succeeded' });
    const under = async (root: number) =>
      (await caseCopy(h, c).children(root)).map((row) => row.odoo_id);
    // A replica that lags shows the move to no read of this run: its page wrote what it showed.
    if (c.replicaLagMs === undefined)
      expect((await caseCopy(h, c).root(from))!.data[c.childList!]).toEqual(listed(from));
    // Not deleted: still under the root it left, until the read of the one it joined.
    expect(await under(from)).toContain(child);

    await h.run('sync-run', { trigger: 'test' });
    expect(await under(from)).not.toContain(child);
    expect(await under(to)).toContain(child);
    expect(await h.diffWithSandbox()).toEqual([]);
    // Moved, never deleted and created again (a lagging read may also have updated it under the
    // root it left: its name there changed).
    const audit = (await h.auditRows())
      .slice(auditsBefore)
      .filter((row) => row.model === c.childModel && row.odooId === child);
    expect(new Set(audit.map((row) => row.action))).toEqual(new Set(['updated']));
  });
}

/**
 * A mass move: one job reads a page of roots with its own at most (ODOO_PAGE_SIZE, 2 here), and
 * leaves each root past it to the next run as a pending failure that says why.
 */
function massMove(c: FamilyCase): void {
  const clock = createManualClock(new Date('2026-03-02T08:00:00.250Z'));
  const h = useCaseHarness(c, {
    size: { roots: 12, childrenPerRoot: 2 },
    sandbox: { clock: clock.source },
    overlapSeconds: OVERLAP_SECONDS,
    pageSize: 2,
    copied: true,
  });
  const control = () => h.sandbox.control;
  const listed = (id: number) => listedChildrenOf(control(), c, id);

  it('by a resync of a root children joined from more roots than a page: the rest wait as pending failures, and the next run reads them', async () => {
    if (c.childModel === undefined) return;
    const ids = c.standalone(control());
    const [to, bump, ...froms] = [ids[0]!, ids[1]!, ids[2]!, ids[3]!, ids[4]!];
    const children = froms.map((from) => childIdsOf(control(), c, from)[0]!);
    for (const child of children) c.quietChild(control(), child);
    clock.advanceMs(10 * MINUTE_MS);
    control().write(c.rootModel, bump, { [c.rootText]: 'moves the watermark on' });
    await h.run('sync-run', { trigger: 'test' });
    clock.advanceMs(10 * MINUTE_MS);
    for (const child of children) control().write(c.childModel, child, { [c.childLink!]: to });

    await h.run('resync-record', { odooId: to, trigger: 'test' });
    const failures = await h.failures();
    expect(failures.map((failure) => failure.errorCode)).toEqual(['SYNC_NEIGHBOUR_DEFERRED']);
    const [deferred] = failures.map((failure) => failure.odooId);
    expect(froms).toContain(deferred);
    const copy = caseCopy(h, c);
    for (const from of froms.filter((id) => id !== deferred))
      expect((await copy.root(from))!.data[c.childList!]).toEqual(listed(from));
    expect((await copy.root(to))!.data[c.childList!]).toEqual(listed(to));

    await h.run('sync-run', { trigger: 'test' });
    expect(await h.failures()).toEqual([]);
    expect(await h.diffWithSandbox()).toEqual([]);
  });
}

describe.each(FAMILY_CASES)('a $name child moved to another root', childMoved);
describe.each(FAMILY_CASES)('$name children moved from more roots than a page', massMove);
describe.each(POSTGRES_QUEUE_CASES)(
  'a $name child moved to another root, its queues in PostgreSQL',
  childMoved,
);
describe.each(LAGGING_CASES)(
  'a $name child moved to another root, read from a replica that lags',
  childMoved,
);
