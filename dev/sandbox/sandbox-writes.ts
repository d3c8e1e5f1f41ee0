/**
 * The ORM's writes: `create`, `write` and `unlink`, values converted and validated like Odoo's
 * `convert_to_cache`, one2many commands on a BC's lines, the magic fields stamped with the
 * transaction's time, and the raw paths the data generator and the fault injection use.
 *
 * Lines written through `dimagaz.bc.line` do not touch their BC (real Odoo lines change on their
 * own); `bumpParent` asks for the BC's totals to be recomputed and its `write_date` moved.
 */
import { repr, type Row } from './sandbox-domain.js';
import { missingError, pythonError, validationError } from './sandbox-exceptions.js';
import {
  bumpBcs,
  defaultValues,
  fillLineFromBc,
  recomputeAmounts,
  subtotal,
  type TransactionInfo,
} from './sandbox-bc-rules.js';
import { BC_LINE_MODEL, BC_MODEL, type FieldSpec } from './sandbox-models.js';
import { toIdList } from './sandbox-reads.js';
import type { SandboxTable, SandboxTables } from './sandbox-tables.js';
import { parseDateString, parseDatetimeMicros } from './sandbox-time.js';

export interface WriteOptions {
  /** Line writes: also recompute the BC's totals and move its write_date (default false). */
  bumpParent?: boolean;
  /** Let magic fields (write_date…) through, for tests that need an exact timestamp. */
  allowMagic?: boolean;
}

const MAGIC_FIELDS = new Set([
  'id',
  'create_uid',
  'create_date',
  'write_uid',
  'write_date',
  'display_name',
]);

export class SandboxWrites {
  private bcSequence = 0;

  constructor(private readonly tables: SandboxTables) {}

  /**
   * `create(vals_list)`: a dict or a list of dicts → the new ids. `ids` lets a long transaction
   * use ids it reserved when the record was staged.
   */
  create(
    model: string,
    valsList: readonly unknown[],
    tx: TransactionInfo,
    reservedIds?: readonly number[],
  ): number[] {
    const table = this.tables.requireTable(model);
    const created: number[] = [];
    valsList.forEach((vals, index) => {
      if (typeof vals !== 'object' || vals === null || Array.isArray(vals)) {
        throw pythonError('ValueError', `create() takes dictionaries of values, got ${repr(vals)}`);
      }
      const id = reservedIds?.[index] ?? table.nextId++;
      created.push(this.createOne(table, id, vals as Record<string, unknown>, tx));
    });
    return created;
  }

  /** Reserves an id now (PostgreSQL sequences are not transactional) for a later create. */
  reserveId(model: string): number {
    const table = this.tables.requireTable(model);
    return table.nextId++;
  }

  private createOne(
    table: SandboxTable,
    id: number,
    vals: Record<string, unknown>,
    tx: TransactionInfo,
    allowMagic = false,
  ): number {
    const model = table.spec.name;
    const { values, lineCommands } = this.convertVals(table, vals, 'create', allowMagic);
    const row: Row = { id };
    for (const spec of table.spec.fields) {
      if (spec.type === 'one2many' || (spec.computed && !spec.store) || spec.name === 'id')
        continue;
      row[spec.name] = spec.type === 'many2many' ? [] : null;
    }
    Object.assign(
      row,
      defaultValues(table, () => this.nextBcName(), tx, values),
      values,
    );
    row.create_uid ??= tx.uid;
    row.write_uid ??= tx.uid;
    row.create_date ??= tx.nowMicros;
    row.write_date ??= tx.nowMicros;
    if (model === BC_LINE_MODEL) fillLineFromBc(this.tables, row);
    if (model === BC_LINE_MODEL) row.price_subtotal = subtotal(row);
    for (const spec of table.spec.fields) {
      if (spec.required && (row[spec.name] === null || row[spec.name] === undefined)) {
        throw validationError(
          'The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n' +
            '- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n' +
            `Model: ${table.spec.description} (${model})\nField: ${spec.string} (${spec.name})`,
        );
      }
    }
    this.tables.insertRow(table, row);
    if (lineCommands !== undefined) this.applyLineCommands(row, lineCommands, tx);
    if (model === BC_MODEL) recomputeAmounts(this.tables, row);
    return id;
  }

  /**
   * Inserts a record exactly as given (internal values: datetimes in microseconds, many2one as
   * ids), every other stored field empty. The data generator's fast path: no defaults, no checks.
   */
  insertSeedRow(model: string, values: Record<string, unknown> & { id: number }): void {
    const table = this.tables.requireTable(model);
    const row: Row = { id: values.id };
    for (const spec of table.spec.fields) {
      if (spec.type === 'one2many' || (spec.computed && !spec.store) || spec.name === 'id')
        continue;
      row[spec.name] = spec.type === 'many2many' ? [] : null;
    }
    Object.assign(row, values);
    this.tables.insertRow(table, row);
  }

