/**
 * The other roots a root read alone must be read with when its children moved (a webhook's read,
 * a resync). A child moved to another root changes the one2many of the root it left, whose stamp
 * Odoo does not move; a run's scan lists the moved child and reads both roots (run-plan.ts). A
 * root read alone sees one side only, and once its write has put the child under it, the next
 * run's scan finds the child where the copy holds it and reads neither: the root it left would
 * list it in its data until the verify. So, from one fresh read of a root:
 *
 * - its former roots: the roots the copy holds the children it now lists under (and, for a
 *   one2many kept as a link table, the owners the copy links its targets to);
 * - its children's new roots: where Odoo now puts the children the copy holds under it that it
 *   no longer lists (one read of their link field), so a move is a move, not a deletion until
 *   the new root's next read.
 *
 * Both are read and written with it, and the roots these name in turn (sync-record.ts). A run's
 * page, which the scan planned, reads no other root: it only keeps the children moved to a root
 * it does not write from being deleted (`childrenMovedAway`).
 */
import { sql, type SQL } from 'drizzle-orm';
import type { OdooCallOptions, OdooContext, OdooRecord } from '../clients/odoo/odoo-types.js';
import type { Db } from '../db/create-db.js';
import { intArray, rowsOf } from '../db/sql-rows.js';
import {
  familyModels,
  relationScans,
  type ChildModel,
  type ModelDeclaration,
  type RecordFamily,
} from '../families/family.js';
import type { MappedRoot, RootPayload } from '../families/map-record.js';
import { childWriteShape } from '../families/write-shape.js';
import type { OdooSource } from './odoo-source.js';
import { linkTable, ownerRoot } from './relations.js';

/** The id of a many2one as Odoo reads it (`[id, name]`, or a bare id), or null. */
function idOf(value: unknown): number | null {
  if (Array.isArray(value)) return typeof value[0] === 'number' ? value[0] : null;
  return typeof value === 'number' ? value : null;
}

function idsOf(value: unknown): number[] {
  return Array.isArray(value) ? value.filter((id): id is number => typeof id === 'number') : [];
}

/** The records of `model` in a root's payload: the root itself, or its children of that model. */
function recordsOf(family: RecordFamily, payload: RootPayload, model: ModelDeclaration) {
  if (model === family.root) return [payload.root];
  return payload.children[family.children.indexOf(model as ChildModel)] ?? [];
}

/** Roots as a query gives them, without the root read. */
async function rootsOf(db: Db, query: SQL, rootId: number): Promise<number[]> {
  return rowsOf<{ root: number | null }>(await db.execute(query))
    .map((row) => row.root)
    .filter((root): root is number => root !== null && root !== rootId);
}

/**
 * What the copy says of one child model or link table, in one query for all of them (a record
 * job pays a round trip per query): the other roots it holds the listed records under (`root`),
 * and the records it holds under this root that the read no longer lists (`left_id`). `part` is
 * the query's position in `parts`.
 */
async function copiedSides(
  db: Db,
  parts: readonly { former: SQL; left: SQL }[],
): Promise<{ formerRoots: number[]; left: number[][] }> {
  if (parts.length === 0) return { formerRoots: [], left: [] };
  const queries = parts.flatMap(({ former, left }, part) => [
    sql`(select distinct ${part}::int as part, root, null::int as left_id from (${former}) f)`,
    sql`(select ${part}::int, null, left_id from (${left}) l)`,
  ]);
  const rows = rowsOf<{ part: number; root: number | null; left_id: number | null }>(
    await db.execute(sql.join(queries, sql` union all `)),
  );
  const left = parts.map((): number[] => []);
  const formerRoots: number[] = [];
  for (const row of rows) {
    if (row.root !== null) formerRoots.push(row.root);
    if (row.left_id !== null) left[row.part]!.push(row.left_id);
  }
  return { formerRoots, left };
}

/**
 * The roots to read with `payload` (see the module's header), without it; empty when nothing moved.
 */
