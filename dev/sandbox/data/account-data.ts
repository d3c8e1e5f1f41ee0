/**
 * Journal entries from their own seeded stream: the chart of accounts (always, reference data)
 * and `moves` entries of every type and state with `linesPerMove` lines each. Draft moves are
 * numbered `/` and show as "Draft Invoice (* 12)"; posted ones carry their type's sequence
 * (`INV/2025/00007`), which later postings continue. Amounts are computed from the lines as the
 * rules compute them. Lines share their move's stamp (written in its transaction), a few were
 * relabelled later on their own (a later stamp, amounts unchanged, so the move did not move).
 */
import { MOVE_LINE_MODEL, MOVE_MODEL, type MoveType } from '../models/account-models.js';
import { moveNumber } from '../rules/account-rules.js';
import type { SandboxStore } from '../sandbox-store.js';
import { formatOdooDate } from '../sandbox-time.js';
import { createdAt, DAY_MICROS, HOUR_MICROS, referenceStamps } from './data-time.js';
import { weighted, type SeededRandom } from './seeded-random.js';

/** Code, type, English and French names (a Moroccan chart of accounts). */
const ACCOUNTS: ReadonlyArray<readonly [string, string, string, string]> = [
  ['342100', 'asset_receivable', 'Customers', 'Clients'],
  ['441100', 'liability_payable', 'Suppliers', 'Fournisseurs'],
  ['711100', 'income', 'Sales of goods', 'Ventes de marchandises'],
  ['611100', 'expense', 'Purchases of goods', 'Achats de marchandises'],
  ['445500', 'liability_current', 'VAT collected', 'État, TVA facturée'],
  ['345500', 'asset_current', 'VAT recoverable', 'État, TVA récupérable'],
];
const INCOME_ACCOUNT = 3;
const EXPENSE_ACCOUNT = 4;
const MOVE_TYPES: ReadonlyArray<readonly [MoveType, number]> = [
  ['out_invoice', 0.4],
  ['in_invoice', 0.3],
  ['out_refund', 0.07],
  ['in_refund', 0.05],
  ['out_receipt', 0.04],
  ['in_receipt', 0.04],
  ['entry', 0.1],
];
const REFS = ['BC P00042', 'Réf. client «A-12»', 'Facture n° 2025/118 & avoir', 'PO <urgent>'];
const NARRATIONS = [
  '<p>Paiement à 30 jours fin de mois</p>',
  '<p>Escompte 2 % &amp; pénalités de retard</p>',
];
const LABELS = ['Recharge butane', 'Consigne bouteille', 'Transport — zone nord', 'Réglage'];

export interface AccountDataOptions {
  moves: number;
  linesPerMove: number;
  nowMicros: number;
}

export function generateAccountData(
  store: SandboxStore,
  random: SeededRandom,
  options: AccountDataOptions,
): void {
  const now = options.nowMicros;
  const reference = referenceStamps(now);
  ACCOUNTS.forEach(([code, accountType, en_US, fr_FR], index) =>
    store.insertSeedRow('account.account', {
      id: index + 1,
      code,
      account_type: accountType,
      name: { en_US, fr_FR },
      ...reference,
    }),
  );
  const partners = store.requireTable('res.partner').ids;
  const products = store.requireTable('product.product').ids;
  const sequences = new Map<string, number>();
  const next = (key: string): number => {
    const value = (sequences.get(key) ?? 0) + 1;
    sequences.set(key, value);
    return value;
  };
  let lineId = 0;
  for (let id = 1; id <= options.moves; id++) {
    const moveType = weighted(random.next(), MOVE_TYPES);
    const state = weighted(random.next(), [
      ['draft', 0.2],
      ['posted', 0.7],
      ['cancel', 0.1],
    ] as const);
    const created = createdAt(now, id - 1, options.moves, random.int(0, 999_999));
    const date = formatOdooDate(created - random.int(0, 3) * DAY_MICROS);
    const invoice = moveType !== 'entry';
    // A cancelled move was posted (numbered) first, unless it was cancelled as a draft.
    const numbered = state === 'posted' || (state === 'cancel' && random.chance(0.7));
    const written = random.chance(0.4)
      ? created
      : created + Math.floor(random.next() * (now - HOUR_MICROS - created));
    const currency = weighted(random.next(), [
      [1, 0.85],
      [2, 0.1],
      [3, 0.05],
    ]);
    store.insertSeedRow(MOVE_MODEL, {
      id,
      name: numbered ? moveNumber(moveType, date, next) : '/',
      move_type: moveType,
      state,
      partner_id: invoice || random.chance(0.5) ? random.pick(partners) : null,
      date,
      invoice_date: invoice ? date : null,
      ref: random.chance(0.5) ? null : random.pick(REFS),
      narration: random.chance(0.6) ? null : random.pick(NARRATIONS),
      currency_id: currency,
      create_date: created,
      write_date: written,
      create_uid: 2,
      write_uid: 2,
    });
    for (let sequence = 1; sequence <= options.linesPerMove; sequence++) {
      const product = random.chance(0.8) ? random.pick(products) : null;
      const account = moveType.startsWith('out_')
        ? INCOME_ACCOUNT
        : moveType.startsWith('in_')
          ? EXPENSE_ACCOUNT
          : random.int(1, ACCOUNTS.length);
      store.insertSeedRow(MOVE_LINE_MODEL, {
        id: ++lineId,
        move_id: id,
        sequence: sequence * 10,
        name:
          product === null && random.chance(0.3)
            ? null
            : random.chance(0.5)
              ? random.pick(LABELS)
              : `${random.pick(LABELS)} — lot n°${random.int(1, 999)}`,
        account_id: account,
        product_id: product,
        quantity: random.chance(0.2) ? random.int(1, 40) / 2 : random.int(1, 200),
        price_unit: random.int(100, 500_000) / 100,
        // 0, 1 or 2 taxes: exactly two must never read as a many2one.
        tax_ids: random.sample(
          [1, 2, 3, 4],
          weighted(random.next(), [
            [0, 0.2],
            [1, 0.6],
            [2, 0.2],
          ] as const),
        ),
        currency_id: currency,
        create_date: created,
        write_date: random.chance(0.05)
          ? written + Math.floor(random.next() * Math.max(now - HOUR_MICROS - written, 1))
          : written,
        create_uid: 2,
        write_uid: 2,
      });
    }
  }
  store.recomputeStored(MOVE_MODEL, store.requireTable(MOVE_MODEL).ids);
  for (const [key, value] of sequences) store.advanceSequence(key, value);
}
