/**
 * The sandbox's tables: every model's committed records by id, its ascending id list (keyset
 * pages start with a binary search) and its many2one indexes, with the low-level mutations that
 * keep them consistent. Display names live here too: every layer above needs them.
 */
import { type DomainModel, type Row } from './sandbox-domain.js';
import {
  BC_LINE_MODEL,
  BC_MODEL,
  SANDBOX_MODELS,
  type FieldSpec,
  type ModelSpec,
} from './sandbox-models.js';
import { compileOrder } from './sandbox-order.js';

/** One model's committed records. */
export interface SandboxTable {
  readonly spec: ModelSpec;
  readonly fields: ReadonlyMap<string, FieldSpec>;
  readonly rows: Map<number, Row>;
  /** Every id, ascending: keyset pages start with a binary search. */
  readonly ids: number[];
  nextId: number;
  /** Indexed many2one → target id → ids pointing at it. */
  readonly index: Map<string, Map<number, Set<number>>>;
  /** Ids a record rule hides from the API user (they vanish from searches; reads are refused). */
  readonly hidden: Set<number>;
  readonly hasActive: boolean;
  readonly domainModel: DomainModel;
  /** The model's `_order`, compiled once (one2many values come in that order). */
  readonly defaultOrder: ReturnType<typeof compileOrder>;
}

/** The language reads answer in when the caller's context names none (Odoo's source language). */
export const SOURCE_LANG = 'en_US';

/**
 * Reads a translatable field's value — one text, or (like Odoo 16+'s jsonb columns) one text per
 * language code — in `lang`, with a fallback to the source language.
 */
export function translatedText(value: unknown, lang: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  const texts = value as Record<string, string>;
  return texts[lang] ?? texts[SOURCE_LANG] ?? Object.values(texts)[0] ?? null;
}

export class SandboxTables {
  private readonly tables = new Map<string, SandboxTable>();

  constructor() {
    for (const spec of SANDBOX_MODELS) this.tables.set(spec.name, this.createTable(spec));
  }

  table(model: string): SandboxTable | undefined {
    return this.tables.get(model);
  }

  /** The table, or Odoo's UserError for an unknown model. */
  requireTable(model: string): SandboxTable {
    const table = this.tables.get(model);
    if (table === undefined) throw new Error(`unknown sandbox model ${model}`);
    return table;
  }

  /** Inserts a complete row (ids must arrive ascending per model, or be re-sorted). */
  insertRow(table: SandboxTable, row: Row): void {
    table.rows.set(row.id, row);
    const ids = table.ids;
    if (ids.length === 0 || (ids[ids.length - 1] as number) < row.id) ids.push(row.id);
    else ids.splice(lowerBound(ids, row.id), 0, row.id);
    if (row.id >= table.nextId) table.nextId = row.id + 1;
    for (const [field, byTarget] of table.index) {
      const target = row[field];
      if (typeof target === 'number') addToIndex(byTarget, target, row.id);
    }
  }

  updateRow(table: SandboxTable, row: Row, changes: Record<string, unknown>): void {
    for (const [field, byTarget] of table.index) {
      if (!(field in changes) || changes[field] === row[field]) continue;
      const before = row[field];
      if (typeof before === 'number') byTarget.get(before)?.delete(row.id);
      const after = changes[field];
      if (typeof after === 'number') addToIndex(byTarget, after, row.id);
    }
    Object.assign(row, changes);
  }

  deleteRow(table: SandboxTable, id: number): void {
    const row = table.rows.get(id);
    if (row === undefined) return;
    table.rows.delete(id);
    const position = lowerBound(table.ids, id);
    if (table.ids[position] === id) table.ids.splice(position, 1);
    for (const [field, byTarget] of table.index) {
      const target = row[field];
      if (typeof target === 'number') byTarget.get(target)?.delete(id);
    }
    table.hidden.delete(id);
  }

  displayName(model: string, id: number, lang: string = SOURCE_LANG): string {
    const table = this.tables.get(model);
    const row = table?.rows.get(id);
    if (row === undefined) return `${model},${id}`;
    if (model === BC_LINE_MODEL) {
      const bc = typeof row.bc_id === 'number' ? this.displayName(BC_MODEL, row.bc_id, lang) : '';
      return `${bc}: ${(row.name as string | null) ?? ''}`;
    }
    return translatedText(row.name, lang) ?? '';
  }

  private createTable(spec: ModelSpec): SandboxTable {
    const fields = new Map(spec.fields.map((field) => [field.name, field]));
    const index = new Map<string, Map<number, Set<number>>>();
    for (const field of spec.fields) if (field.indexed) index.set(field.name, new Map());
    const table: SandboxTable = {
      spec,
      fields,
      rows: new Map(),
      ids: [],
      nextId: 1,
      index,
      hidden: new Set(),
      hasActive: fields.has('active'),
      defaultOrder: compileOrder(spec.order, spec.name, (name) => fields.get(name)),
      domainModel: {
        name: spec.name,
        field: (name) => fields.get(name),
        one2manyIds: (field, id) => this.one2manyIds(field, id),
        displayName: (model, id) => this.displayName(model, id),
      },
    };
    return table;
  }

  private one2manyIds(field: FieldSpec, id: number): number[] {
    const comodel = this.requireTable(field.relation as string);
    const set = comodel.index.get(field.relationField as string)?.get(id);
    if (set === undefined || set.size === 0) return [];
    const rows: Row[] = [];
    for (const lineId of set) {
      const row = comodel.rows.get(lineId);
      if (row !== undefined) rows.push(row);
    }
    return rows.sort(comodel.defaultOrder.compare).map((row) => row.id);
  }
}

function addToIndex(byTarget: Map<number, Set<number>>, target: number, id: number): void {
  let set = byTarget.get(target);
  if (set === undefined) {
    set = new Set();
    byTarget.set(target, set);
  }
  set.add(id);
}

/** First position whose id is ≥ value. */
export function lowerBound(ids: readonly number[], value: number): number {
  let low = 0;
  let high = ids.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((ids[mid] as number) < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** First position whose id is > value. */
export function upperBound(ids: readonly number[], value: number): number {
  let low = 0;
  let high = ids.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((ids[mid] as number) <= value) low = mid + 1;
    else high = mid;
  }
  return low;
}
