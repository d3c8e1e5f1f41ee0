/**
 * The ORM's writes: `create`, `write` and `unlink`, values converted and validated like Odoo's
 * `convert_to_cache`, x2many commands on any one2many or many2many, the magic fields stamped
 * with the transaction's time, deletions as Odoo's foreign keys carry them out (`ondelete`),
 * and the raw paths the data generators and the fault injection use. What Odoo computes on top
 * (defaults, stored computes, other records moved) is each model's rules (rules/).
 */
import { repr, type Row } from './sandbox-domain.js';
import { missingError, moduleError, pythonError, validationError } from './sandbox-exceptions.js';
import type { FieldSpec } from './models/field-spec.js';
import type { RuleContext, TransactionInfo, WriteOptions } from './rules/model-rules.js';
import { toIdList } from './sandbox-reads.js';
import type { SandboxTable, SandboxTables } from './sandbox-tables.js';
import { parseDateString, parseDatetimeMicros } from './sandbox-time.js';
import { SOURCE_LANG } from './sandbox-translations.js';

export type { TransactionInfo, WriteOptions } from './rules/model-rules.js';

/** Options of an RPC create or write: the language of its context. */
export interface CallOptions extends WriteOptions {
  /** The context's `lang`: which text of a translated field a write sets (default en_US). */
  lang?: string;
}

const MAGIC_FIELDS = new Set([
  'id',
  'create_uid',
  'create_date',
  'write_uid',
  'write_date',
  'display_name',
]);

/** `(code, id, vals)`: Odoo's x2many commands (`Command.CREATE` … `Command.SET`). */
type X2manyCommand = readonly [number, unknown?, unknown?];

/** Converted values, and the x2many fields' commands (applied per record). */
interface Converted {
  values: Record<string, unknown>;
  x2many: Array<[FieldSpec, X2manyCommand[]]>;
}

