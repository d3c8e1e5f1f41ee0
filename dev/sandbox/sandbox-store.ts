/**
 * The sandbox's database and ORM: committed records of every model, indexed by id, and the ORM
 * methods the external API exposes (`search`, `read`, `search_read`, `search_count`,
 * `fields_get`, `create`, `write`, `unlink`), with Odoo's read conventions and time model.
 *
 * Time model: every mutation carries the timestamp of the transaction it belongs to (the RPC
 * call's start, or a long transaction's start) in microseconds; that is what `write_date` and
 * `create_date` get and what domains compare against, while reads send whole seconds. Each RPC
 * call runs synchronously, so it is atomic and its changes are visible when it returns; long
 * transactions stage their changes and apply them at commit (see odoo-sandbox.ts).
 *
 * Lines written through `dimagaz.bc.line` do not touch their BC (real Odoo lines change on their
 * own); `bumpParent` asks for the BC's totals to be recomputed and its `write_date` moved.
 */
import { PyFloat, RecordList, pyFloatRepr, type PyValue } from './python-values.js';
import { compileDomain, repr, type DomainModel, type Row } from './sandbox-domain.js';
import { accessError, missingError, pythonError, validationError } from './sandbox-exceptions.js';
import {
  BC_LINE_MODEL,
  BC_MODEL,
  SANDBOX_MODELS,
  type FieldSpec,
  type ModelSpec,
} from './sandbox-models.js';
import { compileOrder } from './sandbox-order.js';
import { formatOdooDatetime, parseDateString, parseDatetimeMicros } from './sandbox-time.js';
import { escapeXmlText, marshalValue } from './xmlrpc-marshaller.js';

export type { Row } from './sandbox-domain.js';

const MAXINT = 2 ** 31 - 1;

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

/** Who calls and when: the transaction a mutation belongs to. */
export interface TransactionInfo {
  uid: number;
  nowMicros: number;
}

export interface SearchOptions {
  offset?: unknown;
  limit?: unknown;
  order?: unknown;
  context?: Record<string, unknown>;
}

/** The language reads answer in when the caller's context names none (Odoo's source language). */
export const SOURCE_LANG = 'en_US';

/**
 * A translatable field's value: one text, or (like Odoo 16+'s jsonb columns) one text per
 * language code, read in the context's `lang` with a fallback to the source language.
 */
export type TranslatedText = string | Readonly<Record<string, string>>;

export function translatedText(value: unknown, lang: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  const texts = value as Record<string, string>;
  return texts[lang] ?? texts[SOURCE_LANG] ?? Object.values(texts)[0] ?? null;
}

/** The language a call reads in: its context's `lang`, else the source language. */
export function langOf(context: Record<string, unknown> | undefined): string {
  const lang = context?.lang;
  return typeof lang === 'string' && lang !== '' ? lang : SOURCE_LANG;
}

export interface WriteOptions {
  /** Line writes: also recompute the BC's totals and move its write_date (default false). */
  bumpParent?: boolean;
  /** Let magic fields (write_date…) through, for tests that need an exact timestamp. */
  allowMagic?: boolean;
}

type Reader = (row: Row) => PyValue;
/** Writes one field of a row as XML-RPC (`<value>…</value>\n`). */
type Emitter = (row: Row) => string;

const FALSE_XML = '<value><boolean>0</boolean></value>\n';
const TRUE_XML = '<value><boolean>1</boolean></value>\n';

const MAGIC_FIELDS = new Set([
  'id',
  'create_uid',
  'create_date',
  'write_uid',
  'write_date',
  'display_name',
]);

export class SandboxStore {
  private readonly tables = new Map<string, SandboxTable>();
  private readonly readerCache = new Map<string, Array<[string, Reader]>>();
  private readonly emitterCache = new Map<string, Array<[string, Emitter]>>();
  private bcSequence = 0;
  /** What `res.users.context_get` answers for the API user. */
  userContext: { lang: string; tz: string } = { lang: 'fr_FR', tz: 'Africa/Casablanca' };

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

