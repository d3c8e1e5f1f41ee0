/**
 * One2many fields kept as link tables (configured families): Odoo moves no stamp of the owner
 * when a target joins, leaves or reorders it — a contact added to a company leaves the company's
 * `write_date` as it was — so the targets are scanned on their own, as children are, and each
 * target changed names the roots to read again: the owner it has now, and the one the copy links
 * it to. The reconcile compares the whole relation (docs/models.md, "Relations").
 */
import { sql, type SQL } from 'drizzle-orm';
import { isChild, type RelationScan } from '../families/family.js';
import { childWriteShape } from '../families/write-shape.js';

/** The root of an owner by its Odoo id: itself, or a child's root as the copy holds it. */
export function ownerRoot(scan: RelationScan, owner: SQL): SQL {
  const { owner: model } = scan;
  if (!isChild(model)) return owner;
  return sql`(select c.${sql.identifier(model.parentColumn)} from ${childWriteShape(model).table} c
    where c.odoo_id = ${owner})`;
}

/** The link table of a scan. */
export function linkTable(scan: RelationScan): SQL {
  return sql`${sql.identifier(scan.link.table)}`;
}

/** The stage kind of a scan's targets in a reconcile. */
export function relationKind(scan: RelationScan): string {
  return `link:${scan.key}`;
}
