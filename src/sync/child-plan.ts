/**
 * What a batch writes of one child model, pure: given the roots it writes with the children Odoo
 * lists under each, and the children the copy holds (under those roots, or elsewhere: a child can
 * move), which children to write and what their audit rows say, which to delete, and what each
 * root counts. The rule for one child is the writer's (write-rule.ts); `write-records.ts` runs the
 * statements. Tested as a table (child-plan.test.ts).
 *
 * - A child Odoo no longer lists under its root is gone from Odoo, or moved: deleted, unless
 *   another root of the batch lists it (it moves, and is written there) or the caller knows
 *   Odoo has it under a root the batch does not write (`movedAway`: left where it is).
 * - A child that moved from another root is written (re-parented) whatever its data.
 * - A child whose stored version is newer is stale: neither written nor deleted.
 */
import type { MappedChild } from '../families/map-record.js';
import { decideChild, type AuditEntry, type StoredVersion, type WriteMode } from './write-rule.js';

/** A child as the copy holds it. */
export interface StoredChild extends Omit<StoredVersion, 'archived'> {
  readonly odooId: number;
  /** The root it is under in the copy. */
  readonly rootId: number;
}

/** A root of the batch with the children Odoo lists under it, of one child model. */
export interface PlannedRoot {
  readonly odooId: number;
  readonly children: readonly MappedChild[];
}

/** What a root counts of its children. */
export interface ChildCounts {
  created: number;
  updated: number;
  deleted: number;
}

/** A child to write: new (no audit of a replaced row), or replacing a stored one. */
export interface ChildWrite {
  readonly child: MappedChild;
  /** Set when it replaces a stored child: its audit entry. */
  readonly replaces?: AuditEntry;
}

export interface ChildPlan {
  readonly writes: readonly ChildWrite[];
  readonly deletes: readonly number[];
  /** By root, every root of the batch. */
  readonly counts: ReadonlyMap<number, ChildCounts>;
}

export function planChildren(
  roots: readonly PlannedRoot[],
  stored: readonly StoredChild[],
  modeOf: (odooId: number) => WriteMode,
  movedAway: ReadonlySet<number> = new Set(),
): ChildPlan {
  const byId = new Map(stored.map((child) => [child.odooId, child]));
  const byRoot = Map.groupBy(stored, (child) => child.rootId);
  // A child that leaves one root of the batch for another moves: it is not deleted from the first.
  const listedInBatch = new Set(roots.flatMap((root) => root.children.map((c) => c.odooId)));
  const writes: ChildWrite[] = [];
  const deletes: number[] = [];
  const counts = new Map<number, ChildCounts>();
  for (const root of roots) {
    const count: ChildCounts = { created: 0, updated: 0, deleted: 0 };
    counts.set(root.odooId, count);
    const listed = new Set<number>();
    for (const child of root.children) {
      listed.add(child.odooId);
      const before = byId.get(child.odooId);
      const decision = decideChild(
        before && { ...before, archived: false, moved: before.rootId !== root.odooId },
        child,
        modeOf(child.odooId),
      );
      if (!decision.write) continue;
      if (before) {
        count.updated += 1;
        writes.push({ child, replaces: decision.audit });
      } else {
        count.created += 1;
        writes.push({ child });
      }
    }
    // Children Odoo no longer lists under this root: gone from Odoo (or moved: re-parented, or
    // left for the read of their new root).
    for (const before of byRoot.get(root.odooId) ?? []) {
      if (
        listed.has(before.odooId) ||
        listedInBatch.has(before.odooId) ||
        movedAway.has(before.odooId)
      )
        continue;
      count.deleted += 1;
      deletes.push(before.odooId);
    }
  }
  return { writes, deletes, counts };
}