  // --- low-level committed mutations ------------------------------------------------------

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

  private updateRow(table: SandboxTable, row: Row, changes: Record<string, unknown>): void {
    for (const [field, byTarget] of table.index) {
      if (!(field in changes) || changes[field] === row[field]) continue;
      const before = row[field];
      if (typeof before === 'number') byTarget.get(before)?.delete(row.id);
      const after = changes[field];
      if (typeof after === 'number') addToIndex(byTarget, after, row.id);
    }
    Object.assign(row, changes);
  }

  private deleteRow(table: SandboxTable, id: number): void {
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

  // --- ORM: reading -----------------------------------------------------------------------

  search(model: string, domain: unknown, options: SearchOptions = {}): number[] {
    const table = this.requireTable(model);
    const compiled = compileDomain(table.domainModel, domain);
    const order = compileOrder(orderText(options.order) ?? table.spec.order, model, (name) =>
      table.fields.get(name),
    );
    const offset = toCount(options.offset, 'offset') ?? 0;
    const limit = toCount(options.limit, 'limit') ?? Infinity;
    if (compiled.empty || limit === 0) return [];

    const activeTest =
      table.hasActive && isTruthy(options.context?.active_test ?? true) && !compiled.mentionsActive;
    const hidden = table.hidden;
    const base = compiled.predicate;
    const matches = (row: Row): boolean =>
      (!activeTest || row.active === true) &&
      (hidden.size === 0 || !hidden.has(row.id)) &&
      base(row);

    const candidates = this.candidates(table, compiled);
    const rows = table.rows;
    const wanted = offset + limit;
    if (order.idAscending || order.idDescending) {
      const found: number[] = [];
      const step = order.idAscending ? 1 : -1;
      for (
        let i = order.idAscending ? candidates.start : candidates.ids.length - 1;
        i >= candidates.start && i < candidates.ids.length;
        i += step
      ) {
        const row = rows.get(candidates.ids[i] as number);
        if (row !== undefined && matches(row)) {
          found.push(row.id);
          if (found.length >= wanted) break;
        }
      }
      return offset > 0 ? found.slice(offset) : found;
    }
    const matched: Row[] = [];
    for (let i = candidates.start; i < candidates.ids.length; i++) {
      const row = rows.get(candidates.ids[i] as number);
      if (row !== undefined && matches(row)) matched.push(row);
    }
    matched.sort(order.compare);
    return matched.slice(offset, offset + limit).map((row) => row.id);
  }

  /** Ascending ids worth testing, from the domain's hints, and where to start in them. */
  private candidates(
    table: SandboxTable,
    compiled: ReturnType<typeof compileDomain>,
  ): { ids: number[]; start: number } {
    let ids: number[] | undefined;
    if (compiled.idSet !== undefined) {
      ids = [...compiled.idSet];
    } else if (compiled.indexed !== undefined) {
      const byTarget = table.index.get(compiled.indexed.field);
      ids = [];
      for (const target of compiled.indexed.targets) {
        const set = byTarget?.get(target);
        if (set !== undefined) for (const id of set) ids.push(id);
      }
    }
    if (ids === undefined)
      return { ids: table.ids, start: upperBound(table.ids, compiled.idAbove) };
    const above = compiled.idAbove;
    return { ids: ids.filter((id) => id > above).sort((a, b) => a - b), start: 0 };
  }

  searchCount(
    model: string,
    domain: unknown,
    options: { limit?: unknown; context?: Record<string, unknown> } = {},
  ): number {
    return this.search(model, domain, {
      limit: options.limit,
      context: options.context,
      order: 'id',
    }).length;
  }

  /**
   * `read`: records that do not exist are dropped silently; hidden ones raise AccessError.
   * `load` '_classic_read' gives many2one as `[id, name]`, anything else a bare id.
   */
  read(
    model: string,
    ids: unknown,
    fields: unknown,
    load: unknown = '_classic_read',
    options: { ignoreRules?: boolean; lang?: string } = {},
  ): Array<Record<string, PyValue>> {
    const table = this.requireTable(model);
    const readers = this.readers(table, fields, load === '_classic_read', options.lang);
    return this.readableRows(table, toIdList(ids), options.ignoreRules === true).map((row) =>
      plainRecord(row, readers),
    );
  }

  /** `read` for an RPC answer: the same records, which XML-RPC marshals from the rows directly. */
  readList(
    model: string,
    ids: unknown,
    fields: unknown,
    load: unknown = '_classic_read',
    lang: string = SOURCE_LANG,
  ): RecordList {
    const table = this.requireTable(model);
    const classic = load === '_classic_read';
    const readers = this.readers(table, fields, classic, lang);
    const emitters = this.emitters(table, classic, readers, lang);
    const rows = this.readableRows(table, toIdList(ids), false);
    return new RecordList(
      rows.map((row) => row.id),
      model === BC_LINE_MODEL ? rows.map((row) => row.bc_id as number | null) : undefined,
      () => {
        let out = '<value><array><data>\n';
        for (const row of rows) {
          out += `<value><struct>\n<member>\n<name>id</name>\n<value><int>${row.id}</int></value>\n</member>\n`;
          for (const [head, emit] of emitters) out += `${head}${emit(row)}</member>\n`;
          out += '</struct></value>\n';
        }
        return `${out}</data></array></value>\n`;
      },
      () => rows.map((row) => plainRecord(row, readers)),
    );
  }

  /** The existing rows among `ids`, in order; AccessError when a record rule hides one. */
  private readableRows(table: SandboxTable, ids: number[], ignoreRules: boolean): Row[] {
    const model = table.spec.name;
    const denied = ignoreRules ? [] : ids.filter((id) => table.hidden.has(id));
    if (denied.length > 0) {
      throw accessError(
        `You are not allowed to access '${table.spec.description}' (${model}) records.\n\n` +
          `Records: ${denied
            .slice(0, 6)
            .map((id) => `${model}(${id},)`)
            .join(', ')}\n\n` +
          'This restriction is due to the following rules:\n- Multi-company rule',
      );
    }
    const rows: Row[] = [];
    for (const id of ids) {
      const row = table.rows.get(id);
      if (row !== undefined) rows.push(row);
    }
    return rows;
  }

  searchReadList(
    model: string,
    domain: unknown,
    fields: unknown,
    options: SearchOptions & { load?: unknown } = {},
  ): RecordList {
    const table = this.requireTable(model);
    // Odoo checks the field names before searching.
    const lang = langOf(options.context);
    this.readers(table, fields, true, lang);
    const ids = this.search(model, domain, options);
    return this.readList(model, ids, fields, options.load ?? '_classic_read', lang);
  }

  /** `fields_get(allfields, attributes)`: `attributes` filters each description exactly. */
  fieldsGet(
    model: string,
    allfields: unknown,
    attributes: unknown,
  ): Record<string, Record<string, PyValue>> {
    const table = this.requireTable(model);
    const only =
      Array.isArray(allfields) && allfields.length > 0
        ? new Set(allfields as unknown[])
        : undefined;
    const keep = Array.isArray(attributes) ? new Set(attributes as unknown[]) : undefined;
    const result: Record<string, Record<string, PyValue>> = {};
    for (const spec of table.spec.fields) {
      if (only !== undefined && !only.has(spec.name)) continue;
      const description = describeField(spec);
      if (keep !== undefined) {
        for (const key of Object.keys(description)) if (!keep.has(key)) delete description[key];
      }
      result[spec.name] = description;
    }
    return result;
  }

  /** Converters from a row to each requested field's wire value, cached per field list. */
  private readers(
    table: SandboxTable,
    fields: unknown,
    classic: boolean,
    lang: string = SOURCE_LANG,
  ): Array<[string, Reader]> {
    let names: string[];
    if (
      fields === false ||
      fields === null ||
      fields === undefined ||
      (Array.isArray(fields) && fields.length === 0)
    ) {
      names = table.spec.fields.map((spec) => spec.name);
    } else if (Array.isArray(fields) && fields.every((name) => typeof name === 'string')) {
      names = fields;
    } else {
      throw pythonError('ValueError', `Invalid fields specification ${repr(fields)}`);
    }
    const key = `${table.spec.name}|${classic ? 1 : 0}|${lang}|${names.join(',')}`;
    const cached = this.readerCache.get(key);
    if (cached !== undefined) return cached;
    const readers: Array<[string, Reader]> = [];
    const seen = new Set<string>(['id']);
    for (const name of names) {
      const spec = table.fields.get(name);
      if (spec === undefined)
        throw pythonError(
          'ValueError',
          `Invalid field ${repr(name)} on model ${repr(table.spec.name)}`,
        );
      if (seen.has(name)) continue;
      seen.add(name);
      readers.push([name, this.reader(table, spec, classic, lang)]);
    }
    if (this.readerCache.size > 500) this.readerCache.clear();
    this.readerCache.set(key, readers);
    return readers;
  }

  /**
   * XML-RPC writers for the same fields as `readers`, byte for byte what marshalling the read
   * records would give (a unit test holds them to it), without building the records.
   */
  private emitters(
    table: SandboxTable,
    classic: boolean,
    readers: Array<[string, Reader]>,
    lang: string,
  ): Array<[string, Emitter]> {
    const key = `${table.spec.name}|${classic ? 1 : 0}|${lang}|${readers.map(([name]) => name).join(',')}`;
    const cached = this.emitterCache.get(key);
    if (cached !== undefined) return cached;
    const emitters = readers.map(([name, reader]): [string, Emitter] => [
      `<member>\n<name>${escapeXmlText(name)}</name>\n`,
      this.emitter(table.fields.get(name) as FieldSpec, classic, reader, lang),
    ]);
    if (this.emitterCache.size > 500) this.emitterCache.clear();
    this.emitterCache.set(key, emitters);
    return emitters;
  }

  private emitter(spec: FieldSpec, classic: boolean, reader: Reader, lang: string): Emitter {
    const name = spec.name;
    const generic: Emitter = (row) => marshalValue(reader(row));
    if ((spec.computed && !spec.store) || name === 'display_name' || spec.translate === true)
      return generic;
    switch (spec.type) {
      case 'char':
      case 'text':
      case 'html':
      case 'selection':
      case 'binary':
      case 'date':
        return (row) => {
          const value = row[name] as string | null;
          return value === null
            ? FALSE_XML
            : `<value><string>${escapeXmlText(value)}</string></value>\n`;
        };
      case 'float':
      case 'monetary':
        return (row) =>
          `<value><double>${pyFloatRepr((row[name] as number | null) ?? 0)}</double></value>\n`;
      case 'boolean':
        return (row) => (row[name] === true ? TRUE_XML : FALSE_XML);
      case 'datetime':
        return (row) => {
          const micros = row[name] as number | null;
          return micros === null
            ? FALSE_XML
            : `<value><string>${formatOdooDatetime(micros)}</string></value>\n`;
        };
      case 'many2one': {
        const relation = spec.relation as string;
        return (row) => {
          const id = row[name] as number | null;
          if (id === null) return FALSE_XML;
          if (!classic) return `<value><int>${id}</int></value>\n`;
          return (
            `<value><array><data>\n<value><int>${id}</int></value>\n` +
            `<value><string>${escapeXmlText(this.displayName(relation, id, lang))}</string></value>\n</data></array></value>\n`
          );
        };
      }
      default:
        return generic;
    }
  }

  private reader(table: SandboxTable, spec: FieldSpec, classic: boolean, lang: string): Reader {
    const name = spec.name;
    if (spec.computed && !spec.store) return this.computedReader(table, spec, lang);
    if (name === 'display_name') return (row) => this.displayName(table.spec.name, row.id, lang);
    if (spec.translate === true) return (row) => translatedText(row[name], lang) ?? false;
    switch (spec.type) {
      case 'char':
      case 'text':
      case 'html':
      case 'selection':
      case 'binary':
      case 'date':
        return (row) => (row[name] as string | null) ?? false;
      case 'integer':
        return (row) => {
          const value = (row[name] as number | null) ?? 0;
          // fields.Integer.convert_to_read: XML-RPC has no 64-bit ints, so Odoo sends a float.
          return value > MAXINT ? new PyFloat(value) : value;
        };
      case 'float':
      case 'monetary':
        return (row) => {
          const value = (row[name] as number | null) ?? 0;
          // Only whole floats need the wrapper (to go out as 100.0, not as an int).
          return Number.isInteger(value) ? new PyFloat(value) : value;
        };
      case 'boolean':
        return (row) => row[name] === true;
      case 'datetime':
        return (row) => {
          const micros = row[name] as number | null;
          return micros === null ? false : formatOdooDatetime(micros);
        };
      case 'many2one': {
        const relation = spec.relation as string;
        return classic
          ? (row) => {
              const id = row[name] as number | null;
              return id === null ? false : [id, this.displayName(relation, id, lang)];
            }
          : (row) => (row[name] as number | null) ?? false;
      }
      case 'one2many':
        return (row) => table.domainModel.one2manyIds(spec, row.id);
      case 'many2many':
        return (row) => [...((row[name] as number[] | null) ?? [])];
      default:
        return (row) => (row[name] as PyValue) ?? false;
    }
  }

  private computedReader(table: SandboxTable, spec: FieldSpec, lang: string): Reader {
    if (spec.name === 'display_name')
      return (row) => this.displayName(table.spec.name, row.id, lang);
    if (spec.name === 'line_count') {
      const lines = this.requireTable(BC_LINE_MODEL).index.get('bc_id') as Map<number, Set<number>>;
      return (row) => lines.get(row.id)?.size ?? 0;
    }
    if (spec.name === 'qty_to_receive') {
      return (row) =>
        new PyFloat(
          ((row.product_qty as number | null) ?? 0) - ((row.qty_received as number | null) ?? 0),
        );
    }
    return () => false;
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

  // --- ORM: writing -----------------------------------------------------------------------

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
    const table = this.requireTable(model);
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
    const table = this.requireTable(model);
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
    Object.assign(row, this.defaults(table, tx, values), values);
    row.create_uid ??= tx.uid;
    row.write_uid ??= tx.uid;
    row.create_date ??= tx.nowMicros;
    row.write_date ??= tx.nowMicros;
    if (model === BC_LINE_MODEL) this.fillLineFromBc(row);
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
    this.insertRow(table, row);
    if (lineCommands !== undefined) this.applyLineCommands(row, lineCommands, tx);
    if (model === BC_MODEL) this.recomputeAmounts(row);
    return id;
  }

  /**
   * Inserts a record exactly as given (internal values: datetimes in microseconds, many2one as
   * ids), every other stored field empty. The data generator's fast path: no defaults, no checks.
   */
  insertSeedRow(model: string, values: Record<string, unknown> & { id: number }): void {
    const table = this.requireTable(model);
    const row: Row = { id: values.id };
    for (const spec of table.spec.fields) {
      if (spec.type === 'one2many' || (spec.computed && !spec.store) || spec.name === 'id')
        continue;
      row[spec.name] = spec.type === 'many2many' ? [] : null;
    }
    Object.assign(row, values);
    this.insertRow(table, row);
  }

  /** Recomputes a BC's stored totals from its lines without writing it (the generator's path). */
  recomputeTotals(id: number): void {
    const bc = this.requireTable(BC_MODEL).rows.get(id);
    if (bc !== undefined) this.recomputeAmounts(bc);
  }

  /**
   * Overwrites stored values as given, without stamps, defaults or checks: the broken rows a
   * real database ends up with (an empty `write_date` after a bad migration, a line whose BC
   * was cleared by SQL), which no ORM call can produce.
   */
  overwriteRaw(model: string, id: number, values: Record<string, unknown>): void {
    const table = this.requireTable(model);
    const row = table.rows.get(id);
    if (row === undefined) throw new Error(`${model} ${id} does not exist`);
    this.updateRow(table, row, values);
  }

  /** `write(ids, vals)`. @throws MissingError when a record no longer exists. */
  write(
    model: string,
    ids: unknown,
    vals: unknown,
    tx: TransactionInfo,
    options: WriteOptions = {},
  ): void {
    const table = this.requireTable(model);
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
      this.updateRow(table, row, changes);
      if (model === BC_LINE_MODEL) {
        if ('product_qty' in values || 'price_unit' in values) row.price_subtotal = subtotal(row);
        if (typeof row.bc_id === 'number') parents.add(row.bc_id);
      }
      if (lineCommands !== undefined) this.applyLineCommands(row, lineCommands, tx);
      if (model === BC_MODEL && lineCommands !== undefined) this.recomputeAmounts(row);
    }
    if (options.bumpParent === true) this.bumpBcs([...parents], tx);
  }

