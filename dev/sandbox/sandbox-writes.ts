/**
 * The ORM's writes: `create`, `write` and `unlink`, x2many commands on any one2many or
 * many2many, the magic fields stamped with the transaction's time, and the raw paths the data
 * generators and the fault injection use. Values are converted as Odoo's `convert_to_cache`
 * does (sandbox-convert.ts); deletions go as the foreign keys carry them out
 * (sandbox-foreign-keys.ts); what Odoo computes on top (defaults, stored computes, other records
 * moved) is each model's rules (rules/).
 */
import { repr } from './python-repr.js';
import type { Row } from './sandbox-domain.js';
import { accessError, missingError, pythonError, validationError } from './sandbox-exceptions.js';
import { holdsValue, type FieldSpec } from './models/field-spec.js';
import type { RuleContext, TransactionInfo, WriteOptions } from './rules/model-rules.js';
import {
  convertVals,
  convertValue,
  requireTargets,
  translated,
  type Converted,
  type X2manyCommand,
} from './sandbox-convert.js';
import { deleteThroughForeignKeys, ondeleteOf } from './sandbox-foreign-keys.js';
import { toIdList } from './sandbox-reads.js';
import type { SandboxTable, SandboxTables } from './sandbox-tables.js';
import { SOURCE_LANG } from './sandbox-translations.js';

export type { TransactionInfo, WriteOptions } from './rules/model-rules.js';

/** Options of an RPC create or write: the language of its context. */
export interface CallOptions extends WriteOptions {
  /** The context's `lang`: which text of a translated field a write sets (default en_US). */
  lang?: string;
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
    const { values } = convertVals(this.tables, table, vals, 'create', { lang });
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
    // Another user's write (the control's), read for its webhook: the API user's rules do not apply.
    const [row] =
      options.base === undefined
        ? this.existing(table, [id], 'modify', { asAnotherUser: true })
        : [options.base];
    if (row === undefined) throw new Error(`${model} ${id} does not exist`);
    const { values } = convertVals(
      this.tables,
      table,
      vals,
      'write',
      { lang: options.lang ?? SOURCE_LANG },
      row,
    );
    if (table.spec.logAccess === false) return { ...row, ...values };
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
    const row = this.tables.emptyRow(table, id);
    Object.assign(
      row,
      table.rules.defaults?.(values, ctx) ?? {},
      Object.fromEntries(table.addedDefaults),
      values,
    );
    if (table.spec.logAccess !== false) {
      row.create_uid ??= ctx.tx.uid;
      row.write_uid ??= ctx.tx.uid;
      row.create_date ??= ctx.tx.nowMicros;
      row.write_date ??= ctx.tx.nowMicros;
    }
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
    const { values, x2many } = convertVals(this.tables, table, vals, 'create', options);
    const row = this.newRow(table, id, values, ctx);
    for (const spec of table.spec.fields) {
      // A field of an `_inherits` parent (a project's `alias_defaults`) is its parent's to hold.
      if (!spec.required || !holdsValue(spec)) continue;
      if (row[spec.name] === null || row[spec.name] === undefined) {
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
    const row = Object.assign(this.tables.emptyRow(table, values.id), values);
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
    const rows = this.existing(table, toIdList(ids), 'modify', options);
    const converted = convertVals(
      this.tables,
      table,
      vals as Record<string, unknown>,
      'write',
      options,
    );
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
      // A model without `_log_access` has no stamps to move.
      if (table.spec.logAccess !== false) {
        if (!(options.allowMagic === true && 'write_date' in values))
          changes.write_date = tx.nowMicros;
        changes.write_uid ??= tx.uid;
      }
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
    const rows = this.existing(table, toIdList(ids), 'delete', options);
    const cleared = deleteThroughForeignKeys(this.tables, table, rows);
    const ctx = this.context(tx);
    table.rules.unlinked?.(rows, ctx, options);
    for (const [owner, field, emptied] of cleared) {
      const alive = emptied.filter((row) => owner.rows.has(row.id));
      if (alive.length > 0) owner.rules.referenceCleared?.(alive, field.name, ctx);
    }
  }

  /**
   * The rows `ids` name, for a write or an unlink: AccessError when the API user's record rules
   * hide one (as Odoo's `check_access_rule`), MissingError when one no longer exists.
   */
  private existing(
    table: SandboxTable,
    ids: number[],
    action: 'modify' | 'delete',
    options: WriteOptions = {},
  ): Row[] {
    const model = table.spec.name;
    const denied = options.asAnotherUser ? [] : ids.filter((id) => table.hidden.has(id));
    if (denied.length > 0) {
      throw accessError(
        `You are not allowed to ${action} '${table.spec.description}' (${model}) records.\n\n` +
          `Records: ${denied
            .slice(0, 6)
            .map((id) => `${model}(${id},)`)
            .join(', ')}\n\n` +
          'This restriction is due to the following rules:\n- Multi-company rule',
      );
    }
    const rows: Row[] = [];
    const missing: number[] = [];
    for (const id of ids) {
      const row = table.rows.get(id);
      if (row === undefined) missing.push(id);
      else rows.push(row);
    }
    if (missing.length > 0) {
      throw missingError(
        `Record does not exist or has been deleted.\n(Record: ${model}(${missing.join(', ')},), User: 2)`,
      );
    }
    return rows;
  }

  /** A field's value as stored, converted from the form an RPC call would send it in. */
  storedValue(table: SandboxTable, field: FieldSpec, value: unknown): unknown {
    return convertValue(this.tables, table, field, value, SOURCE_LANG, undefined);
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
      let links =
        field.mirrorOf === undefined
          ? [...((row[field.name] as number[] | null) ?? [])]
          : this.tables.many2manyIds(field, row);
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
            requireTargets(comodel, ids);
            for (const id of ids) if (!links.includes(id)) links.push(id);
            break;
          case 5:
            links = [];
            break;
          default:
            requireTargets(comodel, ids);
            links = [...new Set(ids)];
        }
      }
      if (field.mirrorOf === undefined) this.tables.updateRow(table, row, { [field.name]: links });
      else this.setMirroredLinks(field.mirrorOf, row.id, links);
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

  /**
   * Links written from the side that does not hold them: the other side's records gain or lose
   * `id` in their list, as rows of the relation table come and go (their stamps stay).
   */
  private setMirroredLinks(
    mirror: { model: string; field: string },
    id: number,
    links: readonly number[],
  ): void {
    const owners = this.tables.requireTable(mirror.model);
    const wanted = new Set(links);
    for (const owner of owners.rows.values()) {
      const current = (owner[mirror.field] as number[] | null) ?? [];
      const has = current.includes(id);
      if (has === wanted.has(owner.id)) continue;
      const next = has ? current.filter((target) => target !== id) : [...current, id];
      this.tables.updateRow(owners, owner, { [mirror.field]: next });
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
}
