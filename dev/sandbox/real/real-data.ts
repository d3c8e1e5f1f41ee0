/**
 * Records of the models loaded from dumps, from seeded streams of their own: the records the
 * sandbox's other generators already made in them (the BC generator's vendors, users,
 * currencies and companies) completed to every field the dump declares, then `records[model]`
 * new ones per model, targets before what points at them, `linesPerMove` lines per new move; then
 * what Odoo computes (the rules' stored computes, the stored related fields), and last the
 * followers, messages and activities of every thread (mail-data.ts).
 *
 * Every many2one points at a record that exists (a required one into a model the sandbox only
 * stubs gets one made there: journals, `ir.model`s), every one2many is its inverse, binaries are
 * base64, company-dependent fields have their value; the same seed gives the same records.
 */
import { createdAt, HOUR_MICROS } from '../data/data-time.js';
import { seededRandom, type SeededRandom } from '../data/seeded-random.js';
import type { FieldSpec } from '../models/field-spec.js';
import type { SandboxStore } from '../sandbox-store.js';
import type { SandboxTable } from '../sandbox-tables.js';
import { genericValues } from './field-values.js';
import { generateMailData } from './mail-data.js';
import { COMPLETIONS, moveLine, SHAPES, type ShapeContext } from './record-shapes.js';
import { isDumpedModel } from './schema-dump.js';

export interface RealDataOptions {
  /** New records per loaded model (default none). */
  readonly records: Readonly<Record<string, number | undefined>>;
  /** Lines of each new move, when `account.move.line` is loaded too. */
  readonly linesPerMove: number;
  readonly seed: number;
  readonly nowMicros: number;
}

/** Targets first: what a model's records point at is generated before them. */
const GENERATION_ORDER = [
  'res.currency',
  'res.country',
  'res.company',
  'res.users',
  'res.partner.category',
  'res.partner',
  'account.move',
  'account.move.line',
  'project.tags',
  'project.project',
  'project.task',
];

export function generateRealData(store: SandboxStore, options: RealDataOptions): void {
  const loaded = new Set(
    store
      .models()
      .filter((model) => isDumpedModel(model) && store.requireTable(model).spec.release === '17.0'),
  );
  const sequences = new Map<string, number>();
  const nextNumber = (key: string): number => {
    const value = (sequences.get(key) ?? 0) + 1;
    sequences.set(key, value);
    return value;
  };
  const streams = new Map(
    GENERATION_ORDER.map((model) => [model, seededRandom(options.seed, `real:${model}`)]),
  );
  const order = GENERATION_ORDER.filter((model) => loaded.has(model));
  // What the other generators made first, so that none of the new records is taken for theirs.
  for (const model of order) {
    const table = store.requireTable(model);
    ensureRequiredTargets(store, table);
    complete(store, table, streams.get(model) as SeededRandom, options.nowMicros, nextNumber);
  }
  for (const model of order) {
    const random = streams.get(model) as SeededRandom;
    const table = store.requireTable(model);
    const count = options.records[model] ?? 0;
    for (let index = 0; index < count; index++) {
      const id = create(store, table, random, index, count, options.nowMicros, nextNumber);
      if (model === 'account.move' && loaded.has('account.move.line'))
        for (let sequence = 1; sequence <= options.linesPerMove; sequence++)
          createLine(store, random, id, sequence, options.nowMicros, nextNumber);
    }
  }
  for (const model of order) store.recomputeStored(model, store.requireTable(model).ids);
  generateMailData(store, seededRandom(options.seed, 'real:mail'), options.nowMicros);
  for (const [key, value] of sequences) store.advanceSequence(key, value);
}

function shapeContext(
  store: SandboxStore,
  random: SeededRandom,
  id: number,
  index: number,
  createdMicros: number,
  nextNumber: (key: string) => number,
): ShapeContext {
  return { store, tables: store, random, id, index, createdMicros, nextNumber };
}

