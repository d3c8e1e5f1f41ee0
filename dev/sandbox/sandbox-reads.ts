/**
 * The ORM's reads: `read` (as plain records, or as an RPC answer that XML-RPC marshals straight
 * from the rows) and `fields_get`, with Odoo's read conventions: many2one as `[id, name]` under
 * `_classic_read`, empty values as False, whole floats as floats, datetimes to the second,
 * translated fields in the context's language.
 */
import { PyFloat, RecordList, pyFloatRepr, type PyValue } from './python-values.js';
import { repr, type Row } from './sandbox-domain.js';
import { accessError, pythonError } from './sandbox-exceptions.js';
import { BC_LINE_MODEL, type FieldSpec } from './sandbox-models.js';
import {
  SOURCE_LANG,
  translatedText,
  type SandboxTable,
  type SandboxTables,
} from './sandbox-tables.js';
import { formatOdooDatetime } from './sandbox-time.js';
import { escapeXmlText, marshalValue } from './xmlrpc-marshaller.js';

const MAXINT = 2 ** 31 - 1;

type Reader = (row: Row) => PyValue;
/** Writes one field of a row as XML-RPC (`<value>…</value>\n`). */
type Emitter = (row: Row) => string;

const FALSE_XML = '<value><boolean>0</boolean></value>\n';
const TRUE_XML = '<value><boolean>1</boolean></value>\n';

/** The language a call reads in: its context's `lang`, else the source language. */
export function langOf(context: Record<string, unknown> | undefined): string {
  const lang = context?.lang;
  return typeof lang === 'string' && lang !== '' ? lang : SOURCE_LANG;
}

export class SandboxReads {
  private readonly readerCache = new Map<string, Array<[string, Reader]>>();
  private readonly emitterCache = new Map<string, Array<[string, Emitter]>>();

  constructor(private readonly tables: SandboxTables) {}

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
    const table = this.tables.requireTable(model);
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
    const table = this.tables.requireTable(model);
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

  /** `fields_get(allfields, attributes)`: `attributes` filters each description exactly. */
  fieldsGet(
    model: string,
    allfields: unknown,
    attributes: unknown,
  ): Record<string, Record<string, PyValue>> {
    const table = this.tables.requireTable(model);
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
  readers(
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
            `<value><string>${escapeXmlText(this.tables.displayName(relation, id, lang))}</string></value>\n</data></array></value>\n`
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
    if (name === 'display_name')
      return (row) => this.tables.displayName(table.spec.name, row.id, lang);
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
              return id === null ? false : [id, this.tables.displayName(relation, id, lang)];
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
      return (row) => this.tables.displayName(table.spec.name, row.id, lang);
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

export function toIdList(ids: unknown): number[] {
  if (typeof ids === 'number') return [ids];
  if (ids === false || ids === null || ids === undefined) return [];
  if (Array.isArray(ids) && ids.every((id) => typeof id === 'number' && Number.isInteger(id)))
    return ids as number[];
  throw pythonError('ValueError', `Invalid ids ${repr(ids)}`);
}
