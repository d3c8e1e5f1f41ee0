/**
 * Related fields of the models loaded from dumps (`move_id.journal_id`, `partner_id.email`):
 * following a path as Odoo's `_compute_related` does (through a many2one, or the first record of
 * an x2many), and keeping the stored ones up to date: a new record gets them at creation, a
 * record written gets those whose path starts with a field it changed, and the records pointing
 * at a written one get theirs recomputed — stamped, as Odoo's recompute flushes them, when the
 * value changed (a move's new journal moves its lines' `journal_id` and their `write_date`).
 */
import type { FieldSpec } from '../models/field-spec.js';
import { holdsValue } from '../models/field-spec.js';
import { stamp, type ModelRules, type RuleContext } from '../rules/model-rules.js';
import type { Row } from '../sandbox-domain.js';
import type { SandboxTable, SandboxTables } from '../sandbox-tables.js';

/** The value of a field that is not kept in the record (computed, related): internal form. */
export type ComputeValue = (
  tables: SandboxTables,
  table: SandboxTable,
  field: FieldSpec,
  row: Row,
) => unknown;

/**
 * The value at the end of `path` from `row` (internal form: a many2one as its id, an x2many as
 * its ids); null when a hop is empty; undefined when a hop names a field the sandbox's model
 * lacks (a hand-made or stub model that does not have it).
 */
export function followPath(
  tables: SandboxTables,
  table: SandboxTable,
  row: Row,
  path: string,
  compute: ComputeValue,
): unknown {
  const names = path.split('.');
  let current = { table, row };
  for (const name of names.slice(0, -1)) {
    const field = current.table.fields.get(name);
    const comodel = field?.relation === undefined ? undefined : tables.table(field.relation);
    if (field === undefined || comodel === undefined) return undefined;
    const target = firstTarget(tables, field, current.row, compute, current.table);
    if (target === undefined) return null;
    const next = comodel.rows.get(target);
    if (next === undefined) return null;
    current = { table: comodel, row: next };
  }
  const last = current.table.fields.get(names[names.length - 1] as string);
  if (last === undefined) return undefined;
  return valueOf(tables, current.table, last, current.row, compute);
}

/** Any field's value on a record, in internal form. */
function valueOf(
  tables: SandboxTables,
  table: SandboxTable,
  field: FieldSpec,
  row: Row,
  compute: ComputeValue,
): unknown {
  if (field.name === 'id') return row.id;
  if (field.type === 'one2many' && field.store) return tables.one2manyIds(field, row.id);
  // Links in the comodel's order, and a relation table's other side read from there.
  if (field.type === 'many2many' && field.store) return tables.many2manyIds(field, row);
  if (holdsValue(field)) return row[field.name] ?? null;
  return compute(tables, table, field, row);
}

function firstTarget(
  tables: SandboxTables,
  field: FieldSpec,
  row: Row,
  compute: ComputeValue,
  table: SandboxTable,
): number | undefined {
  const value = valueOf(tables, table, field, row, compute);
  if (typeof value === 'number') return value;
  return Array.isArray(value) ? (value[0] as number | undefined) : undefined;
}

/** The stored related fields of a model. */
function storedRelated(table: SandboxTable): FieldSpec[] {
  return table.spec.fields.filter((field) => field.store && field.related !== undefined);
}

/** `row`'s stored related fields (those `only` keeps) whose value changed, as new values. */
function recomputed(
  tables: SandboxTables,
  table: SandboxTable,
  row: Row,
  compute: ComputeValue,
  only: (field: FieldSpec) => boolean = () => true,
): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const field of storedRelated(table)) {
    if (!only(field)) continue;
    const value = followPath(tables, table, row, field.related as string, compute);
    if (value === undefined || sameValue(row[field.name], value)) continue;
    if (field.type === 'many2many') changes[field.name] = [...(value as number[])];
    else changes[field.name] = Array.isArray(value) ? (value[0] ?? null) : value;
  }
  return changes;
}

/** Applies `row`'s recomputed related fields through the tables (indexes follow); true if any. */
function refresh(
  tables: SandboxTables,
  table: SandboxTable,
  row: Row,
  compute: ComputeValue,
  only?: (field: FieldSpec) => boolean,
): boolean {
  const changes = recomputed(tables, table, row, compute, only);
  if (Object.keys(changes).length === 0) return false;
  tables.updateRow(table, row, changes);
  return true;
}

/** The rules that keep `model`'s stored related fields, and those pointing at it, up to date. */
export function relatedFieldRules(model: string, compute: ComputeValue): ModelRules {
  return {
    computeNew(row, ctx) {
      // Not in the table yet: no index to keep.
      Object.assign(row, recomputed(ctx.tables, ctx.tables.requireTable(model), row, compute));
    },
    created(rows, ctx) {
      // Again once the x2many commands are applied (a path through one).
      const table = ctx.tables.requireTable(model);
      for (const row of rows) refresh(ctx.tables, table, row, compute);
    },
    written(rows, changed, ctx) {
      const table = ctx.tables.requireTable(model);
      const startsWithChange = (field: FieldSpec) =>
        changed.has((field.related as string).split('.')[0] as string);
      for (const row of rows) refresh(ctx.tables, table, row, compute, startsWithChange);
      refreshDependents(ctx, table, rows, changed, compute);
    },
    recomputeStored(rows, tables) {
      const table = tables.requireTable(model);
      for (const row of rows) refresh(tables, table, row, compute);
    },
  };
}

/** Records whose stored related field goes through a written record's changed field. */
function refreshDependents(
  ctx: RuleContext,
  written: SandboxTable,
  rows: readonly Row[],
  changed: ReadonlySet<string>,
  compute: ComputeValue,
): void {
  const ids = new Set(rows.map((row) => row.id));
  for (const model of ctx.tables.models()) {
    const table = ctx.tables.requireTable(model);
    for (const field of storedRelated(table)) {
      const [hop, next] = (field.related as string).split('.');
      const through = table.fields.get(hop as string);
      if (through?.type !== 'many2one' || through.relation !== written.spec.name) continue;
      if (next === undefined || !changed.has(next)) continue;
      for (const dependent of pointingAt(table, through.name, ids)) {
        const only = (candidate: FieldSpec) => candidate === field;
        if (refresh(ctx.tables, table, dependent, compute, only) && table.spec.logAccess !== false)
          stamp(dependent, ctx.tx);
      }
    }
  }
}

function pointingAt(table: SandboxTable, field: string, ids: ReadonlySet<number>): Row[] {
  const byTarget = table.index.get(field);
  const rows: Row[] = [];
  if (byTarget !== undefined) {
    for (const id of ids)
      for (const rowId of byTarget.get(id) ?? []) {
        const row = table.rows.get(rowId);
        if (row !== undefined) rows.push(row);
      }
    return rows;
  }
  for (const row of table.rows.values()) if (ids.has(row[field] as number)) rows.push(row);
  return rows;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, index) => item === b[index]);
  return (a ?? null) === (b ?? null);
}
