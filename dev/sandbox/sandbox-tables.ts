/**
 * The sandbox's tables: every model's committed records by id, its ascending id list (keyset
 * pages start with a binary search) and its many2one indexes, with the low-level mutations that
 * keep them consistent, and the schema changes a module upgrade makes (a field added or
 * dropped). Display names and x2many values live here too: every layer above needs them.
 */
import { compileFilter, type DomainModel, type Row } from './sandbox-domain.js';
import { holdsValue, type FieldSpec, type ModelSpec } from './models/field-spec.js';
import { SANDBOX_CATALOGUE, type SandboxCatalogue } from './sandbox-models.js';
import { compileOrder, type CompiledOrder } from './sandbox-order.js';
import type { DisplayName, ModelRules } from './rules/model-rules.js';
import { SOURCE_LANG, translatedText } from './sandbox-translations.js';

/** One model's committed records. */
export interface SandboxTable {
  /** The model's declaration; replaced (never mutated) when a field is added or removed. */
  spec: ModelSpec;
  fields: ReadonlyMap<string, FieldSpec>;
  readonly rows: Map<number, Row>;
  /** Every id, ascending: keyset pages start with a binary search. */
  readonly ids: number[];
  nextId: number;
  /** Indexed many2one → target id → ids pointing at it. */
  readonly index: Map<string, Map<number, Set<number>>>;
  /** Ids a record rule hides from the API user (they vanish from searches; reads are refused). */
  readonly hidden: Set<number>;
  /** Defaults of fields added at run time (a module's `default=`), for records created later. */
  readonly addedDefaults: Map<string, unknown>;
  /** The archive field (Odoo's `_active_name`): `active`, or `x_active` on custom models. */
  activeField: string | undefined;
  readonly hasActive: boolean;
  readonly domainModel: DomainModel;
  readonly rules: ModelRules;
}

/**
 * One table's committed state at a commit: what a read replica that has replayed that commit
 * holds. Rows are copies of the stored ones; their values are never changed in place (every
 * change assigns a new value), so a row's own copy is enough.
 */
export interface TableSnapshot {
  readonly spec: ModelSpec;
  readonly rows: readonly Row[];
  readonly hidden: readonly number[];
  readonly nextId: number;
}

/** A field whose target is `model`: what deleting a record of `model` touches. */
export interface Reference {
  readonly table: SandboxTable;
  readonly field: FieldSpec;
}

export class SandboxTables {
  private readonly tables = new Map<string, SandboxTable>();
  private readonly orders = new Map<string, CompiledOrder>();
  private readonly x2manyFilters = new Map<FieldSpec, (row: Row) => boolean>();
  private readonly owners = new Map<FieldSpec, string>();
  private referencesByModel: Map<string, Reference[]> | undefined;
  /** Each declaration's empty row (`emptyRow`), and its many2many fields, given their own `[]`. */
  private readonly emptyRows = new WeakMap<
    ModelSpec,
    { readonly values: Row; readonly many2many: readonly string[] }
  >();

  constructor(
    private readonly catalogue: SandboxCatalogue = SANDBOX_CATALOGUE,
    /** The sandbox clock, for what Odoo computes against today (an activity overdue). */
    readonly nowMicros: () => number = () => Date.now() * 1000,
    /** The major version of the Odoo played: its domains' semantics (sandbox-domain.ts). */
    private readonly major: number = 19,
  ) {
    for (const spec of catalogue.models) this.tables.set(spec.name, this.createTable(spec));
  }

  table(model: string): SandboxTable | undefined {
    return this.tables.get(model);
  }

  models(): string[] {
    return [...this.tables.keys()];
  }

  /** The table, or an error for a model the sandbox does not have. */
  requireTable(model: string): SandboxTable {
    const table = this.tables.get(model);
    if (table === undefined) throw new Error(`unknown sandbox model ${model}`);
    return table;
  }

