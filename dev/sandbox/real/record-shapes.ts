/**
 * What makes a generated record of a dumped model look like one of a real database, beyond each
 * field's generic value (field-values.ts): contacts are companies, their contacts and
 * individuals, with tags and the accounts every partner needs; journal entries have a type, a
 * state, a number once posted, a journal of their type and product lines; tags, countries and
 * currencies have names of their kind. A shape returns the values it decides; the generic
 * generator fills the others, and the models' rules then compute what Odoo computes.
 */
import type { MoveType } from '../models/account-models.js';
import { moveNumber } from '../rules/account-rules.js';
import { weighted } from '../data/seeded-random.js';
import { DAY_MICROS } from '../data/data-time.js';
import type { SandboxStore } from '../sandbox-store.js';
import { formatOdooDate } from '../sandbox-time.js';
import { genericValues, type ValueContext } from './field-values.js';

export interface ShapeContext extends ValueContext {
  readonly store: SandboxStore;
  /** The record's position among those generated for its model. */
  readonly index: number;
  /** The next number of a sequence, starting at 1. */
  nextNumber(key: string): number;
}

/** Values a shape decides for a new record. */
export type Shape = (ctx: ShapeContext) => Record<string, unknown>;

const FIRST_NAMES = ['Yasmine', 'Zoë', 'Seán', 'Omar', 'Léa', 'Mehdi', 'Inès', 'Jürgen'];
const LAST_NAMES = ['El Fassi', 'Lefèvre', "O'Brien", 'Benjelloun', 'Müller', 'Núñez'];
const COMPANY_STEMS = ['Öztürk Gaz', 'Ets. Ben Saïd & Fils', '"Le Gaz" <Pro>', 'مؤسسة النور'];
const TAG_NAMES = ['Gas supplier', 'Carrier', 'Key account', 'VIP', 'Export', 'Retailer'];
const JOURNALS: Readonly<Record<'sale' | 'purchase' | 'general', string>> = {
  sale: 'Customer Invoices',
  purchase: 'Vendor Bills',
  general: 'Miscellaneous Operations',
};
const CURRENCY_SYMBOLS: Readonly<Record<string, string>> = { MAD: 'DH', EUR: '€', USD: '$' };
const LABELS = ['Recharge butane', 'Consigne bouteille', 'Transport — zone nord', 'Réglage'];

function slug(name: string): string {
  return (
    name
      .normalize('NFD')
      .replace(/[^A-Za-z0-9]+/g, '.')
      .replace(/^\.+|\.+$/g, '')
      .toLowerCase() || 'contact'
  );
}

/** The first account of a type in the chart (`asset_receivable`, `liability_payable`…). */
function accountOfType(store: SandboxStore, type: string): number | null {
  const accounts = store.table('account.account');
  return accounts?.ids.find((id) => accounts.rows.get(id)?.account_type === type) ?? null;
}

/** A company among the partners, found by a few draws (a scan per contact would be quadratic). */
function someCompany({ random, store }: ShapeContext): number | null {
  const partners = store.requireTable('res.partner');
  for (let draw = 0; draw < 20 && partners.ids.length > 0; draw++) {
    const id = random.pick(partners.ids);
    if (partners.rows.get(id)?.is_company === true) return id;
  }
  return null;
}

/** A company, a contact of a company, or an individual, in turns of ten. */
const partner: Shape = (ctx) => {
  const { random, index, id, store } = ctx;
  const kind = index % 10 < 3 ? 'company' : index % 10 < 8 ? 'contact' : 'person';
  const partners = store.requireTable('res.partner');
  const parent = kind === 'contact' ? someCompany(ctx) : null;
  const name =
    kind === 'company'
      ? `${random.pick(COMPANY_STEMS)} #${id}`
      : `${random.pick(FIRST_NAMES)} ${random.pick(LAST_NAMES)}`;
  const email = random.chance(0.15) ? null : `${slug(name)}.${id}@example.ma`;
  const tags = store.table('res.partner.category')?.ids ?? [];
  const commercial =
    parent === null ? id : ((partners.rows.get(parent)?.commercial_partner_id as number) ?? parent);
  return {
    name,
    is_company: kind === 'company',
    parent_id: parent,
    type: 'contact',
    active: !random.chance(0.08),
    email,
    email_normalized: email,
    commercial_partner_id: commercial,
    // 0 to 4 tags in turn: every fifth contact has exactly two.
    category_id: random.sample(tags, index % 5),
    property_account_receivable_id: accountOfType(store, 'asset_receivable'),
    property_account_payable_id: accountOfType(store, 'liability_payable'),
    lang: 'en_US',
  };
};