export class SandboxWrites {
  private readonly sequences = new Map<string, number>();

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
    options: CallOptions = {},
  ): number[] {
    const table = this.tables.requireTable(model);
    const created: number[] = [];
    valsList.forEach((vals, index) => {
      if (typeof vals !== 'object' || vals === null || Array.isArray(vals)) {
        throw pythonError('ValueError', `create() takes dictionaries of values, got ${repr(vals)}`);
      }
      const id = reservedIds?.[index] ?? table.nextId++;
      created.push(this.createOne(table, id, vals as Record<string, unknown>, tx, options));
    });
    return created;
  }

  /** Reserves an id now (PostgreSQL sequences are not transactional) for a later create. */
  reserveId(model: string): number {
    const table = this.tables.requireTable(model);
    return table.nextId++;
  }

  /** The record a create would insert, not inserted: what a webhook reads inside the transaction. */
  previewCreate(
    model: string,
    id: number,
    vals: Record<string, unknown>,
    tx: TransactionInfo,
    lang: string = SOURCE_LANG,
  ): Row {
    const table = this.tables.requireTable(model);
    const { values } = this.convertVals(table, vals, 'create', { lang });
    // A preview must not consume a sequence number the create will take.
    return this.newRow(table, id, values, this.context(tx, true));
  }

  /**
   * The record as a write would leave it, not written: what a webhook reads inside the
   * transaction. x2many fields keep their links from before the write's commands.
   */
  previewWrite(
    model: string,
    id: number,
    vals: Record<string, unknown>,
    tx: TransactionInfo,
    options: { base?: Row; lang?: string } = {},
  ): Row {
    const table = this.tables.requireTable(model);
    const [row] = options.base === undefined ? this.existing(table, [id]) : [options.base];
    if (row === undefined) throw new Error(`${model} ${id} does not exist`);
    const { values } = this.convertVals(
      table,
      vals,
      'write',
      { lang: options.lang ?? SOURCE_LANG },
      row,
    );
    return { ...row, ...values, write_date: tx.nowMicros, write_uid: tx.uid };
  }

  private context(tx: TransactionInfo, peek = false): RuleContext {
    return {
      tables: this.tables,
      tx,
      nextNumber: (sequence) => {
        const next = (this.sequences.get(sequence) ?? 0) + 1;
        if (!peek) this.sequences.set(sequence, next);
        return next;
      },
    };
  }

  private newRow(
    table: SandboxTable,
    id: number,
    values: Record<string, unknown>,
    ctx: RuleContext,
  ): Row {
    const row: Row = { id };
    for (const spec of table.spec.fields) {
      if (spec.type === 'one2many' || (spec.computed && !spec.store) || spec.name === 'id')
        continue;
      row[spec.name] = spec.type === 'many2many' ? [] : null;
    }
    Object.assign(
      row,
      table.rules.defaults?.(values, ctx) ?? {},
      Object.fromEntries(table.addedDefaults),
      values,
    );
    row.create_uid ??= ctx.tx.uid;
    row.write_uid ??= ctx.tx.uid;
    row.create_date ??= ctx.tx.nowMicros;
    row.write_date ??= ctx.tx.nowMicros;
    table.rules.computeNew?.(row, ctx);
    return row;
  }

  private createOne(
    table: SandboxTable,
    id: number,
    vals: Record<string, unknown>,
    tx: TransactionInfo,
    options: CallOptions,
  ): number {
    const model = table.spec.name;
    const ctx = this.context(tx);
    const { values, x2many } = this.convertVals(table, vals, 'create', options);
    const row = this.newRow(table, id, values, ctx);
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
    for (const [field, commands] of x2many) this.applyX2many(table, row, field, commands, tx);
    table.rules.created?.([row], ctx, options);
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
    options: CallOptions = {},
  ): void {
    const table = this.tables.requireTable(model);
    if (typeof vals !== 'object' || vals === null || Array.isArray(vals)) {
      throw pythonError('ValueError', `write() takes a dictionary of values, got ${repr(vals)}`);
    }
    const rows = this.existing(table, toIdList(ids));
    const converted = this.convertVals(table, vals as Record<string, unknown>, 'write', options);
    this.writeRows(table, rows, converted, tx, options);
  }

  private writeRows(
    table: SandboxTable,
    rows: readonly Row[],
    { values, x2many }: Converted,
    tx: TransactionInfo,
    options: CallOptions,
  ): void {
    const rules = table.rules;
    rules.checkWrite?.(rows, values, this.tables);
    const tracked = rules.tracked?.filter((field) => field in values) ?? [];
    const before =
      tracked.length === 0
        ? undefined
        : new Map(rows.map((row) => [row.id, Object.fromEntries(tracked.map((f) => [f, row[f]]))]));
    const translatedNames = Object.keys(values).filter(
      (name) => table.fields.get(name)?.translate === true && values[name] !== null,
    );
    const lang = options.lang ?? SOURCE_LANG;
    for (const row of rows) {
      const changes: Record<string, unknown> = { ...values };
      // Each record keeps its own texts in the other languages.
      for (const name of translatedNames)
        changes[name] = translated(
          row[name],
          (values[name] as Record<string, string>)[lang] as string,
          lang,
        );
      if (!(options.allowMagic === true && 'write_date' in values))
        changes.write_date = tx.nowMicros;
      changes.write_uid ??= tx.uid;
      this.tables.updateRow(table, row, changes);
      for (const [field, commands] of x2many) this.applyX2many(table, row, field, commands, tx);
    }
    const changed = new Set([...Object.keys(values), ...x2many.map(([field]) => field.name)]);
    rules.written?.(rows, changed, this.context(tx), options, before);
  }

  /**
   * `unlink()`, with what the database's foreign keys do to the records pointing at the deleted
   * ones: `cascade` deletes them too, `set null` empties the field (no write: their stamps stay),
   * `restrict` refuses the whole deletion; many2many links to them disappear.
   */
  unlink(model: string, ids: unknown, tx: TransactionInfo, options: WriteOptions = {}): void {
    const table = this.tables.requireTable(model);
    const rows = this.existing(table, toIdList(ids));
    const doomed = this.cascadeOf(table, rows);
    this.refuseRestricted(doomed);
    const cleared: Array<[SandboxTable, FieldSpec, Row[]]> = [];
    for (const [target, targetIds] of doomed) {
      for (const { table: owner, field } of this.tables.references(target.spec.name)) {
        const spared = (row: Row) => !doomed.get(owner)?.has(row.id);
        if (field.type === 'many2many') {
          for (const row of owner.rows.values()) {
            const links = row[field.name] as number[] | null;
            if (links?.some((id) => targetIds.has(id)))
              row[field.name] = links.filter((id) => !targetIds.has(id));
          }
        } else if (ondeleteOf(field) === 'set null') {
          const emptied = this.pointingAt(owner, field, targetIds).filter(spared);
          for (const row of emptied) this.tables.updateRow(owner, row, { [field.name]: null });
          if (emptied.length > 0) cleared.push([owner, field, emptied]);
        }
      }
    }
    for (const [target, targetIds] of doomed)
      for (const id of targetIds) this.tables.deleteRow(target, id);
    const ctx = this.context(tx);
    table.rules.unlinked?.(rows, ctx, options);
    for (const [owner, field, emptied] of cleared) {
      const alive = emptied.filter((row) => owner.rows.has(row.id));
      if (alive.length > 0) owner.rules.referenceCleared?.(alive, field.name, ctx);
    }
  }

  /** The rows to delete: `rows` and, through `ondelete='cascade'`, everything under them. */
  private cascadeOf(table: SandboxTable, rows: readonly Row[]): Map<SandboxTable, Set<number>> {
    const doomed = new Map<SandboxTable, Set<number>>([[table, new Set(rows.map((r) => r.id))]]);
    const queue: Array<[SandboxTable, Set<number>]> = [[table, new Set(rows.map((r) => r.id))]];
    while (queue.length > 0) {
      const [target, targetIds] = queue.shift() as [SandboxTable, Set<number>];
      for (const { table: owner, field } of this.tables.references(target.spec.name)) {
        if (field.type !== 'many2one' || ondeleteOf(field) !== 'cascade') continue;
        const seen = doomed.get(owner) ?? new Set<number>();
        const fresh = new Set<number>();
        for (const row of this.pointingAt(owner, field, targetIds))
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
  private refuseRestricted(doomed: Map<SandboxTable, Set<number>>): void {
    for (const [target, targetIds] of doomed) {
      for (const { table: owner, field } of this.tables.references(target.spec.name)) {
        if (field.type !== 'many2one' || ondeleteOf(field) !== 'restrict') continue;
        const blocking = this.pointingAt(owner, field, targetIds).some(
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
  private pointingAt(owner: SandboxTable, field: FieldSpec, targets: ReadonlySet<number>): Row[] {
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
    for (const row of owner.rows.values())
      if (targets.has(row[field.name] as number)) rows.push(row);
    return rows;
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

  /** Advances a sequence past numbers the generators used (`dimagaz.bc`: `P00001`…). */
  advanceSequence(sequence: string, value: number): void {
    this.sequences.set(sequence, Math.max(this.sequences.get(sequence) ?? 0, value));
  }

  /**
   * An x2many field's commands on one record, as Odoo's `write_real`: on a one2many,
   * (0,0,vals) creates a comodel record pointing back, (1,id,vals) writes one, (2,id) deletes
   * one, (3,id) detaches one (deleting it when the inverse is `ondelete='cascade'`, else
   * emptying its inverse), (4,id) attaches one, (5) detaches all, (6,0,ids) keeps exactly
   * those; on a many2many, the same commands act on the links (0, 1 and 2 on the records too).
   */
  private applyX2many(
    table: SandboxTable,
    row: Row,
    field: FieldSpec,
    commands: readonly X2manyCommand[],
    tx: TransactionInfo,
  ): void {
    const comodel = this.tables.requireTable(field.relation as string);
    if (field.type === 'many2many') {
      let links = [...((row[field.name] as number[] | null) ?? [])];
      for (const [code, target, vals] of commands) {
        const ids = this.commandIds(table, field, code, target, vals);
        switch (code) {
          case 0:
            links.push(
              this.createOne(comodel, comodel.nextId++, vals as Record<string, unknown>, tx, {}),
            );
            break;
          case 1:
            this.write(comodel.spec.name, ids, vals, tx);
            break;
          case 2:
            this.unlink(comodel.spec.name, ids, tx);
            links = links.filter((id) => !ids.includes(id));
            break;
          case 3:
            links = links.filter((id) => !ids.includes(id));
            break;
          case 4:
            this.requireTargets(comodel, ids);
            for (const id of ids) if (!links.includes(id)) links.push(id);
            break;
          case 5:
            links = [];
            break;
          default:
            this.requireTargets(comodel, ids);
            links = [...new Set(ids)];
        }
      }
      this.tables.updateRow(table, row, { [field.name]: links });
      return;
    }
    const inverse = field.relationField as string;
    const cascade = ondeleteOf(comodel.fields.get(inverse) as FieldSpec) === 'cascade';
    const detach = (ids: number[]): void => {
      if (ids.length === 0) return;
      if (cascade) this.unlink(comodel.spec.name, ids, tx);
      else this.write(comodel.spec.name, ids, { [inverse]: false }, tx);
    };
    const attach = (ids: number[]): void => {
      const current = new Set(this.tables.one2manyIds(field, row.id));
      const fresh = ids.filter((id) => !current.has(id));
      if (fresh.length > 0) this.write(comodel.spec.name, fresh, { [inverse]: row.id }, tx);
    };
    for (const [code, target, vals] of commands) {
      const ids = this.commandIds(table, field, code, target, vals);
      switch (code) {
        case 0:
          this.createOne(
            comodel,
            comodel.nextId++,
            { ...(vals as Record<string, unknown>), [inverse]: row.id },
            tx,
            {},
          );
          break;
        case 1:
          this.write(comodel.spec.name, ids, vals, tx);
          break;
        case 2:
          this.unlink(comodel.spec.name, ids, tx);
          break;
        case 3:
          detach(ids);
          break;
        case 4:
          attach(ids);
          break;
        case 5:
          detach(this.tables.one2manyIds(field, row.id));
          break;
        default: {
          const keep = new Set(ids);
          detach(this.tables.one2manyIds(field, row.id).filter((id) => !keep.has(id)));
          attach(ids);
        }
      }
    }
  }

  /** The ids a command names (its target, or its list for SET); ValueError for a bad command. */
  private commandIds(
    table: SandboxTable,
    field: FieldSpec,
    code: number,
    target: unknown,
    vals: unknown,
  ): number[] {
    const bad = (): never => {
      throw pythonError(
        'ValueError',
        `Invalid command ${repr([code, target, vals])} for ${table.spec.name}.${field.name}`,
      );
    };
    switch (code) {
      case 0:
        return typeof vals === 'object' && vals !== null && !Array.isArray(vals) ? [] : bad();
      case 1:
      case 2:
      case 3:
      case 4:
        return typeof target === 'number' && Number.isInteger(target) ? [target] : bad();
      case 5:
        return [];
      case 6:
        return Array.isArray(vals) && vals.every((id) => typeof id === 'number') ? vals : bad();
      default:
        return bad();
    }
  }

  private requireTargets(comodel: SandboxTable, ids: readonly number[]): void {
    const missing = ids.filter((id) => !comodel.rows.has(id));
    if (missing.length > 0) {
      throw missingError(
        `Record does not exist or has been deleted.\n(Record: ${comodel.spec.name}(${missing.join(', ')},), User: 2)`,
      );
    }
  }

  /** RPC values → stored values, validated like Odoo's convert_to_cache. */
  private convertVals(
    table: SandboxTable,
    vals: Record<string, unknown>,
    mode: 'create' | 'write',
    options: CallOptions,
    current?: Row,
  ): Converted {
    const values: Record<string, unknown> = {};
    const x2many: Array<[FieldSpec, X2manyCommand[]]> = [];
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
      if (MAGIC_FIELDS.has(name) && options.allowMagic !== true) continue;
      if (spec.computed && !spec.store) continue;
      if (spec.type === 'one2many' || spec.type === 'many2many') {
        x2many.push([spec, this.x2manyCommands(table, spec, value)]);
        continue;
      }
      values[name] = this.convertValue(table, spec, value, options.lang ?? SOURCE_LANG, current);
    }
    return { values, x2many };
  }

  /** A field's value as stored, converted from the form an RPC call would send it in. */
  storedValue(table: SandboxTable, field: FieldSpec, value: unknown): unknown {
    return this.convertValue(table, field, value, SOURCE_LANG, undefined);
  }

  /** An x2many value as commands: a list of ids means SET, False means CLEAR. */
  private x2manyCommands(table: SandboxTable, spec: FieldSpec, value: unknown): X2manyCommand[] {
    if (value === false || value === null || value === undefined) return [[5]];
    if (!Array.isArray(value))
      throw pythonError(
        'ValueError',
        `Wrong value for ${table.spec.name}.${spec.name}: ${repr(value)}`,
      );
    if (value.every((item) => typeof item === 'number')) return [[6, 0, value]];
    return value.map((command: unknown) => {
      if (!Array.isArray(command) || typeof command[0] !== 'number')
        throw pythonError(
          'ValueError',
          `Invalid ${spec.type} command ${repr(command)} on ${table.spec.name}.${spec.name}`,
        );
      return command as unknown as X2manyCommand;
    });
  }

  private convertValue(
    table: SandboxTable,
    spec: FieldSpec,
    value: unknown,
    lang: string,
    current: Row | undefined,
  ): unknown {
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
      case 'html': {
        if (empty) return null;
        if (typeof value !== 'string') return wrong();
        // Char fields keep `size` characters (Python slices code points).
        const text =
          spec.size === undefined ? value : Array.from(value).slice(0, spec.size).join('');
        return spec.translate === true ? translated(current?.[spec.name], text, lang) : text;
      }
      case 'binary':
        if (empty || value === '') return null;
        if (Buffer.isBuffer(value)) return value.toString('base64');
        return typeof value === 'string' ? base64Value(value) : wrong();
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
      case 'json':
        // Odoo stores `json.loads(json.dumps(value))`, and nothing for an empty value.
        if (empty || isEmptyJson(value)) return null;
        return JSON.parse(JSON.stringify(value)) as unknown;
      case 'many2one': {
        if (empty) return null;
        if (typeof value !== 'number') return wrong();
        this.requireTargets(this.tables.requireTable(spec.relation as string), [value]);
        return value;
      }
      default:
        return value;
    }
  }
}

/** What the database does to a record when the target of its many2one is deleted. */
function ondeleteOf(field: FieldSpec): 'cascade' | 'set null' | 'restrict' {
  return field.ondelete ?? (field.required === true ? 'restrict' : 'set null');
}

/**
 * A translated field's new stored value: the text for the call's language merged into the
 * texts it had (Odoo updates one key of its jsonb column), or both `en_US` and that language
 * for a field that had none.
 */
function translated(stored: unknown, text: string, lang: string): unknown {
  if (stored === null || stored === undefined) return { [SOURCE_LANG]: text, [lang]: text };
  const texts: Record<string, string> =
    typeof stored === 'string'
      ? { [SOURCE_LANG]: stored }
      : { ...(stored as Record<string, string>) };
  texts[lang] = text;
  return texts;
}

/**
 * Odoo decodes a binary value (`base64.b64decode`, which skips characters outside the alphabet
 * and wants whole quadruples) into its attachment and reads it back as canonical base64.
 */
function base64Value(value: string): string {
  const compact = value.replace(/[^A-Za-z0-9+/=]/g, '');
  if (compact.length % 4 !== 0) throw moduleError('binascii.Error', 'Incorrect padding');
  return Buffer.from(compact, 'base64').toString('base64');
}

function isEmptyJson(value: unknown): boolean {
  if (value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && value !== null && Object.keys(value).length === 0;
}