export async function movedNeighbours(
  db: Db,
  odoo: OdooSource,
  family: RecordFamily,
  payload: RootPayload,
  context: OdooContext,
  call?: OdooCallOptions,
): Promise<number[]> {
  const rootId = payload.root.id;
  const children = family.children.map((child, i) => {
    const listed = intArray((payload.children[i] ?? []).map((record) => record.id));
    const table = childWriteShape(child).table;
    const parent = sql.identifier(child.parentColumn);
    return {
      former: sql`select ${parent} as root from ${table}
        where odoo_id = any(${listed}::int[]) and ${parent} <> ${rootId}`,
      left: sql`select odoo_id as left_id from ${table}
        where ${parent} = ${rootId} and not (odoo_id = any(${listed}::int[]))`,
    };
  });
  const scans = relationScans(family).map((scan) => {
    const owners: readonly OdooRecord[] = recordsOf(family, payload, scan.owner);
    const targets = intArray(owners.flatMap((owner) => idsOf(owner[scan.link.field])));
    const ownerIds = intArray(owners.map((owner) => owner.id));
    return {
      former: sql`select ${ownerRoot(scan, sql`l.owner_id`)} as root from ${linkTable(scan)} l
        where l.target_id = any(${targets}::int[]) and not (l.owner_id = any(${ownerIds}::int[]))`,
      left: sql`select distinct target_id as left_id from ${linkTable(scan)}
        where owner_id = any(${ownerIds}::int[]) and not (target_id = any(${targets}::int[]))`,
    };
  });
  const sides = await copiedSides(db, [...children, ...scans]);
  const found = new Set(sides.formerRoots.filter((root) => root !== rootId));
  // Where Odoo now has what the copy holds under this root and the read no longer lists.
  for (const [i, child] of family.children.entries()) {
    const left = sides.left[i]!;
    if (left.length === 0) continue;
    const now = await odoo.read(child.model, left, [child.parentField], { context }, call);
    for (const record of now) {
      const root = idOf(record[child.parentField]);
      if (root !== null && root !== rootId) found.add(root);
    }
  }
  for (const [j, scan] of relationScans(family).entries()) {
    const left = sides.left[family.children.length + j]!;
    if (left.length === 0) continue;
    const { relation, inverse } = scan.link;
    const newOwners = (await odoo.read(relation, left, [inverse], { context }, call))
      .map((record) => idOf(record[inverse]))
      .filter((owner): owner is number => owner !== null);
    for (const root of await rootsOf(
      db,
      sql`select distinct ${ownerRoot(scan, sql`o.id`)} as root
          from unnest(${intArray(newOwners)}::int[]) as o(id)`,
      rootId,
    ))
      found.add(root);
  }
  return [...found].sort((a, b) => a - b);
}

/**
 * The children the copy holds under a page's roots that no root of the page lists any more and
 * that Odoo still has, under another root: moved since the run's scan planned the page, to a root
 * the page does not write. A page leaves them where the copy holds them rather than delete them
 * (a move is not a deletion, and the feed would say the child was deleted, then created): the
 * read of their new root moves them, this run's later page or the next run's, which their own
 * stamp brings. By child model; empty when no child is missing from its root's list. One query
 * of the copy, and a read of Odoo only for the children some root no longer lists.
 */
export async function childrenMovedAway(
  db: Db,
  odoo: OdooSource,
  family: RecordFamily,
  roots: readonly MappedRoot[],
  context: OdooContext,
  call?: OdooCallOptions,
): Promise<ReadonlyMap<string, ReadonlySet<number>>> {
  const moved = new Map<string, ReadonlySet<number>>();
  if (family.children.length === 0 || roots.length === 0) return moved;
  const pageRoots = new Set(roots.map((root) => root.odooId));
  const rootIds = intArray([...pageRoots]);
  const queries = family.children.map((child, i) => {
    const listed = intArray(roots.flatMap((root) => root.children[i]!.map((c) => c.odooId)));
    return sql`(select ${i}::int as part, odoo_id from ${childWriteShape(child).table}
      where ${sql.identifier(child.parentColumn)} = any(${rootIds}::int[])
        and not (odoo_id = any(${listed}::int[])))`;
  });
  const left = Map.groupBy(
    rowsOf<{ part: number; odoo_id: number }>(
      await db.execute(sql.join(queries, sql` union all `)),
    ),
    (row) => row.part,
  );
  for (const [i, child] of family.children.entries()) {
    const ids = (left.get(i) ?? []).map((row) => row.odoo_id);
    if (ids.length === 0) continue;
    // `read` leaves out the records Odoo deleted: those are deleted from the copy.
    const now = await odoo.read(child.model, ids, [child.parentField], { context }, call);
    const elsewhere = now.filter((record) => {
      const root = idOf(record[child.parentField]);
      return root !== null && !pageRoots.has(root);
    });
    if (elsewhere.length > 0) moved.set(child.model, new Set(elsewhere.map((record) => record.id)));
  }
  return moved;
}

/** Whether a family can have moved children at all: a cheap test before any query. */
export function canMoveChildren(family: RecordFamily): boolean {
  return familyModels(family).length > 1 || relationScans(family).length > 0;
}
