/**
 * The ORM's reads: `read` (as plain records, or as an RPC answer that XML-RPC marshals straight
 * from the rows) with Odoo's read conventions: many2one as `[id, name]` under `_classic_read`,
 * empty values as False, whole floats as floats, datetimes to the second, translated fields in
 * the context's language, x2many values in the comodel's order, binary values as base64 (or
 * their size, with `bin_size` in the context), json values as they were stored. Reading a
 * one2many needs the right to read its model (Odoo searches it as the user). A model loaded from
 * a dump reads its non-stored fields as their catalogue computes them (real/computed-values.ts).
 */
import { PyFloat, RecordList, pyFloatRepr, type PyValue } from './python-values.js';
import type { SandboxAccess } from './sandbox-access.js';
import { repr } from './python-repr.js';
import type { Row } from './sandbox-domain.js';
import { accessError, pythonError } from './sandbox-exceptions.js';
import { describeFields } from './sandbox-fields-get.js';
import type { FieldSpec } from './models/field-spec.js';
import { BC_LINE_MODEL } from './models/bc-models.js';
import type { SandboxTable, SandboxTables } from './sandbox-tables.js';
import { readProperties, readWithMissing } from './sandbox-properties.js';
import { formatOdooDatetime } from './sandbox-time.js';
import { SOURCE_LANG, translatedText } from './sandbox-translations.js';
import { escapeXmlText, marshalValue } from './xmlrpc-marshaller.js';

const MAXINT = 2 ** 31 - 1;

type Reader = (row: Row) => PyValue;
/** Writes one field of a row as XML-RPC (`<value>…</value>\n`). */
type Emitter = (row: Row) => string;

const FALSE_XML = '<value><boolean>0</boolean></value>\n';
const TRUE_XML = '<value><boolean>1</boolean></value>\n';

/** What of a call's context a read depends on. */
export interface ReadContext {
  /** The language translated fields and display names are read in. */
  readonly lang: string;
  /** `bin_size` (every binary field) or `bin_size_<field>` (that one): sizes instead of data. */
  readonly binSize: (field: string) => boolean;
  /**
   * `active_test` (true unless the context says otherwise): Odoo reads an x2many by searching its
   * comodel in the read's context, so archived targets are left out unless it is off.
   */
  readonly activeTest: boolean;
  /**
   * Whether the read is the user's (an RPC call), not the sandbox's own: Odoo reads a one2many by
   * searching its comodel as the user, so a record rule that hides a target leaves it out.
   */
  readonly asUser: boolean;
}

/** The language a call reads in: its context's `lang`, else the source language. */
export function langOf(context: Record<string, unknown> | undefined): string {
  const lang = context?.lang;
  return typeof lang === 'string' && lang !== '' ? lang : SOURCE_LANG;
}

/** A call's context as reads see it. */
export function readContextOf(context: Record<string, unknown> | undefined): ReadContext {
  const lang = langOf(context);
  const all = isTruthy(context?.bin_size);
  return {
    lang,
    binSize: (field) => all || isTruthy(context?.[`bin_size_${field}`]),
    activeTest: isTruthy(context?.active_test ?? true),
    asUser: true,
  };
}

/**
 * A read context for the language alone (no `bin_size`, `active_test` off): what the tests see
 * of Odoo's records, archived x2many targets included, as erp-bridge reads them.
 */
export function langContext(lang: string = SOURCE_LANG): ReadContext {
  return { lang, binSize: () => false, activeTest: false, asUser: false };
}

export class SandboxReads {
  private readonly readerCache = new Map<string, Array<[string, Reader]>>();
  private readonly emitterCache = new Map<string, Array<[string, Emitter]>>();

  constructor(
    private readonly tables: SandboxTables,
    private readonly access: SandboxAccess,
    /** The major version played: `fields_get` describes what that series describes. */
    private readonly major: number = 19,
  ) {}

  /** Forgets compiled readers: a field was added or removed. */
  schemaChanged(): void {
    this.readerCache.clear();
    this.emitterCache.clear();
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
    options: { ignoreRules?: boolean; context?: ReadContext } = {},
  ): Array<Record<string, PyValue>> {
    const table = this.tables.requireTable(model);
    const context = options.context ?? langContext();
    const readers = this.readers(table, fields, load === '_classic_read', context);
    const asked = toIdList(ids);
    const rows = this.readableRows(table, asked, options.ignoreRules === true);
    if (options.ignoreRules !== true && rows.length > 0) this.checkOne2manys(table, readers);
    return misaligned(table, asked, rows, readers) ?? rows.map((row) => plainRecord(row, readers));
  }