  /**
   * Overwrites stored values as given, without stamps, defaults or checks: the broken rows a
   * real database ends up with (an empty `write_date` after a bad migration, a line whose BC
   * was cleared by SQL), which no ORM call can produce.
   */
  overwriteRaw(model: string, id: number, values: Record<string, unknown>): void {
    const table = this.tables.requireTable(model);
    const row = table.rows.get(id);
    if (row === undefined) throw new Error(`${model} ${id} does not exist`);
    this.tables.updateRow(table, row, values);
  }

  /** `write(ids, vals)`. @throws MissingError when a record no longer exists. */
  write(
    model: string,
    ids: unknown,
    vals: unknown,
    tx: TransactionInfo,
    options: WriteOptions = {},
  ): void {
    const table = this.tables.requireTable(model);
    if (typeof vals !== 'object' || vals === null || Array.isArray(vals)) {
      throw pythonError('ValueError', `write() takes a dictionary of values, got ${repr(vals)}`);
    }
    const idList = toIdList(ids);
    const rows = this.existing(table, idList);
    const { values, lineCommands } = this.convertVals(
      table,
      vals as Record<string, unknown>,
      'write',
      options.allowMagic === true,
    );
    const parents = new Set<number>();
    for (const row of rows) {
      const changes: Record<string, unknown> = { ...values };
      if (!(options.allowMagic === true && 'write_date' in values))
        changes.write_date = tx.nowMicros;
      changes.write_uid ??= tx.uid;
      this.tables.updateRow(table, row, changes);
      if (model === BC_LINE_MODEL) {
        if ('product_qty' in values || 'price_unit' in values) row.price_subtotal = subtotal(row);
        if (typeof row.bc_id === 'number') parents.add(row.bc_id);
      }
      if (lineCommands !== undefined) this.applyLineCommands(row, lineCommands, tx);
      if (model === BC_MODEL && lineCommands !== undefined) recomputeAmounts(this.tables, row);
    }
    if (options.bumpParent === true) bumpBcs(this.tables, [...parents], tx);
  }

  /** `unlink()`: a BC takes its lines with it (ondelete cascade, no write on the lines). */
  unlink(model: string, ids: unknown, tx: TransactionInfo, options: WriteOptions = {}): void {
    const table = this.tables.requireTable(model);
    const rows = this.existing(table, toIdList(ids));
    const parents = new Set<number>();
    for (const row of rows) {
      if (model === BC_MODEL) {
        const lines = this.tables.requireTable(BC_LINE_MODEL);
        for (const lineId of [...(lines.index.get('bc_id')?.get(row.id) ?? [])])
          this.tables.deleteRow(lines, lineId);
      }
      if (model === BC_LINE_MODEL && typeof row.bc_id === 'number') parents.add(row.bc_id);
      this.tables.deleteRow(table, row.id);
    }
    if (options.bumpParent === true) bumpBcs(this.tables, [...parents], tx);
  }

  private existing(table: SandboxTable, ids: number[]): Row[] {
    const rows: Row[] = [];
    const missing: number[] = [];
    for (const id of ids) {
      const row = table.rows.get(id);
      if (row === undefined || table.hidden.has(id)) missing.push(id);
      else rows.push(row);
    }
    if (missing.length > 0) {
      throw missingError(
        `Record does not exist or has been deleted.\n(Record: ${table.spec.name}(${missing.join(', ')},), User: 2)`,
      );
    }
    return rows;
  }

  /** Advances the BC name sequence past names the generator used. */
  setBcSequence(value: number): void {
    this.bcSequence = Math.max(this.bcSequence, value);
  }

  private nextBcName(): string {
    return `P${String(++this.bcSequence).padStart(5, '0')}`;
  }

