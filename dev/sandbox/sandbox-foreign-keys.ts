/**
 * What the database's foreign keys do when records are deleted, as Odoo declares them with each
 * many2one's `ondelete`: `cascade` deletes the records pointing at them too (no ORM call: their
 * own rules do not run), `set null` empties the field (no write: their stamps stay),
 * `restrict` refuses the whole deletion with PostgreSQL's ForeignKeyViolation as Odoo reports
 * it; the many2many links to them disappear with them.
 */
import type { Row } from './sandbox-domain.js';
import { validationError } from './sandbox-exceptions.js';
import type { FieldSpec } from './models/field-spec.js';
import type { SandboxTable, SandboxTables } from './sandbox-tables.js';

/** Records whose many2one the deletion emptied, by table and field. */
export type ClearedReferences = Array<[SandboxTable, FieldSpec, Row[]]>;

/** What the database does to a record when the target of its many2one is deleted. */
export function ondeleteOf(field: FieldSpec): 'cascade' | 'set null' | 'restrict' {
  return field.ondelete ?? (field.required === true ? 'restrict' : 'set null');
}

/** Deletes `rows` and what cascades from them; returns the references it emptied. */
export function deleteThroughForeignKeys(
  tables: SandboxTables,
  table: SandboxTable,
  rows: readonly Row[],
): ClearedReferences {
  const doomed = cascadeOf(tables, table, rows);
  refuseRestricted(tables, doomed);
  const cleared: ClearedReferences = [];
  for (const [target, targetIds] of doomed) {
    for (const { table: owner, field } of tables.references(target.spec.name)) {
      if (field.type === 'many2many') {
        for (const row of owner.rows.values()) {
          const links = row[field.name] as number[] | null;
          if (links?.some((id) => targetIds.has(id)))
            row[field.name] = links.filter((id) => !targetIds.has(id));
        }
      } else if (ondeleteOf(field) === 'set null') {
        const spared = doomed.get(owner);
        const emptied = pointingAt(owner, field, targetIds).filter((row) => !spared?.has(row.id));
        for (const row of emptied) tables.updateRow(owner, row, { [field.name]: null });
        if (emptied.length > 0) cleared.push([owner, field, emptied]);
      }
    }
  }
  for (const [target, targetIds] of doomed)
    for (const id of targetIds) tables.deleteRow(target, id);
  return cleared;
}

/** The rows to delete: `rows` and, through `ondelete='cascade'`, everything under them. */
function cascadeOf(
  tables: SandboxTables,
  table: SandboxTable,
  rows: readonly Row[],
): Map<SandboxTable, Set<number>> {
  const doomed = new Map<SandboxTable, Set<number>>([[table, new Set(rows.map((r) => r.id))]]);
  const queue: Array<[SandboxTable, Set<number>]> = [[table, new Set(rows.map((r) => r.id))]];
  while (queue.length > 0) {
    const [target, targetIds] = queue.shift() as [SandboxTable, Set<number>];
    for (const { table: owner, field } of tables.references(target.spec.name)) {
      if (field.type !== 'many2one' || ondeleteOf(field) !== 'cascade') continue;
      const seen = doomed.get(owner) ?? new Set<number>();
      const fresh = new Set<number>();
      for (const row of pointingAt(owner, field, targetIds))
        if (!seen.has(row.id)) fresh.add(row.id);
      if (fresh.size === 0) continue;
      for (const id of fresh) seen.add(id);
      doomed.set(owner, seen);
      queue.push([owner, fresh]);
    }
  }
  return doomed;
}

/** PostgreSQL's ForeignKeyViolation, as Odoo reports it, when a `restrict` reference remains. */
function refuseRestricted(tables: SandboxTables, doomed: Map<SandboxTable, Set<number>>): void {
  for (const [target, targetIds] of doomed) {
    for (const { table: owner, field } of tables.references(target.spec.name)) {
      if (field.type !== 'many2one' || ondeleteOf(field) !== 'restrict') continue;
      const blocking = pointingAt(owner, field, targetIds).some(
        (row) => !doomed.get(owner)?.has(row.id),
      );
      if (!blocking) continue;
      const tableName = owner.spec.name.replace(/\./g, '_');
      throw validationError(
        'The operation cannot be completed: another model requires the record being deleted. ' +
          'If possible, archive it instead.\n\n' +
          `Model: ${owner.spec.description} (${owner.spec.name})\n` +
          `Constraint: ${tableName}_${field.name}_fkey\n`,
      );
    }
  }
}

/** The rows of `owner` whose many2one `field` points at one of `targets`. */
function pointingAt(owner: SandboxTable, field: FieldSpec, targets: ReadonlySet<number>): Row[] {
  const rows: Row[] = [];
  const byTarget = owner.index.get(field.name);
  if (byTarget !== undefined) {
    for (const target of targets)
      for (const id of byTarget.get(target) ?? []) {
        const row = owner.rows.get(id);
        if (row !== undefined) rows.push(row);
      }
    return rows;
  }
  for (const row of owner.rows.values()) if (targets.has(row[field.name] as number)) rows.push(row);
  return rows;
}