  /** `read` for an RPC answer: the same records, which XML-RPC marshals from the rows directly. */
  readList(
    model: string,
    ids: unknown,
    fields: unknown,
    load: unknown = '_classic_read',
    context: ReadContext = langContext(),
  ): RecordList {
    const table = this.tables.requireTable(model);
    const classic = load === '_classic_read';
    const readers = this.readers(table, fields, classic, context);
    const emitters = this.emitters(table, classic, readers, context);
    const asked = toIdList(ids);
    const rows = this.readableRows(table, asked, false);
    if (rows.length > 0) this.checkOne2manys(table, readers);
    const shifted = misaligned(table, asked, rows, readers);
    if (shifted)
      return new RecordList(
        shifted.flatMap((record) => (typeof record.id === 'number' ? [record.id] : [])),
        undefined,
        () => marshalValue(shifted),
        () => shifted,
      );
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

  /** AccessError when a one2many read names a model the user may not read. */
  private checkOne2manys(table: SandboxTable, readers: Array<[string, Reader]>): void {
    for (const [name] of readers) {
      const field = table.fields.get(name);
      if (field?.type !== 'one2many' || !field.store) continue;
      this.access.check(this.tables.requireTable(field.relation as string).spec, 'read');
    }
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

  /** `fields_get(allfields, attributes)`: `attributes` filters each description exactly. */
  fieldsGet(
    model: string,
    allfields: unknown,
    attributes: unknown,
  ): Record<string, Record<string, PyValue>> {
    const hierarchyOf =
      this.major >= 19
        ? (comodel: string) => this.tables.table(comodel)?.fields.has('parent_id') === true
        : undefined;
    return describeFields(this.tables.requireTable(model), allfields, attributes, hierarchyOf);
  }

  /** Converters from a row to each requested field's wire value, cached per field list. */
  readers(
    table: SandboxTable,
    fields: unknown,
    classic: boolean,
    context: ReadContext = langContext(),
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
    const key = this.cacheKey(table, classic, context, names);
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
      readers.push([name, this.reader(table, spec, classic, context)]);
    }
    if (this.readerCache.size > 500) this.readerCache.clear();
    this.readerCache.set(key, readers);
    return readers;
  }

  private cacheKey(
    table: SandboxTable,
    classic: boolean,
    context: ReadContext,
    names: readonly string[],
  ): string {
    const binSize = table.spec.fields
      .filter((spec) => spec.type === 'binary' && context.binSize(spec.name))
      .map((spec) => spec.name)
      .join(',');
    return `${table.spec.name}|${classic ? 1 : 0}|${context.lang}|${context.activeTest ? 1 : 0}|${context.asUser ? 1 : 0}|${binSize}|${names.join(',')}`;
  }

  /**
   * XML-RPC writers for the same fields as `readers`, byte for byte what marshalling the read
   * records would give (a unit test holds them to it), without building the records.
   */
  private emitters(
    table: SandboxTable,
    classic: boolean,
    readers: Array<[string, Reader]>,
    context: ReadContext,
  ): Array<[string, Emitter]> {
    const key = this.cacheKey(
      table,
      classic,
      context,
      readers.map(([name]) => name),
    );
    const cached = this.emitterCache.get(key);
    if (cached !== undefined) return cached;
    const emitters = readers.map(([name, reader]): [string, Emitter] => [
      `<member>\n<name>${escapeXmlText(name)}</name>\n`,
      this.emitter(table.fields.get(name) as FieldSpec, classic, reader, context.lang),
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
          const display = this.tables.displayName(relation, id, lang);
          return (
            `<value><array><data>\n<value><int>${id}</int></value>\n` +
            (display === false
              ? FALSE_XML
              : `<value><string>${escapeXmlText(display)}</string></value>\n`) +
            '</data></array></value>\n'
          );
        };
      }
      default:
        return generic;
    }
  }

