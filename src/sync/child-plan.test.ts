import { describe, expect, it } from 'vitest';
import type { MappedChild } from '../families/map-record.js';
import { planChildren, type ChildPlan, type PlannedRoot, type StoredChild } from './child-plan.js';
import { STAMP_FROM_FUTURE, STAMP_WENT_BACK, type WriteMode } from './write-rule.js';
import { at, heal, run, verify } from '../../test/helpers/write-modes.js';

/** A child as Odoo sent it, under `root`. */
const sent = (
  odooId: number,
  root: number,
  time = '10:00:00',
  data: Record<string, unknown> = { name: 'a' },
): MappedChild => ({
  odooId,
  parentId: root,
  writeDate: at(time),
  data,
  values: [],
  links: [],
  unfit: [],
  unread: [],
});

/** A child as the copy holds it, under `root`. */
const held = (odooId: number, root: number, over: Partial<StoredChild> = {}): StoredChild => ({
  odooId,
  rootId: root,
  writeDate: at('10:00:00'),
  data: { name: 'a' },
  staleLayout: false,
  ...over,
});

/** A plan as the table reads it: each write as `id action [changed]`, deletes, counts by root. */
function summary(plan: ChildPlan) {
  return {
    writes: plan.writes.map(({ child, replaces }) =>
      replaces
        ? `${child.odooId} ${replaces.action} [${replaces.changed.join(',')}]${replaces.reason ? ` (${replaces.reason})` : ''}`
        : `${child.odooId} new`,
    ),
    deletes: [...plan.deletes],
    counts: Object.fromEntries(plan.counts),
  };
}

const none = { created: 0, updated: 0, deleted: 0 };

describe("the children's plan", () => {
  it.each<[string, PlannedRoot[], StoredChild[], WriteMode, ReturnType<typeof summary>]>([
    [
      'a new child',
      [{ odooId: 1, children: [sent(11, 1)] }],
      [],
      run,
      { writes: ['11 new'], deletes: [], counts: { 1: { ...none, created: 1 } } },
    ],
    [
      'unchanged: same stamp, same data',
      [{ odooId: 1, children: [sent(11, 1)] }],
      [held(11, 1)],
      run,
      { writes: [], deletes: [], counts: { 1: none } },
    ],
    [
      'updated: same stamp, other data',
      [{ odooId: 1, children: [sent(11, 1, '10:00:00', { name: 'b' })] }],
      [held(11, 1)],
      run,
      { writes: ['11 updated [name]'], deletes: [], counts: { 1: { ...none, updated: 1 } } },
    ],
    [
      'stale: an older stamp is neither written nor deleted',
      [{ odooId: 1, children: [sent(11, 1, '09:59:59', { name: 'b' })] }],
      [held(11, 1)],
      run,
      { writes: [], deletes: [], counts: { 1: none } },
    ],
    [
      'gone: a child Odoo no longer lists under its root',
      [{ odooId: 1, children: [sent(11, 1)] }],
      [held(11, 1), held(12, 1)],
      run,
      { writes: [], deletes: [12], counts: { 1: { ...none, deleted: 1 } } },
    ],
    [
      'moved within the batch: written under its new root, not deleted from the old one',
      [
        { odooId: 1, children: [] },
        { odooId: 2, children: [sent(11, 2)] },
      ],
      [held(11, 1)],
      run,
      {
        writes: ['11 updated []'],
        deletes: [],
        counts: { 1: none, 2: { ...none, updated: 1 } },
      },
    ],
    [
      'moved from a root outside the batch: written whatever its data',
      [{ odooId: 2, children: [sent(11, 2)] }],
      [held(11, 1)],
      run,
      { writes: ['11 updated []'], deletes: [], counts: { 2: { ...none, updated: 1 } } },
    ],
    [
      'relaid: written under an older layout, Odoo changed nothing',
      [{ odooId: 1, children: [sent(11, 1, '10:00:00', { name: 'a', x_new: 1 })] }],
      [held(11, 1, { staleLayout: true })],
      run,
      { writes: ['11 relaid [x_new]'], deletes: [], counts: { 1: { ...none, updated: 1 } } },
    ],
    [
      'moved and relaid: a move is an update',
      [{ odooId: 2, children: [sent(11, 2, '10:00:00', { name: 'a', x_new: 1 })] }],
      [held(11, 1, { staleLayout: true })],
      run,
      { writes: ['11 updated [x_new]'], deletes: [], counts: { 2: { ...none, updated: 1 } } },
    ],
    [
      'drift: a verify writes what differs, audited drift',
      [{ odooId: 1, children: [sent(11, 1, '10:00:00', { name: 'b' }), sent(12, 1)] }],
      [held(11, 1), held(12, 1)],
      verify,
      { writes: ['11 drift [name]'], deletes: [], counts: { 1: { ...none, updated: 1 } } },
    ],
    [
      'drift: a verify writes a child the copy lacks',
      [{ odooId: 1, children: [sent(11, 1)] }],
      [],
      verify,
      { writes: ['11 new'], deletes: [], counts: { 1: { ...none, created: 1 } } },
    ],
    [
      "future stamp: the copy's stamp was set by a clock ahead of Odoo's",
      [{ odooId: 1, children: [sent(11, 1, '10:01:00', { name: 'b' })] }],
      [held(11, 1, { writeDate: at('11:00:00') })],
      run,
      {
        writes: [`11 drift [name] (${STAMP_FROM_FUTURE})`],
        deletes: [],
        counts: { 1: { ...none, updated: 1 } },
      },
    ],
    [
      'restore: an Odoo restored from a backup is the truth under the lease',
      [{ odooId: 1, children: [sent(11, 1, '09:00:00', { name: 'b' })] }],
      [held(11, 1)],
      heal,
      {
        writes: [`11 drift [name] (${STAMP_WENT_BACK})`],
        deletes: [],
        counts: { 1: { ...none, updated: 1 } },
      },
    ],
    [
      'restore: without the lease, the older stamp stays out',
      [{ odooId: 1, children: [sent(11, 1, '09:00:00', { name: 'b' })] }],
      [held(11, 1)],
      run,
      { writes: [], deletes: [], counts: { 1: none } },
    ],
    [
      'restored: a root back from the archive keeps its children, writes what changed',
      [{ odooId: 1, children: [sent(11, 1), sent(12, 1, '10:00:01', { name: 'c' }), sent(13, 1)] }],
      [held(11, 1), held(12, 1)],
      run,
      {
        writes: ['12 updated [name]', '13 new'],
        deletes: [],
        counts: { 1: { created: 1, updated: 1, deleted: 0 } },
      },
    ],
  ])('%s', (_case, roots, stored, mode, expected) => {
    expect(summary(planChildren(roots, stored, () => mode))).toEqual(expected);
  });

  it('moved to a root outside the batch: left where it is, the others gone deleted', () => {
    const roots = [{ odooId: 1, children: [sent(11, 1)] }];
    const stored = [held(11, 1), held(12, 1), held(13, 1)];
    expect(summary(planChildren(roots, stored, () => run, new Set([12])))).toEqual({
      writes: [],
      deletes: [13],
      counts: { 1: { ...none, deleted: 1 } },
    });
  });
});
