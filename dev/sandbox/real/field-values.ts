/**
 * A generated value for any field a record holds, from its declaration alone: every type with
 * its empty case (False, 0, no links) unless the field is required, texts that look like what
 * their name says (an e-mail, a phone, a street) with unicode and `& < >` among them, a char cut
 * to its size, a float to its digits, a selection among its values, translated texts in two
 * languages, images as real PNG bytes in base64, a many2one or many2many among the target's
 * existing records. Values are internal (a datetime in microseconds, a many2one as its id).
 */
import { holdsValue, type FieldSpec } from '../models/field-spec.js';
import type { SeededRandom } from '../data/seeded-random.js';
import { DAY_MICROS, secondsOnly } from '../data/data-time.js';
import type { SandboxTable } from '../sandbox-tables.js';
import { formatOdooDate } from '../sandbox-time.js';

/** A 1×1 PNG: what a resized image of one pixel is at every size (`image_128` … `image_1920`). */
export const PIXEL_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

const WORDS = [
  'Atlas',
  'Zerktouni',
  'Öztürk',
  'Société',
  'Café & Co',
  'Tubes <Premium>',
  'Ñandú',
  'النور',
  'Zhōngshān',
  'Détendeur',
  '"Le Gaz"',
  'Liège',
];
const HTML = [
  '<p>Livraison le matin &amp; appeler avant</p>',
  '<p>Client fidèle — <strong>remise 5 %</strong></p>',
  '<p>⚠ Accès camion limité &lt; 12 t</p>',
];

/** When a field may stay empty: one value in four, never for a required field. */
const EMPTY_CHANCE = 0.25;

export interface ValueContext {
  readonly random: SeededRandom;
  /** Where a relational field's targets are looked up. */
  readonly tables: { table(model: string): SandboxTable | undefined };
  /** The record's creation time (microseconds): its dates fall before it. */
  readonly createdMicros: number;
  /** The record's id, for unique-looking texts. */
  readonly id: number;
}

/** Set by their own generator, or computed: generic values leave them alone. */
const LEFT_ALONE = new Set(['id', 'create_uid', 'create_date', 'write_uid', 'write_date']);

/** Whether the generic generator fills `field` (its own generator or a rule sets the others). */
export function generated(table: SandboxTable, field: FieldSpec): boolean {
  if (!holdsValue(field) || LEFT_ALONE.has(field.name)) return false;
  // Hierarchies, related copies and references into any model come from the shapes and rules.
  if (field.related !== undefined && field.store) return false;
  if (field.type === 'many2one_reference' || field.name === 'parent_id') return false;
  return !(field.relation === table.spec.name && field.type === 'many2one');
}

/** Generic values for every field of `table` the generic generator fills. */
export function genericValues(table: SandboxTable, ctx: ValueContext): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const field of table.spec.fields)
    if (generated(table, field)) values[field.name] = fieldValue(field, ctx);
  return values;
}

/** A value for `field`, or null when it stays empty. */
export function fieldValue(field: FieldSpec, ctx: ValueContext): unknown {
  const { random } = ctx;
  if (field.required !== true && field.type !== 'boolean' && random.chance(EMPTY_CHANCE))
    return field.type === 'many2many' ? [] : null;
  switch (field.type) {
    case 'char':
      return translatable(field, cut(field, charText(field.name, ctx)), random);
    case 'text':
      return translatable(field, `${random.pick(WORDS)} ${random.pick(WORDS)}.\n${ctx.id}`, random);
    case 'html':
      return translatable(field, random.pick(HTML), random);
    case 'selection':
      return field.selection === undefined || field.selection.length === 0
        ? null
        : random.pick(field.selection)[0];
    case 'boolean':
      // Most records are live; other flags are mostly off.
      return field.name === 'active' ? !random.chance(0.08) : random.chance(0.3);
    case 'integer':
      return random.chance(0.3) ? 0 : random.int(1, 1_000);
    case 'float':
    case 'monetary': {
      const scale = field.type === 'monetary' ? 2 : (field.digits?.[1] ?? 2);
      const factor = 10 ** scale;
      return Math.round(random.int(0, 500_000) * (factor / 100)) / factor;
    }
    case 'date':
      return formatOdooDate(ctx.createdMicros - random.int(0, 30) * DAY_MICROS);
    case 'datetime':
      return secondsOnly(ctx.createdMicros - random.int(0, 30 * 86_400) * 1_000_000);
    case 'binary':
      return field.name.includes('image')
        ? PIXEL_PNG
        : Buffer.from(`${field.name} #${ctx.id} ✓`, 'utf8').toString('base64');
    case 'json':
      return field.name.startsWith('analytic')
        ? { [String(random.int(1, 4))]: 100.0 }
        : { key: `${ctx.id}`, values: [1, 2.5, 'trois'], nested: { ok: true } };
    case 'properties_definition':
      return propertyDefinitions(ctx);
    case 'properties':
      return propertyValues(ctx);
    case 'many2one':
      return existingTarget(field, ctx) ?? null;
    case 'many2many': {
      const ids = targetIds(field, ctx);
      return distinct(random, ids, random.int(0, Math.min(3, ids.length)));
    }
    default:
      return null;
  }
}

