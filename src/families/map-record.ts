/**
 * Pure mapping from Odoo records (as Odoo sent them) to rows of a family's copy tables, from the
 * family's declaration: the typed columns, `data` holding the record untouched (a field Odoo adds
 * later is copied without a migration), the stamp every guard and watermark relies on, and a
 * child's link to its root. A row is the array of its values in the order of the model's row
 * layout (write-shape.ts), as the writer sends it.
 *
 * Instants are held as ISO text, as the writer's JSON sends them: a Date in the array took
 * `JSON.stringify` off its fast path, three times slower for the whole page.
 *
 * A text past a megabyte is set aside (large-values.ts): `data` and the typed column hold its
 * reference, the record its text, once; a value a read staged is its reference already. A record
 * whose large values would make `data` larger than PostgreSQL holds is refused.
 *
 * A row holds the columns of the fields the record has, and only those (a column it lacks holds
 * `undefined`): a field Odoo no longer lists (a Studio field deleted, a module uninstalled) is not
 * read, and its column keeps its last value, as `data` keeps its key (docs/models.md, "When
 * Odoo's schema changes").
 */
import { parseMany2one, parseOdooDatetime } from '../clients/odoo/odoo-values.js';
import type { OdooRecord } from '../clients/odoo/odoo-types.js';
import { COLUMN_KINDS } from './columns.js';
import { isChild, type ChildModel, type RecordFamily, type RootModel } from './family.js';
import { BadRecordError, RecordTooLargeError } from './bad-record-error.js';
import { DATA_MAX_BYTES, setAsideLargeTexts, stagedOf, type StagedValue } from './large-values.js';
import { rowLayout } from './write-shape.js';

/** A stored Odoo record exactly as Odoo sent it (every stored field, Odoo's own conventions). */
export type OdooRecordData = Record<string, unknown>;

/** One record mapped to its row. */
export interface MappedRecord {
  readonly odooId: number;
  readonly writeDate: Date;
  readonly data: OdooRecordData;
  /** The row's values in the order of the model's row layout; undefined for a field not read. */
  readonly values: unknown[];
  /**
   * The targets of each of the model's link tables, in Odoo's order (the model's order);
   * undefined for a field the read left out (its link table keeps what it holds).
   */
  readonly links: readonly (readonly number[] | undefined)[];
  /**
   * Fields Odoo lists that the read left out on purpose (a secret, a binary, a one2many the copy
   * cannot keep exact): a copy holding one from before loses it at its next write. Every other
   * key of the stored `data` that the record lacks is kept.
   */
  readonly unread: readonly string[];
  /**
   * Fields whose value does not fit their column's kind (a field Odoo recreated as another type:
   * char → integer, selection → many2one): their columns (or link tables) are left as they are,
   * as for a field Odoo no longer lists; `data` holds the value exact. Reported per field
   * (src/sync/unfit-values.ts).
   */
  readonly unfit: readonly string[];
  /**
   * The large texts `data` and `values` hold references to, by their SHA-256 (large-values.ts):
   * the text, or where a read staged it; undefined when it holds none.
   */
  readonly large?: ReadonlyMap<string, string | StagedValue>;
}

export interface MappedChild extends MappedRecord {
  /** The root the child belongs to. */
  readonly parentId: number;
}

/** A root record as Odoo sent it, with every child it has, by child model (the family's order). */
export interface RootPayload {
  readonly root: OdooRecord;
  readonly children: readonly (readonly OdooRecord[])[];
}

export interface MappedRoot extends MappedRecord {
  readonly children: readonly (readonly MappedChild[])[];
}

/**
 * A field parsed for its column; undefined when the record does not have it. A plain function:
 * a page maps thousands of records, and a closure per field was most of what mapping allocated.
 */