  /**
   * A new row of `table`: every stored field empty (a many2many `[]`), the archive flag set, as
   * Odoo declares it `default=True`. A copy of one template per declaration, so that the row
   * keeps fast properties: built field by field, a row of more than a dozen fields became a
   * dictionary, four times the memory and slower to read (the generators' millions of lines).
   */
  emptyRow(table: SandboxTable, id: number): Row {
    let template = this.emptyRows.get(table.spec);
    if (template === undefined) {
      const stored = table.spec.fields.filter((spec) => holdsValue(spec) && spec.name !== 'id');
      template = {
        values: Object.fromEntries([
          ['id', 0],
          ...stored.map((spec) => [spec.name, spec.type === 'many2many' ? [] : null]),
          ...(table.activeField === undefined ? [] : [[table.activeField, true]]),
        ]) as Row,
        many2many: stored.filter((spec) => spec.type === 'many2many').map((spec) => spec.name),
      };
      this.emptyRows.set(table.spec, template);
    }
    const row: Row = { ...template.values, id };
    for (const name of template.many2many) row[name] = [];
    return row;
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

  /** Every table's committed state now (see TableSnapshot). */
  snapshot(): Map<string, TableSnapshot> {
    const snapshot = new Map<string, TableSnapshot>();
    for (const [model, table] of this.tables) {
      snapshot.set(model, {
        spec: table.spec,
        rows: table.ids.map((id) => ({ ...(table.rows.get(id) as Row) })),
        hidden: [...table.hidden],
        nextId: table.nextId,
      });
    }
    return snapshot;
  }

  /** Loads a snapshot into these tables, which must be empty (a replica's, built for it). */
  restore(snapshot: ReadonlyMap<string, TableSnapshot>): void {
    for (const [model, saved] of snapshot) {
      const table = this.requireTable(model);
      if (saved.spec !== table.spec) {
        this.setFields(table, saved.spec.fields);
        table.spec = saved.spec;
      }
      for (const row of saved.rows) this.insertRow(table, row);
      for (const id of saved.hidden) table.hidden.add(id);
      table.nextId = saved.nextId;
    }
  }

  /** A non-stored field's value on a record of a model loaded from a dump (internal form). */
  computedValue(table: SandboxTable, field: FieldSpec, row: Row): unknown {
    return this.catalogue.computeValue?.(this, table, field, row);
  }

  /** A record's display name in `lang` (`model,id` when it does not exist). */
  displayName(model: string, id: number, lang: string = SOURCE_LANG): DisplayName {
    const table = this.tables.get(model);
    const row = table?.rows.get(id);
    if (table === undefined || row === undefined) return `${model},${id}`;
    return this.displayNameOf(table, row, lang);
  }

  /** The display name of `row`, stored or not. */
  displayNameOf(table: SandboxTable, row: Row, lang: string = SOURCE_LANG): DisplayName {
    if (table.rules.displayName !== undefined) return table.rules.displayName(row, lang, this);
    const recName = table.fields.get(table.spec.recName ?? 'name');
    if (recName === undefined) return false;
    // A `_rec_name` may be related (a user's name is its partner's): computed then.
    const value = holdsValue(recName)
      ? row[recName.name]
      : (this.computedValue(table, recName, row) ?? row[recName.name]);
    // A many2one `_rec_name` (mail.followers' partner_id) shows its target's name.
    if (recName.type === 'many2one')
      return typeof value === 'number'
        ? this.displayName(recName.relation as string, value, lang)
        : false;
    return translatedText(value, lang) || false;
  }

  /** The model's `_order` (or `order`), compiled once per language. */
  order(table: SandboxTable, lang: string = SOURCE_LANG, order = table.spec.order): CompiledOrder {
    const key = `${table.spec.name}|${lang}|${order}`;
    let compiled = this.orders.get(key);
    if (compiled === undefined) {
      compiled = compileOrder(order, table.spec.name, (name) => table.fields.get(name), {
        lang,
        skipWithoutColumn: table.spec.release === '17.0',
      });
      // Callers choose `order`: keep the cache bounded whatever they send.
      if (this.orders.size > 500) this.orders.clear();
      this.orders.set(key, compiled);
    }
    return compiled;
  }

  /**
   * A one2many's value: the comodel records pointing back that the field's domain keeps,
   * archived ones included (a read leaves them out unless its context turns `active_test` off:
   * sandbox-reads.ts), in the comodel's order. An inverse that is a many2one_reference (`res_id`) points into any model: only the
   * records whose model field names the one2many's model count (Odoo adds that to the domain).
   */
  one2manyIds(field: FieldSpec, id: number, lang: string = SOURCE_LANG): number[] {
    const comodel = this.requireTable(field.relation as string);
    const set = comodel.index.get(field.relationField as string)?.get(id);
    if (set === undefined || set.size === 0) return [];
    const keep = this.x2manyFilter(field, comodel);
    const inverse = comodel.fields.get(field.relationField as string);
    const modelField = inverse?.type === 'many2one_reference' ? inverse.modelField : undefined;
    const owner = modelField === undefined ? undefined : this.ownerOf(field);
    const rows: Row[] = [];
    for (const lineId of set) {
      const row = comodel.rows.get(lineId);
      if (row === undefined || (keep !== undefined && !keep(row))) continue;
      if (modelField !== undefined && row[modelField] !== owner) continue;
      rows.push(row);
    }
    return rows.sort(this.order(comodel, lang).compare).map((row) => row.id);
  }

  /** The model declaring `field`. */
  private ownerOf(field: FieldSpec): string | undefined {
    let owner = this.owners.get(field);
    if (owner === undefined) {
      for (const table of this.tables.values())
        if (table.fields.get(field.name) === field) owner = table.spec.name;
      if (owner !== undefined) this.owners.set(field, owner);
    }
    return owner;
  }

  /** A many2many's value: the stored links (or its other side's), in the comodel's order. */
  many2manyIds(field: FieldSpec, row: Row, lang: string = SOURCE_LANG): number[] {
    const ids =
      field.mirrorOf === undefined
        ? ((row[field.name] as number[] | null | undefined) ?? [])
        : this.mirroredIds(field.mirrorOf, row.id);
    if (ids.length < 2) return [...ids];
    const comodel = this.requireTable(field.relation as string);
    const order = this.order(comodel, lang);
    if (order.idAscending) return [...ids].sort((a, b) => a - b);
    const rows: Row[] = [];
    for (const id of ids) {
      const target = comodel.rows.get(id);
      if (target !== undefined) rows.push(target);
    }
    return rows.sort(order.compare).map((target) => target.id);
  }

  /** The records whose many2many `mirror.field` lists `id`. */
  private mirroredIds(mirror: { model: string; field: string }, id: number): number[] {
    const ids: number[] = [];
    for (const row of this.requireTable(mirror.model).rows.values())
      if ((row[mirror.field] as number[] | null | undefined)?.includes(id)) ids.push(row.id);
    return ids;
  }

  /** Every many2one and many2many whose target is `model`. */
  references(model: string): readonly Reference[] {
    if (this.referencesByModel === undefined) {
      const byModel = new Map<string, Reference[]>();
      for (const table of this.tables.values()) {
        for (const field of table.spec.fields) {
          if (field.type !== 'many2one' && field.type !== 'many2many') continue;
          const relation = field.relation as string;
          const list = byModel.get(relation) ?? [];
          list.push({ table, field });
          byModel.set(relation, list);
        }
      }
      this.referencesByModel = byModel;
    }
    return this.referencesByModel.get(model) ?? [];
  }

  /** A module upgrade adds a stored field: the model's declaration gets it (rows are untouched). */
  addField(table: SandboxTable, field: FieldSpec): void {
    this.setFields(table, [...table.spec.fields, field]);
  }

  /** A module uninstall drops a field: its declaration, index and every stored value go. */
  removeField(table: SandboxTable, name: string): void {
    this.setFields(
      table,
      table.spec.fields.filter((field) => field.name !== name),
    );
    table.addedDefaults.delete(name);
    for (const row of table.rows.values()) delete row[name];
  }

  /** Indexes a many2one (a one2many added at run time reads through it). */
  ensureIndexed(table: SandboxTable, name: string): void {
    const field = table.fields.get(name);
    if (field === undefined || field.indexed === true) return;
    this.setFields(
      table,
      table.spec.fields.map((spec) => (spec === field ? { ...field, indexed: true } : spec)),
    );
  }

  private setFields(table: SandboxTable, fields: readonly FieldSpec[]): void {
    table.spec = { ...table.spec, fields };
    table.fields = new Map(fields.map((field) => [field.name, field]));
    for (const name of [...table.index.keys()])
      if (table.fields.get(name)?.indexed !== true) table.index.delete(name);
    for (const field of fields) {
      if (field.indexed !== true || table.index.has(field.name)) continue;
      const byTarget = new Map<number, Set<number>>();
      for (const row of table.rows.values()) {
        const target = row[field.name];
        if (typeof target === 'number') addToIndex(byTarget, target, row.id);
      }
      table.index.set(field.name, byTarget);
    }
    table.activeField = activeFieldOf(table.fields);
    this.orders.clear();
    this.x2manyFilters.clear();
    this.referencesByModel = undefined;
  }

  private x2manyFilter(
    field: FieldSpec,
    comodel: SandboxTable,
  ): ((row: Row) => boolean) | undefined {
    if (field.domain === undefined || field.domain.length === 0) return undefined;
    let filter = this.x2manyFilters.get(field);
    if (filter === undefined) {
      filter = compileFilter(comodel.domainModel, field.domain);
      this.x2manyFilters.set(field, filter);
    }
    return filter;
  }

  private createTable(declared: ModelSpec): SandboxTable {
    const fields = new Map(declared.fields.map((field) => [field.name, field]));
    const index = new Map<string, Map<number, Set<number>>>();
    for (const field of declared.fields) if (field.indexed) index.set(field.name, new Map());
    const table: SandboxTable = {
      spec: declared,
      fields,
      rows: new Map(),
      ids: [],
      nextId: 1,
      index,
      hidden: new Set(),
      addedDefaults: new Map(),
      activeField: activeFieldOf(fields),
      get hasActive() {
        return table.activeField !== undefined;
      },
      rules: this.catalogue.rules(declared),
      domainModel: {
        name: declared.name,
        field: (name) => table.fields.get(name),
        activeField: () => table.activeField,
        one2manyIds: (field, id) => this.one2manyIds(field, id),
        many2manyIds: (field, row) => this.many2manyIds(field, row),
        displayName: (model, id) => this.displayName(model, id),
        ...(declared.release === undefined ? {} : { release: declared.release }),
        ...(declared.release === undefined && this.major >= 19
          ? { wholeSecondDatetimes: true }
          : {}),
        computedValue: (field, row) => this.computedValue(table, field, row),
      },
    };
    return table;
  }
}

/** Odoo's `_active_name`: `active` if the model has it, else `x_active`. */
function activeFieldOf(fields: ReadonlyMap<string, FieldSpec>): string | undefined {
  if (fields.get('active')?.type === 'boolean') return 'active';
  if (fields.get('x_active')?.type === 'boolean') return 'x_active';
  return undefined;
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
