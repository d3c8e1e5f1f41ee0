/**
 * One2many fields kept as link tables (configured families): Odoo moves no stamp of the owner
 * when a target joins, leaves or reorders it — a contact added to a company leaves the company's
 * `write_date` as it was — so the targets are scanned on their own, as children are, and each
 * target changed names the roots to read again: the owner it has now, and the one the copy links
 * it to. The reconcile compares the whole relation (docs/models.md, "Relations").
 */
import { sql, type SQL } from 'drizzle-orm';
import { isOdooError, type OdooError } from '../clients/odoo/odoo-errors.js';
import { isChild, type RelationScan } from '../families/family.js';
import { childWriteShape } from '../families/write-shape.js';
import type { SyncRunError } from '../db/schema/sync-log.js';
import { linkTableSql } from '../families/table-names.js';

/** The root of an owner by its Odoo id: itself, or a child's root as the copy holds it. */
export function ownerRoot(scan: RelationScan, owner: SQL): SQL {
  const { owner: model } = scan;
  if (!isChild(model)) return owner;
  return sql`(select c.${sql.identifier(model.parentColumn)} from ${childWriteShape(model).table} c
    where c.odoo_id = ${owner})`;
}

/** The link table of a scan. */
export function linkTable(scan: RelationScan): SQL {
  return linkTableSql(scan.link);
}

/** The stage kind of a scan's targets in a reconcile. */
export function relationKind(scan: RelationScan): string {
  return `link:${scan.key}`;
}

/**
 * Whether a one2many's target scan failed for a reason of that model's own: Odoo answered, and
 * refused (an access right the sync user lacks, a fault on that model). The relation waits, its
 * watermark stays, the rest of the run goes on. Odoo away or the credentials refused stop the
 * whole run, as always.
 */
export function isRelationRefused(error: unknown): error is OdooError {
  return (
    isOdooError(error) &&
    (error.code === 'ODOO_ACCESS' ||
      error.code === 'ODOO_SERVER_FAULT' ||
      error.code === 'ODOO_USER_ERROR')
  );
}

/** The run error a refused relation leaves: its key and Odoo's safe answer. */
export function relationRefusal(scan: RelationScan, error: OdooError): SyncRunError {
  return {
    code: error.code,
    message: `${scan.key}: its targets (${scan.link.relation}) cannot be scanned: ${error.safeMessage}; the relation waits, the rest goes on`,
  };
}