/** Fills what the dump declares and another generator's records lack. */
function complete(
  store: SandboxStore,
  table: SandboxTable,
  random: SeededRandom,
  nowMicros: number,
  nextNumber: (key: string) => number,
): void {
  const completion = COMPLETIONS.get(table.spec.name);
  for (const [index, id] of [...table.ids].entries()) {
    const row = table.rows.get(id);
    if (row === undefined) continue;
    const created = (row.create_date as number | null) ?? nowMicros;
    const ctx = shapeContext(store, random, id, index, created, nextNumber);
    const values: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(genericValues(table, ctx)))
      if (!fits(table.fields.get(name) as FieldSpec, row[name])) values[name] = value;
    for (const [name, value] of Object.entries(completion?.(row, ctx) ?? {}))
      if ((row[name] ?? null) === null) values[name] = value;
    store.overwriteRaw(table.spec.name, id, values);
  }
}

/**
 * Whether another generator's value suits the dumped field: set, and among the values of a
 * selection (the dump's database has only English installed, say).
 */
function fits(field: FieldSpec, value: unknown): boolean {
  if (value === null || value === undefined) return false;
  return field.selection === undefined || field.selection.some(([key]) => key === value);
}

/** A required many2one into a stub model with no record gets one to point at. */
function ensureRequiredTargets(store: SandboxStore, table: SandboxTable): void {
  for (const field of table.spec.fields) {
    if (field.type !== 'many2one' || field.required !== true) continue;
    const target = store.table(field.relation as string);
    if (target === undefined || target.ids.length > 0 || isDumpedModel(target.spec.name)) continue;
    if (target.spec.release !== '17.0') continue;
    store.insertSeedRow(target.spec.name, { id: target.nextId, name: `${target.spec.name} 1` });
  }
}

/** A new record: generic values, its shape's, and its stamps. */
function create(
  store: SandboxStore,
  table: SandboxTable,
  random: SeededRandom,
  index: number,
  count: number,
  nowMicros: number,
  nextNumber: (key: string) => number,
): number {
  const id = table.nextId;
  const created = createdAt(nowMicros, index, count, random.int(0, 999_999));
  const ctx = shapeContext(store, random, id, index, created, nextNumber);
  const values = genericValues(table, ctx);
  Object.assign(
    values,
    SHAPES.get(table.spec.name)?.(ctx) ?? {},
    stamps(table, random, created, nowMicros),
  );
  store.insertSeedRow(table.spec.name, { ...values, id });
  return id;
}

/** A product line of a new move, written in the move's transaction (its stamps). */
function createLine(
  store: SandboxStore,
  random: SeededRandom,
  moveId: number,
  sequence: number,
  nowMicros: number,
  nextNumber: (key: string) => number,
): void {
  const lines = store.requireTable('account.move.line');
  const move = store.requireTable('account.move').rows.get(moveId);
  const id = lines.nextId;
  const created = (move?.create_date as number | undefined) ?? nowMicros;
  const ctx = shapeContext(store, random, id, sequence, created, nextNumber);
  const values = genericValues(lines, ctx);
  Object.assign(values, moveLine(ctx, moveId, sequence), {
    create_date: move?.create_date,
    write_date: move?.write_date,
    create_uid: move?.create_uid,
    write_uid: move?.write_uid,
  });
  store.insertSeedRow('account.move.line', { ...values, id });
}

/** Created in the past year, written then or later (never within the last hour). */
function stamps(
  table: SandboxTable,
  random: SeededRandom,
  created: number,
  nowMicros: number,
): Record<string, unknown> {
  if (table.spec.logAccess === false) return {};
  const written = random.chance(0.5)
    ? created
    : created + Math.floor(random.next() * Math.max(nowMicros - HOUR_MICROS - created, 1));
  return {
    create_date: created,
    write_date: written,
    create_uid: 2,
    write_uid: random.chance(0.8) ? 2 : 1,
  };
}