function field<T>(
  record: OdooRecord,
  model: string,
  name: string,
  parse: (value: unknown) => T,
): T | undefined {
  if (!(name in record)) return undefined;
  try {
    return parse(record[name]);
  } catch (error) {
    throw new BadRecordError(
      `${model} ${String(record.id)}: field ${name}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** The record's `write_date`, which every guard and watermark relies on. */
export function writeDateOf(record: OdooRecord, model: string): Date {
  const date = field(record, model, 'write_date', parseOdooDatetime);
  if (!date) throw new BadRecordError(`${model} ${record.id}: write_date is empty`);
  return date;
}

/** The root of a child record, from its many2one. */
export function parentIdOf(child: ChildModel, record: OdooRecord): number {
  const parent = field(record, child.model, child.parentField, parseMany2one);
  if (!parent)
    throw new BadRecordError(`${child.model} ${record.id}: ${child.parentField} is empty`);
  return parent.id;
}

/** A to-many field's ids, as `read` sends them. */
function targetIds(value: unknown): number[] {
  if (!Array.isArray(value) || !value.every((id) => Number.isSafeInteger(id) && id > 0))
    throw new TypeError(
      `expected a list of record ids, got ${JSON.stringify(value)?.slice(0, 80)}`,
    );
  return value as number[];
}

/** How a model's fields fill a row: each typed column's field, parser and slots. */
interface FieldSlot {
  readonly field: string;
  readonly parse: (value: unknown) => unknown;
  readonly slot: number;
  /** A many2one kept with its display name: one parse fills both columns. */
  readonly nameSlot: number | undefined;
}

interface Filling {
  readonly width: number;
  readonly fields: readonly FieldSlot[];
  readonly layoutVersion: number | undefined;
  readonly writeDate: number;
  readonly data: number;
  /** `active` for a root, the parent column for a child. */
  readonly placed: number;
}

const fillings = new WeakMap<RootModel | ChildModel, Filling>();

function fillingOf(model: RootModel | ChildModel): Filling {
  let filling = fillings.get(model);
  if (!filling) {
    const { columns, slotOf } = rowLayout(model);
    const slot = (name: string) => slotOf.get(name)!;
    filling = {
      width: columns.length,
      fields: model.columns
        .filter((column) => !column.frozen)
        .map((column) => ({
          field: column.field,
          parse: column.nameColumn === undefined ? COLUMN_KINDS[column.kind].parse : parseMany2one,
          slot: slot(column.column),
          nameSlot: column.nameColumn === undefined ? undefined : slot(column.nameColumn),
        })),
      layoutVersion: model.layoutVersion === undefined ? undefined : slot('layout_version'),
      writeDate: slot('odoo_write_date'),
      data: slot('data'),
      placed: slot(isChild(model) ? model.parentColumn : 'active'),
    };
    fillings.set(model, filling);
  }
  return filling;
}

/**
 * A typed column's value; `UNFIT` when it does not parse for the column's kind. Never throws: a
 * field Odoo recreated as another type must not freeze every record holding a value.
 */
function fitted(record: OdooRecord, name: string, parse: (value: unknown) => unknown): unknown {
  try {
    return parse(record[name]);
  } catch {
    return UNFIT;
  }
}

const UNFIT = Symbol('unfit');

/** A record's row: its typed columns, its stamp and `data`; and its links. */
export function mapRecord(
  model: RootModel | ChildModel,
  record: OdooRecord,
  unread: readonly string[] = [],
): MappedRecord {
  const filling = fillingOf(model);
  const values = new Array<unknown>(filling.width).fill(undefined);
  const unfit: string[] = [];
  values[0] = record.id;
  // A value that does not fit leaves its slot undefined: the column is not written (write-shape.ts).
  for (const { field: name, parse, slot, nameSlot } of filling.fields) {
    if (!(name in record)) continue;
    // A value a read staged: its reference, which the write puts back as the value it stands for.
    if (stagedOf(record[name])) {
      values[slot] = record[name];
      continue;
    }
    if (nameSlot === undefined) {
      const value = fitted(record, name, parse);
      if (value === UNFIT) unfit.push(name);
      else values[slot] = value instanceof Date ? value.toISOString() : (value ?? null);
    } else {
      const target = fitted(record, name, parseMany2one);
      if (target === UNFIT) unfit.push(name);
      else {
        const parsed = target as ReturnType<typeof parseMany2one>;
        values[slot] = parsed?.id ?? null;
        values[nameSlot] = parsed?.name ?? null;
      }
    }
  }
  if (filling.layoutVersion !== undefined) values[filling.layoutVersion] = model.layoutVersion;
  const links = model.links.map((link) => {
    if (!(link.field in record)) return undefined;
    const ids = fitted(record, link.field, targetIds);
    if (ids !== UNFIT) return ids as number[];
    unfit.push(link.field);
    return undefined;
  });
  const writeDate = writeDateOf(record, model.model);
  values[filling.writeDate] = writeDate.toISOString();
  const aside = setAsideLargeTexts(record);
  values[filling.data] = aside.record;
  if (aside.refs) {
    const sizes = new Map([...aside.refs].map(([name, ref]) => [name, ref.bytes]));
    if ([...sizes.values()].reduce((sum, bytes) => sum + bytes, 0) > DATA_MAX_BYTES)
      throw new RecordTooLargeError(model.model, record.id, sizes, DATA_MAX_BYTES);
    for (const { field: name, slot } of filling.fields) {
      const ref = aside.refs.get(name);
      if (ref && values[slot] === record[name]) values[slot] = ref;
    }
  }
  return {
    odooId: record.id,
    writeDate,
    data: aside.record,
    values,
    links,
    unread,
    unfit,
    ...(aside.texts ? { large: aside.texts } : {}),
  };
}

/**
 * Maps a root and its children, checking that every child is the root's.
 * @throws BadRecordError when a record cannot be copied (an empty `write_date`, a child of another
 * root), RecordTooLargeError when its values are more than its `data` holds
 */
export function mapRoot(
  family: RecordFamily,
  payload: RootPayload,
  unread: Readonly<Record<string, readonly string[]>> = {},
): MappedRoot {
  const root = mapRecord(family.root, payload.root, unread[family.root.model]);
  // A model without an archive flag has no archived records: everything it returns is live.
  const { activeField } = family.root;
  root.values[fillingOf(family.root).placed] =
    activeField === null ? true : payload.root[activeField] !== false;
  const children = family.children.map((child, i) =>
    (payload.children[i] ?? []).map((record): MappedChild => {
      const mapped = mapRecord(child, record, unread[child.model]);
      const parentId = parentIdOf(child, record);
      if (parentId !== root.odooId)
        throw new BadRecordError(
          `${child.model} ${record.id} belongs to ${family.noun} ${parentId}, not ${root.odooId}`,
        );
      mapped.values[fillingOf(child).placed] = parentId;
      return { ...mapped, parentId };
    }),
  );
  return { ...root, children };
}

/**
 * Names of the fields a write of `after` over the stored `before` changes: those `after` holds
 * with another value, and those of `unread` that `before` still holds (they go). A field only
 * `before` holds otherwise stays: Odoo no longer lists it, and the copy keeps its last value.
 */
export function changedFields(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  unread: readonly string[] = [],
): string[] {
  const names = new Set([...Object.keys(after), ...unread.filter((name) => name in before)]);
  const changed: string[] = [];
  for (const name of names) if (!sameJson(before[name], after[name])) changed.push(name);
  return changed.sort();
}

/**
 * Equality of two JSON values as jsonb holds them: an object's keys in any order (jsonb keeps an
 * order of its own), and numbers by value, so Odoo's `-0.0` equals the `0` jsonb stores for it
 * (compared strictly, every verify found it drifted).
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameJson(item, b[i]));
  }
  if (Array.isArray(b)) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  return keys.every((key) => key in right && sameJson(left[key], right[key]));
}