const category: Shape = ({ random, index, id }) => ({
  name: {
    en_US: `${TAG_NAMES[index % TAG_NAMES.length] as string} ${id}`,
    fr_FR: `Étiquette ${id}`,
  },
  color: random.int(0, 11),
  active: index % 7 !== 6,
  parent_id: null,
  parent_path: `${id}/`,
});

const country: Shape = ({ id }) => ({
  code: String.fromCharCode(65 + (Math.floor(id / 26) % 26), 65 + (id % 26)),
  name: { en_US: `Country ${id}`, fr_FR: `Pays ${id}` },
});

const currency: Shape = ({ id }) => ({
  name: String.fromCharCode(65 + (id % 26), 65 + (Math.floor(id / 26) % 26), 88),
  symbol: '¤',
  active: true,
  rounding: 0.01,
  decimal_places: 2,
});

/**
 * The partner a company or a user is (`_inherits` for users, `partner_id` for companies), made
 * for it: their name is the partner's.
 */
export function ownPartner(ctx: ShapeContext, name: unknown, isCompany: boolean): number {
  const partners = ctx.store.requireTable('res.partner');
  const id = partners.nextId;
  const text = typeof name === 'string' ? name : ((name as { en_US?: string } | null)?.en_US ?? '');
  ctx.store.insertSeedRow('res.partner', {
    ...genericValues(partners, { ...ctx, id }),
    id,
    name: text,
    is_company: isCompany,
    parent_id: null,
    active: true,
    type: 'contact',
    commercial_partner_id: id,
    category_id: [],
    property_account_receivable_id: accountOfType(ctx.store, 'asset_receivable'),
    property_account_payable_id: accountOfType(ctx.store, 'liability_payable'),
    ...(ctx.store.requireTable('res.partner').spec.logAccess === false
      ? {}
      : {
          create_date: ctx.createdMicros,
          write_date: ctx.createdMicros,
          create_uid: 1,
          write_uid: 1,
        }),
  });
  return id;
}

const company: Shape = (ctx) => {
  const name = `Dimagaz Filiale ${ctx.id}`;
  return { name, partner_id: ownPartner(ctx, name, true), currency_id: 1, parent_id: null };
};

const user: Shape = (ctx) => {
  const name = `${ctx.random.pick(FIRST_NAMES)} ${ctx.random.pick(LAST_NAMES)}`;
  return {
    login: `${slug(name)}.${ctx.id}`,
    partner_id: ownPartner(ctx, name, false),
    company_id: 1,
    active: true,
  };
};

const MOVE_TYPE_WEIGHTS: ReadonlyArray<readonly [MoveType, number]> = [
  ['out_invoice', 0.4],
  ['in_invoice', 0.3],
  ['out_refund', 0.07],
  ['in_refund', 0.05],
  ['out_receipt', 0.04],
  ['in_receipt', 0.04],
  ['entry', 0.1],
];

/** The journal of a move type, created in the `account.journal` stub when missing. */
function journalOf(store: SandboxStore, moveType: MoveType): number | null {
  const journals = store.table('account.journal');
  if (journals === undefined) return null;
  const kind = moveType.startsWith('out_')
    ? 'sale'
    : moveType.startsWith('in_')
      ? 'purchase'
      : 'general';
  const name = JOURNALS[kind];
  const found = journals.ids.find((id) => journals.rows.get(id)?.name === name);
  if (found !== undefined) return found;
  const id = journals.nextId;
  store.insertSeedRow('account.journal', { id, name });
  return id;
}

const move: Shape = (ctx) => {
  const { random, store, createdMicros } = ctx;
  const moveType = weighted(random.next(), MOVE_TYPE_WEIGHTS);
  const state = weighted(random.next(), [
    ['draft', 0.2],
    ['posted', 0.7],
    ['cancel', 0.1],
  ] as const);
  const date = formatOdooDate(createdMicros - random.int(0, 3) * DAY_MICROS);
  const invoice = moveType !== 'entry';
  const partners = store.requireTable('res.partner');
  const partnerId =
    partners.ids.length > 0 && (invoice || random.chance(0.5)) ? random.pick(partners.ids) : null;
  return {
    move_type: moveType,
    state,
    date,
    name: state === 'posted' ? moveNumber(moveType, date, (key) => ctx.nextNumber(key)) : '/',
    partner_id: partnerId,
    commercial_partner_id:
      partnerId === null
        ? null
        : (partners.rows.get(partnerId)?.commercial_partner_id ?? partnerId),
    invoice_date: invoice ? date : null,
    invoice_date_due: invoice ? formatOdooDate(createdMicros + 30 * DAY_MICROS) : null,
    journal_id: journalOf(store, moveType),
    currency_id: weighted(random.next(), [
      [1, 0.85],
      [2, 0.1],
      [3, 0.05],
    ]),
    company_id: 1,
    // No payment is generated: every move is unpaid, as `_compute_payment_state` says then.
    payment_state: 'not_paid',
    auto_post: 'no',
  };
};