  private reader(
    table: SandboxTable,
    spec: FieldSpec,
    classic: boolean,
    context: ReadContext,
  ): Reader {
    const name = spec.name;
    const lang = context.lang;
    if (name === 'display_name')
      return (row) => this.tables.displayName(table.spec.name, row.id, lang);
    if (spec.computed && !spec.store) {
      // The record holds the current company's value of a company-dependent field.
      if (spec.companyDependent === true)
        return this.reader(table, { ...spec, computed: false, store: true }, classic, context);
      if (table.spec.release === '17.0') return this.derivedReader(table, spec, classic, context);
      return this.computedReader(table, spec);
    }
    if (spec.translate === true) return (row) => translatedText(row[name], lang) ?? false;
    switch (spec.type) {
      case 'char':
      case 'text':
      case 'html':
      case 'selection':
      case 'date':
        return (row) => (row[name] as string | null) ?? false;
      case 'binary':
        return context.binSize(name)
          ? (row) => binarySize(row[name] as string | null)
          : (row) => (row[name] as string | null) ?? false;
      case 'integer':
      case 'many2one_reference':
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
              return id === null ? false : [id, this.tables.displayName(relation, id, lang)];
            }
          : (row) => (row[name] as number | null) ?? false;
      }
      case 'one2many':
        return this.activeOnly(
          spec,
          context,
          this.visibleOnly(spec, context, (row) => this.tables.one2manyIds(spec, row.id, lang)),
        );
      case 'many2many':
        return this.activeOnly(spec, context, (row) => this.tables.many2manyIds(spec, row, lang));
      case 'json':
        // Stored as given (Odoo's convert_to_cache is a JSON round trip); empty is False.
        return (row) => (row[name] as PyValue) ?? false;
      case 'properties':
        return (row) => readProperties(this.tables, table, spec, row, lang);
      case 'properties_definition':
        return (row) => (row[name] as PyValue) ?? [];
      default:
        return (row) => (row[name] as PyValue) ?? false;
    }
  }

  /** A one2many's ids as the user sees them: without the targets a record rule hides. */
  private visibleOnly(
    spec: FieldSpec,
    context: ReadContext,
    ids: (row: Row) => number[],
  ): (row: Row) => number[] {
    if (!context.asUser) return ids;
    const { hidden } = this.tables.requireTable(spec.relation as string);
    return (row) => (hidden.size === 0 ? ids(row) : ids(row).filter((id) => !hidden.has(id)));
  }

  /**
   * An x2many's ids as the read's context shows them: without its archived targets unless
   * `active_test` is off (a comodel without an archive field keeps them all).
   */
  private activeOnly(spec: FieldSpec, context: ReadContext, ids: (row: Row) => number[]): Reader {
    const comodel = this.tables.requireTable(spec.relation as string);
    if (!context.activeTest || comodel.activeField === undefined) return ids;
    const active = comodel.activeField;
    return (row) => ids(row).filter((id) => comodel.rows.get(id)?.[active] === true);
  }

  /**
   * A non-stored field of a model loaded from a dump: its computed value, read as a stored one
   * would be (a computed x2many as a list of ids in its model's order).
   */
  private derivedReader(
    table: SandboxTable,
    spec: FieldSpec,
    classic: boolean,
    context: ReadContext,
  ): Reader {
    const text = spec.type === 'char' || spec.type === 'text' || spec.type === 'html';
    const asStored: FieldSpec = {
      ...spec,
      store: true,
      computed: false,
      type: spec.type === 'one2many' ? 'many2many' : spec.type,
      // A related text may reach a translated one: read it in the context's language.
      translate: spec.translate === true || text,
    };
    const read = this.reader(table, asStored, classic, context);
    return (row) =>
      read({ id: row.id, [spec.name]: this.tables.computedValue(table, spec, row) ?? null });
  }

  private computedReader(table: SandboxTable, spec: FieldSpec): Reader {
    if (spec.name === 'line_count') {
      const lines = this.tables.requireTable(BC_LINE_MODEL).index.get('bc_id') as Map<
        number,
        Set<number>
      >;
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
}

/**
 * Odoo 17's answer when a record asked for is gone and a properties field is read: values paired
 * with the wrong records (sandbox-properties.ts); undefined when the read is a plain one.
 */
function misaligned(
  table: SandboxTable,
  asked: readonly number[],
  rows: readonly Row[],
  readers: Array<[string, Reader]>,
): Array<Record<string, PyValue>> | undefined {
  if (table.spec.release !== '17.0' || rows.length === asked.length) return undefined;
  if (!readers.some(([name]) => table.fields.get(name)?.type === 'properties')) return undefined;
  const byName = new Map(readers);
  return readWithMissing(
    table,
    asked,
    readers.map(([name]) => name),
    (name, row) => (byName.get(name) as Reader)(row),
  );
}

function plainRecord(row: Row, readers: Array<[string, Reader]>): Record<string, PyValue> {
  const record: Record<string, PyValue> = { id: row.id };
  for (const [name, reader] of readers) record[name] = reader(row);
  return record;
}

/**
 * A binary value read with `bin_size`: the attachment's size as `odoo.tools.human_size` writes
 * it ("%0.2f %s" in bytes, Kb, Mb…), False when there is none.
 */
export function binarySize(base64: string | null): string | false {
  if (base64 === null || base64 === '') return false;
  const units = ['bytes', 'Kb', 'Mb', 'Gb', 'Tb'];
  const bytes = Buffer.from(base64, 'base64').length;
  if (bytes === 0) return false;
  let unit = 0;
  let divisor = 1;
  while (bytes >= divisor * 1024 && unit < units.length - 1) {
    divisor *= 1024;
    unit += 1;
  }
  // Python's '%0.2f' rounds a tie to even (1152 bytes are '1.12 Kb'); integers keep it exact.
  const quotient = Math.floor((bytes * 100) / divisor);
  const twice = 2 * (bytes * 100 - quotient * divisor);
  const cents =
    twice > divisor || (twice === divisor && quotient % 2 === 1) ? quotient + 1 : quotient;
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')} ${units[unit]}`;
}

/** Python truthiness of a context value. */
function isTruthy(value: unknown): boolean {
  return !(value === false || value === 0 || value === null || value === undefined || value === '');
}

export function toIdList(ids: unknown): number[] {
  if (typeof ids === 'number') return [ids];
  if (ids === false || ids === null || ids === undefined) return [];
  if (Array.isArray(ids) && ids.every((id) => typeof id === 'number' && Number.isInteger(id)))
    return ids as number[];
  throw pythonError('ValueError', `Invalid ids ${repr(ids)}`);
}