/** Properties a container may define, one of each type a value is generated for. */
const PROPERTIES = [
  { name: 'colour', type: 'char', string: 'Colour' },
  { name: 'size', type: 'integer', string: 'Size' },
  { name: 'urgent', type: 'boolean', string: 'Urgent' },
  {
    name: 'kind',
    type: 'selection',
    string: 'Kind',
    selection: [
      ['bottle', 'Bottle'],
      ['tank', 'Tank'],
    ],
  },
  { name: 'owner', type: 'many2one', string: 'Owner', comodel: 'res.partner' },
];

/** A container's definitions: some of the properties above, in their order. */
function propertyDefinitions({ random }: ValueContext): unknown {
  const chosen = PROPERTIES.filter(() => random.chance(0.7));
  return chosen.length === 0 ? null : chosen;
}

/**
 * A record's property values: one for every property a container may define (a read shows those
 * its container defines), so that none reads None, which XML-RPC cannot send.
 */
function propertyValues(ctx: ValueContext): unknown {
  const { random, id } = ctx;
  const owners = ctx.tables.table('res.partner')?.ids ?? [];
  return {
    colour: `${random.pick(WORDS)} ${id}`,
    size: random.int(1, 50),
    urgent: random.chance(0.3),
    kind: random.pick(['bottle', 'tank']),
    owner: owners.length > 0 ? random.pick(owners) : false,
  };
}

/** Up to `count` different items drawn from `items` (no copy of a list of thousands). */
export function distinct<T>(random: SeededRandom, items: readonly T[], count: number): T[] {
  const out: T[] = [];
  for (let draw = 0; draw < count * 3 && out.length < count && items.length > 0; draw++) {
    const item = random.pick(items);
    if (!out.includes(item)) out.push(item);
  }
  return out;
}

/** A live record of the field's target, if it has any. */
function existingTarget(field: FieldSpec, ctx: ValueContext): number | undefined {
  const ids = targetIds(field, ctx);
  return ids.length === 0 ? undefined : ctx.random.pick(ids);
}

/**
 * The target's live records, or all of them when every one is archived; kept while the target
 * has as many records (a generator picks among them for thousands of records).
 */
function targetIds(field: FieldSpec, ctx: ValueContext): readonly number[] {
  const target = ctx.tables.table(field.relation as string);
  if (target === undefined) return [];
  const cached = liveTargets.get(target);
  if (cached?.count === target.ids.length) return cached.ids;
  const active = target.activeField;
  const live =
    active === undefined
      ? target.ids
      : target.ids.filter((id) => target.rows.get(id)?.[active] !== false);
  const ids = live.length > 0 ? [...live] : [...target.ids];
  liveTargets.set(target, { count: target.ids.length, ids });
  return ids;
}

const liveTargets = new WeakMap<SandboxTable, { count: number; ids: readonly number[] }>();

/** A text that looks like what the field's name says. */
function charText(name: string, ctx: ValueContext): string {
  const { random, id } = ctx;
  if (name.includes('email')) return `contact${id}@example.ma`;
  if (name.includes('phone') || name.includes('mobile'))
    return `+212 5 22 ${random.int(10, 99)} ${random.int(10, 99)} ${random.int(10, 99)}`;
  if (name === 'website') return `https://www.example${id}.ma`;
  if (name === 'zip') return String(random.int(10_000, 99_999));
  if (name === 'vat') return `MA${random.int(10_000_000, 99_999_999)}`;
  if (name.includes('street')) return `${random.int(1, 250)}, Bd ${random.pick(WORDS)}`;
  if (name === 'city') return random.pick(['Casablanca', 'Fès', 'Liège', 'İzmir']);
  if (name === 'ref' || name.endsWith('_ref') || name.endsWith('reference'))
    return `REF/${id}/${random.int(1, 99)}`;
  return `${random.pick(WORDS)} ${id}`;
}

/** Python slices code points: a char keeps `size` of them. */
function cut(field: FieldSpec, text: string): string {
  return field.size === undefined ? text : Array.from(text).slice(0, field.size).join('');
}

/** A translated field holds one text per language; half of them have a French one. */
function translatable(field: FieldSpec, text: string, random: SeededRandom): unknown {
  if (field.translate !== true) return text;
  return random.chance(0.5) ? { en_US: text, fr_FR: `${text} (fr)` } : { en_US: text };
}