/** A product line of `moveId`, the `sequence`-th. */
export function moveLine(
  ctx: ShapeContext,
  moveId: number,
  sequence: number,
): Record<string, unknown> {
  const { random, store } = ctx;
  const parent = store.requireTable('account.move').rows.get(moveId);
  const moveType = (parent?.move_type as MoveType | undefined) ?? 'entry';
  const products = store.table('product.product')?.ids ?? [];
  const product = products.length > 0 && random.chance(0.8) ? random.pick(products) : null;
  const taxes = store.table('account.tax')?.ids ?? [];
  return {
    move_id: moveId,
    sequence: sequence * 10,
    name: random.chance(0.5) ? random.pick(LABELS) : `${random.pick(LABELS)} — lot n°${ctx.id}`,
    display_type: 'product',
    account_id: accountOfType(
      store,
      moveType.startsWith('out_')
        ? 'income'
        : moveType.startsWith('in_')
          ? 'expense'
          : 'asset_current',
    ),
    product_id: product,
    partner_id: parent?.partner_id ?? null,
    currency_id: parent?.currency_id ?? 1,
    quantity: random.chance(0.2) ? random.int(1, 40) / 2 : random.int(1, 200),
    price_unit: random.int(100, 500_000) / 100,
    discount: 0,
    // 0, 1 or 2 taxes: exactly two must never read as a many2one.
    tax_ids: random.sample(
      taxes,
      weighted(random.next(), [
        [0, 0.2],
        [1, 0.6],
        [2, 0.2],
      ] as const),
    ),
    reconcile_model_id: null,
    full_reconcile_id: null,
    matching_number: null,
    reconciled: false,
    blocked: false,
  };
}

/** Values a record another generator made still lacks to look like its dumped model's. */
export type Completion = (
  row: Readonly<Record<string, unknown>>,
  ctx: ShapeContext,
) => Record<string, unknown>;

export const COMPLETIONS: ReadonlyMap<string, Completion> = new Map<string, Completion>([
  // The BC generator's vendors are companies; the contacts generator's keep what they are.
  [
    'res.partner',
    (row, { store }) => ({
      is_company: true,
      type: 'contact',
      commercial_partner_id: commercialPartner(store, row),
      property_account_receivable_id: accountOfType(store, 'asset_receivable'),
      property_account_payable_id: accountOfType(store, 'liability_payable'),
    }),
  ],
  // Their partner, made for them: a user's or a company's name is its partner's.
  [
    'res.company',
    (row, ctx) => ({
      ...(row.partner_id == null ? { partner_id: ownPartner(ctx, row.name, true) } : {}),
      currency_id: 1,
    }),
  ],
  [
    'res.users',
    (row, ctx) => ({
      ...(row.partner_id == null ? { partner_id: ownPartner(ctx, row.name, false) } : {}),
      company_id: 1,
    }),
  ],
  // The BC generator's currencies, by their ISO code.
  [
    'res.currency',
    (row) => ({
      symbol: CURRENCY_SYMBOLS[row.name as string] ?? '¤',
      rounding: 0.01,
      decimal_places: 2,
      active: true,
    }),
  ],
  // The journal entries generator's moves and lines.
  [
    'account.move',
    (row, { store }) => ({
      journal_id: journalOf(store, (row.move_type as MoveType | null) ?? 'entry'),
      company_id: 1,
      auto_post: 'no',
      payment_state: 'not_paid',
    }),
  ],
  [
    'account.move.line',
    (row, { store }) => ({
      display_type: 'product',
      partner_id:
        store.requireTable('account.move').rows.get(row.move_id as number)?.partner_id ?? null,
    }),
  ],
]);

/** The company a contact belongs to, itself for a company or a contact of nobody. */
function commercialPartner(store: SandboxStore, row: Readonly<Record<string, unknown>>): unknown {
  const partners = store.requireTable('res.partner');
  let current = row;
  const seen = new Set<unknown>();
  while (current.is_company !== true && typeof current.parent_id === 'number') {
    const parent = partners.rows.get(current.parent_id);
    if (parent === undefined || seen.has(parent.id)) break;
    seen.add(parent.id);
    current = parent;
  }
  return current.id;
}

export const SHAPES: ReadonlyMap<string, Shape> = new Map([
  ['res.partner', partner],
  ['res.partner.category', category],
  ['res.country', country],
  ['res.currency', currency],
  ['account.move', move],
  ['res.company', company],
  ['res.users', user],
]);