  /** `unlink()`: a BC takes its lines with it (ondelete cascade, no write on the lines). */
  unlink(model: string, ids: unknown, tx: TransactionInfo, options: WriteOptions = {}): void {
    const table = this.requireTable(model);
    const rows = this.existing(table, toIdList(ids));
    const parents = new Set<number>();
    for (const row of rows) {
      if (model === BC_MODEL) {
        const lines = this.requireTable(BC_LINE_MODEL);
        for (const lineId of [...(lines.index.get('bc_id')?.get(row.id) ?? [])])
          this.deleteRow(lines, lineId);
      }
      if (model === BC_LINE_MODEL && typeof row.bc_id === 'number') parents.add(row.bc_id);
      this.deleteRow(table, row.id);
    }
    if (options.bumpParent === true) this.bumpBcs([...parents], tx);
  }

  private bumpBcs(ids: number[], tx: TransactionInfo): void {
    const bcs = this.requireTable(BC_MODEL);
    for (const id of ids) {
      const bc = bcs.rows.get(id);
      if (bc === undefined) continue;
      this.recomputeAmounts(bc);
      bc.write_date = tx.nowMicros;
      bc.write_uid = tx.uid;
    }
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

  private defaults(
    table: SandboxTable,
    tx: TransactionInfo,
    given: Record<string, unknown>,
  ): Record<string, unknown> {
    switch (table.spec.name) {
      case BC_MODEL:
        return {
          name: 'name' in given ? null : `P${String(++this.bcSequence).padStart(5, '0')}`,
          state: 'draft',
          priority: '0',
          active: true,
          date_order: tx.nowMicros,
          currency_id: 1,
          company_id: 1,
          user_id: tx.uid,
        };
      case BC_LINE_MODEL:
        return { sequence: 10, product_qty: 1, qty_received: 0, price_unit: 0 };
      case 'res.partner':
        return { active: true };
      default:
        return {};
    }
  }

  /** Advances the BC name sequence past names the generator used. */
  setBcSequence(value: number): void {
    this.bcSequence = Math.max(this.bcSequence, value);
  }

  private fillLineFromBc(row: Row): void {
    const bc =
      typeof row.bc_id === 'number' ? this.tables.get(BC_MODEL)?.rows.get(row.bc_id) : undefined;
    if (bc === undefined) return;
    row.state ??= bc.state;
    row.currency_id ??= bc.currency_id;
    row.date_planned ??= bc.date_planned;
    if (row.name === null && typeof row.product_id === 'number')
      row.name = this.displayName('product.product', row.product_id);
  }

  private recomputeAmounts(bc: Row): void {
    const lines = this.requireTable(BC_LINE_MODEL);
    const taxes = this.requireTable('account.tax');
    let untaxed = 0;
    let tax = 0;
    for (const lineId of lines.index.get('bc_id')?.get(bc.id) ?? []) {
      const line = lines.rows.get(lineId);
      if (line === undefined) continue;
      const amount = (line.price_subtotal as number | null) ?? 0;
      untaxed += amount;
      for (const taxId of (line.taxes_id as number[] | null) ?? []) {
        tax += (amount * ((taxes.rows.get(taxId)?.amount as number | null) ?? 0)) / 100;
      }
    }
    bc.amount_untaxed = round2(untaxed);
    bc.amount_tax = round2(tax);
    bc.amount_total = round2(untaxed + tax);
  }

  /** one2many commands on `line_ids`: (0,0,vals) create, (1,id,vals) update, (2|3,id) delete, (5) clear, (6,0,ids) keep only. */
  private applyLineCommands(bc: Row, commands: unknown[], tx: TransactionInfo): void {
    const lines = this.requireTable(BC_LINE_MODEL);
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
        if (!this.tables.get(spec.relation as string)?.rows.has(value)) {
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

function plainRecord(row: Row, readers: Array<[string, Reader]>): Record<string, PyValue> {
  const record: Record<string, PyValue> = { id: row.id };
  for (const [name, reader] of readers) record[name] = reader(row);
  return record;
}

/** The attributes `fields_get` describes a field with (None values dropped, as Odoo does). */
function describeField(spec: FieldSpec): Record<string, PyValue> {
  const relational =
    spec.type === 'many2one' || spec.type === 'one2many' || spec.type === 'many2many';
  const numeric = spec.type === 'integer' || spec.type === 'float' || spec.type === 'monetary';
  const description: Record<string, PyValue> = {
    change_default: false,
    company_dependent: false,
    depends: [...(spec.depends ?? [])],
    exportable: true,
    groupable:
      spec.store && !['text', 'html', 'binary', 'one2many', 'many2many'].includes(spec.type),
    manual: false,
    name: spec.name,
    readonly: spec.readonly === true || (spec.computed === true && !spec.store),
    required: spec.required === true,
    searchable: spec.store || spec.type === 'one2many',
    sortable: spec.store && spec.type !== 'one2many' && spec.type !== 'many2many',
    store: spec.store,
    string: spec.string,
    type: spec.type,
  };
  if (numeric && spec.name !== 'id' && spec.name !== 'sequence') description.aggregator = 'sum';
  if (spec.help !== undefined) description.help = spec.help;
  if (relational) {
    description.relation = spec.relation;
    description.context = {};
    description.domain = [];
  }
  if (spec.relationField !== undefined) description.relation_field = spec.relationField;
  if (spec.selection !== undefined)
    description.selection = spec.selection.map(([key, label]) => [key, label]);
  if (spec.currencyField !== undefined) description.currency_field = spec.currencyField;
  if (spec.digits !== undefined) description.digits = [...spec.digits];
  if (spec.type === 'char' || spec.type === 'text' || spec.type === 'html')
    description.translate = spec.translate === true;
  return description;
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
function lowerBound(ids: readonly number[], value: number): number {
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
function upperBound(ids: readonly number[], value: number): number {
  let low = 0;
  let high = ids.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((ids[mid] as number) <= value) low = mid + 1;
    else high = mid;
  }
  return low;
}

function toIdList(ids: unknown): number[] {
  if (typeof ids === 'number') return [ids];
  if (ids === false || ids === null || ids === undefined) return [];
  if (Array.isArray(ids) && ids.every((id) => typeof id === 'number' && Number.isInteger(id)))
    return ids as number[];
  throw pythonError('ValueError', `Invalid ids ${repr(ids)}`);
}

/** `limit`/`offset`: None or False mean "none". */
function toCount(value: unknown, name: string): number | undefined {
  if (value === false || value === null || value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  throw pythonError('TypeError', `'${name}' must be an integer, got ${repr(value)}`);
}

function orderText(order: unknown): string | undefined {
  if (order === false || order === null || order === undefined || order === '') return undefined;
  if (typeof order !== 'string')
    throw pythonError('ValueError', `Invalid "order" specified (${repr(order)})`);
  return order;
}

/** Python truthiness of a context value. */
function isTruthy(value: unknown): boolean {
  return !(value === false || value === 0 || value === null || value === undefined || value === '');
}

function subtotal(line: Row): number {
  return round2(
    ((line.product_qty as number | null) ?? 0) * ((line.price_unit as number | null) ?? 0),
  );
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