  /** one2many commands on `line_ids`: (0,0,vals) create, (1,id,vals) update, (2|3,id) delete, (5) clear, (6,0,ids) keep only. */
  private applyLineCommands(bc: Row, commands: unknown[], tx: TransactionInfo): void {
    const lines = this.tables.requireTable(BC_LINE_MODEL);
    const current = (): number[] => [...(lines.index.get('bc_id')?.get(bc.id) ?? [])];
    for (const command of commands) {
      if (!Array.isArray(command) || typeof command[0] !== 'number') {
        throw pythonError('ValueError', `Invalid one2many command ${repr(command)}`);
      }
      const [code, target, vals] = command as [number, unknown, unknown];
      switch (code) {
        case 0:
          this.createOne(
            lines,
            lines.nextId++,
            { ...(vals as Record<string, unknown>), bc_id: bc.id },
            tx,
          );
          break;
        case 1:
          this.write(BC_LINE_MODEL, [target], vals, tx);
          break;
        case 2:
        case 3:
          this.unlink(BC_LINE_MODEL, [target], tx);
          break;
        case 5:
          this.unlink(BC_LINE_MODEL, current(), tx);
          break;
        case 6: {
          const keep = new Set(Array.isArray(vals) ? (vals as number[]) : []);
          this.unlink(
            BC_LINE_MODEL,
            current().filter((id) => !keep.has(id)),
            tx,
          );
          break;
        }
        default:
          throw pythonError('ValueError', `Unsupported one2many command ${code} on line_ids`);
      }
    }
  }

  /** RPC values → stored values, validated like Odoo's convert_to_cache. */
  private convertVals(
    table: SandboxTable,
    vals: Record<string, unknown>,
    mode: 'create' | 'write',
    allowMagic: boolean,
  ): { values: Record<string, unknown>; lineCommands?: unknown[] } {
    const values: Record<string, unknown> = {};
    let lineCommands: unknown[] | undefined;
    for (const [name, value] of Object.entries(vals)) {
      const spec = table.fields.get(name);
      if (spec === undefined) {
        throw pythonError(
          'ValueError',
          mode === 'create'
            ? `Invalid field ${repr(name)} in ${repr(table.spec.name)}`
            : `Invalid field ${repr(name)} on model ${repr(table.spec.name)}`,
        );
      }
      // Odoo sets the magic fields itself; values sent for them are ignored.
      if (MAGIC_FIELDS.has(name) && !allowMagic) continue;
      if (spec.computed && !spec.store) continue;
      if (spec.type === 'one2many') {
        if (!Array.isArray(value))
          throw pythonError(
            'ValueError',
            `Wrong value for ${table.spec.name}.${name}: ${repr(value)}`,
          );
        lineCommands = value;
        continue;
      }
      values[name] = this.convertValue(table, spec, value);
    }
    return lineCommands === undefined ? { values } : { values, lineCommands };
  }

  private convertValue(table: SandboxTable, spec: FieldSpec, value: unknown): unknown {
    const wrong = (): never => {
      throw pythonError(
        'ValueError',
        `Wrong value for ${table.spec.name}.${spec.name}: ${repr(value)}`,
      );
    };
    const empty = value === false || value === null || value === undefined;
    switch (spec.type) {
      case 'char':
      case 'text':
      case 'html':
      case 'binary':
        if (empty) return null;
        return typeof value === 'string' ? value : wrong();
      case 'selection':
        if (empty) return null;
        return typeof value === 'string' && spec.selection?.some(([key]) => key === value)
          ? value
          : wrong();
      case 'integer':
        if (empty) return 0;
        return typeof value === 'number' && Number.isInteger(value) ? value : wrong();
      case 'float':
      case 'monetary':
        if (empty) return 0;
        return typeof value === 'number' && Number.isFinite(value) ? value : wrong();
      case 'boolean':
        return Boolean(value);
      case 'date':
        if (empty) return null;
        return parseDateString(value) ?? wrong();
      case 'datetime':
        if (empty) return null;
        if (typeof value === 'number') return value;
        return parseDatetimeMicros(value) ?? wrong();
      case 'many2one': {
        if (empty) return null;
        if (typeof value !== 'number') return wrong();
        if (!this.tables.table(spec.relation as string)?.rows.has(value)) {
          throw missingError(
            `Record does not exist or has been deleted.\n(Record: ${spec.relation as string}(${value},), User: 2)`,
          );
        }
        return value;
      }
      case 'many2many':
        return this.convertMany2many(value, wrong);
      default:
        return value;
    }
  }

  private convertMany2many(value: unknown, wrong: () => never): number[] {
    if (value === false || value === null || value === undefined) return [];
    if (!Array.isArray(value)) return wrong();
    if (value.every((item) => typeof item === 'number')) return [...value];
    let ids: number[] = [];
    for (const command of value) {
      if (!Array.isArray(command)) return wrong();
      const [code, target, list] = command as [unknown, unknown, unknown];
      if (code === 6) ids = Array.isArray(list) ? [...(list as number[])] : wrong();
      else if (code === 4 && typeof target === 'number')
        ids = ids.includes(target) ? ids : [...ids, target];
      else if (code === 3 && typeof target === 'number') ids = ids.filter((id) => id !== target);
      else if (code === 5) ids = [];
      else return wrong();
    }
    return ids;
  }
}
