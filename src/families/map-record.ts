/**
 * Pure mapping from Odoo records (as Odoo sent them) to rows of a family's copy tables, from the
 * family's declaration: the typed columns, `data` holding the record untouched (a field Odoo adds
 * later is copied without a migration), the stamp every guard and watermark relies on, and a
 * child's link to its root. Rows are keyed by column name, as the writer sends them.
 *
 * A row holds the columns of the fields the record has, and only those: a field Odoo no longer
 * lists (a Studio field deleted, a module uninstalled) is not read, and its column keeps its last
 * value, as `data` keeps its key (docs/models.md, "When Odoo's schema changes").
 */
import { parseMany2one, parseOdooDatetime } from '../clients/odoo/odoo-values.js';
import type { OdooRecord } from '../clients/odoo/odoo-types.js';
import { BadRecordError } from './bad-record-error.js';
import { COLUMN_KINDS } from './columns.js';
import type { ChildModel, ModelDeclaration, RecordFamily } from './family.js';

/** A row of a copy table, by column name. */
export type Row = Record<string, unknown>;

/** A stored Odoo record exactly as Odoo sent it (every stored field, Odoo's own conventions). */
export type OdooRecordData = Record<string, unknown>;

/** One record mapped to its row. */
export interface MappedRecord {
  readonly odooId: number;
  readonly writeDate: Date;
  readonly data: OdooRecordData;
  readonly row: Row;
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

/** A record's row: its typed columns, its stamp and `data`; and its links. */
export function mapRecord(
  model: ModelDeclaration,
  record: OdooRecord,
  unread: readonly string[] = [],
): MappedRecord {
  const row: Row = { odoo_id: record.id };
  for (const column of model.columns) {
    if (column.frozen || !(column.field in record)) continue;
    if (column.nameColumn !== undefined) {
      // A many2one kept with its display name: one parse fills both columns.
      const target = field(record, model.model, column.field, parseMany2one);
      row[column.column] = target?.id ?? null;
      row[column.nameColumn] = target?.name ?? null;
    } else {
      const { parse } = COLUMN_KINDS[column.kind];
      row[column.column] = field(record, model.model, column.field, parse) ?? null;
    }
  }
  if (model.layoutVersion !== undefined) row.layout_version = model.layoutVersion;
  const links = model.links.map((link) => field(record, model.model, link.field, targetIds));
  const writeDate = writeDateOf(record, model.model);
  row.odoo_write_date = writeDate;
  row.data = record;
  return { odooId: record.id, writeDate, data: record, row, links, unread };
}

/**
 * Maps a root and its children, checking that every child is the root's.
 * @throws BadRecordError when a record cannot be copied (an empty `write_date`, a child of another root)
 */
export function mapRoot(
  family: RecordFamily,
  payload: RootPayload,
  unread: Readonly<Record<string, readonly string[]>> = {},
): MappedRoot {
  const root = mapRecord(family.root, payload.root, unread[family.root.model]);
  // A model without an archive flag has no archived records: everything it returns is live.
  const { activeField } = family.root;
  root.row.active = activeField === null ? true : payload.root[activeField] !== false;
  const children = family.children.map((child, i) =>
    (payload.children[i] ?? []).map((record): MappedChild => {
      const mapped = mapRecord(child, record, unread[child.model]);
      const parentId = parentIdOf(child, record);
      if (parentId !== root.odooId)
        throw new BadRecordError(
          `${child.model} ${record.id} belongs to ${family.noun} ${parentId}, not ${root.odooId}`,
        );
      mapped.row[child.parentColumn] = parentId;
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
