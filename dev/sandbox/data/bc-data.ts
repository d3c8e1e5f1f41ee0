/**
 * A deterministic, seeded generator of realistic purchase orders for the sandbox, and of the
 * reference records they point at (users, currencies, companies, partners, products, units,
 * taxes): the same `(orders, linesPerOrder, seed, now)` always gives the same records. Tests
 * compare these values, so this generator's random stream is never consumed differently: the
 * other families draw from streams of their own (sandbox-data.ts).
 *
 * Realistic in the ways that break syncs: names `P00001…`, states across the whole workflow,
 * totals consistent with the lines and their taxes, archived orders, empty values (False),
 * unicode and `& < >` in texts, dates spread over the past year with microseconds, groups of
 * orders written by one transaction (same `write_date`), and lines changed after their order
 * (a line `write_date` later than its BC's).
 */
import { mulberry32 } from '../sandbox-faults.js';
import { BC_LINE_MODEL, BC_MODEL } from '../models/bc-models.js';
import type { SandboxStore } from '../sandbox-store.js';
import { DAY_MICROS, HOUR_MICROS, secondsOnly } from './data-time.js';
import { weighted } from './seeded-random.js';

export interface BcDataOptions {
  orders: number;
  linesPerOrder: number;
  seed: number;
  /** "Now" in microseconds: every generated timestamp is before it. */
  nowMicros: number;
  /** Login of the API user (uid 2). */
  username: string;
  /** Display name of the API user. */
  userDisplayName?: string;
}

const CURRENCIES = ['MAD', 'EUR', 'USD'];
const COMPANIES = ['Dimagaz SARL', 'Dimagaz Logistique & Services'];
const BUYERS = [
  'Karim Benali',
  'Salma El Idrissi',
  'Youssef Amrani',
  'Nadia Tazi',
  'Hicham Alaoui',
  'Fatima-Zahra Bennani',
];
/** Translatable names: Odoo's source text (en_US) and the French the company's users see. */
const UOMS: Array<{ en_US: string; fr_FR: string }> = [
  { en_US: 'Units', fr_FR: 'Unités' },
  { en_US: 'kg', fr_FR: 'kg' },
  { en_US: 'L', fr_FR: 'L' },
  { en_US: 'm', fr_FR: 'm' },
  { en_US: 'Dozens', fr_FR: 'Douzaines' },
];
const TAXES: Array<[string, number]> = [
  ['TVA 20%', 20],
  ['TVA 14%', 14],
  ['TVA 10%', 10],
  ['TVA 7%', 7],
  ['Exonéré', 0],
];
const PARTNER_STEMS = [
  'Atlas Équipements',
  'Maghreb Industrie',
  'Société Générale des Gaz',
  'Nordic Valves AB',
  'Ümit Metal Sanayi',
  'شركة الأطلس للغاز',
  'Café & Co',
  'Tubes <Premium>',
  'Zhōngguó Pipes Ltd',
  'Souss Hydraulique',
  'Rif Métallurgie',
  'Casablanca Détendeurs',
  "L'Oriental Transport",
  'Gazinox "Pro"',
  'Sahara Logistics',
];
const PARTNER_SUFFIXES = [
  'SARL',
  'SA',
  '& Fils',
  'Group',
  'International',
  'Maroc',
  'Distribution',
  '',
];
const PRODUCTS: Array<{ en_US: string; fr_FR: string }> = [
  { en_US: 'Butane cylinder 12 kg', fr_FR: 'Bouteille butane 12 kg' },
  { en_US: 'Propane cylinder 35 kg', fr_FR: 'Bouteille propane 35 kg' },
  { en_US: 'Pressure regulator 28 mbar', fr_FR: 'Détendeur 28 mbar' },
  { en_US: 'Gas hose 1.5 m', fr_FR: 'Flexible gaz 1,5 m' },
  { en_US: 'Quarter-turn valve', fr_FR: 'Robinet ¼ tour' },
  { en_US: 'Valve DN50 PN16', fr_FR: 'Vanne DN50 PN16' },
  { en_US: 'O-ring Ø 20 mm', fr_FR: 'Joint torique Ø 20 mm' },
  { en_US: 'Pressure gauge 0–10 bar', fr_FR: 'Manomètre 0–10 bar' },
  { en_US: 'Stainless hose clamp', fr_FR: 'Collier de serrage inox' },
  { en_US: 'Label « Danger »', fr_FR: 'Étiquette « Danger »' },
  { en_US: 'Wooden pallet 120×80', fr_FR: 'Palette bois 120×80' },
  { en_US: 'Paint RAL 3020 <red>', fr_FR: 'Peinture RAL 3020 <rouge>' },
  { en_US: 'Open-end wrench 17 mm', fr_FR: 'Clé plate 17 mm' },
  { en_US: 'Protective cap', fr_FR: 'Capuchon de protection' },
  { en_US: 'Safety valve', fr_FR: 'Soupape de sûreté' },
];
const STATES: Array<[string, number]> = [
  ['draft', 0.15],
  ['sent', 0.1],
  ['to approve', 0.05],
  ['purchase', 0.45],
  ['done', 0.2],
  ['cancel', 0.05],
];
const NOTES = [
  '<p>Livraison avant 10h &amp; appeler le magasinier</p>',
  '<p>Conditions : 30 jours fin de mois</p>',
  '<p>Palettes filmées — ne pas gerber</p>',
  '<p>⚠ Matières dangereuses (ADR)</p>',
];
const ORIGINS = ['SO', 'Réappro. stock <min>', 'Contrat cadre & avenant', 'MRP/'];

/** Fills the store with the BC family and its reference records. Ids start at 1 in every model. */
export function generateBcData(store: SandboxStore, options: BcDataOptions): void {
  const random = mulberry32(options.seed);
  const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const chance = (probability: number): boolean => random() < probability;
  const now = options.nowMicros;
  const epoch = now - 400 * DAY_MICROS;
  const reference = { create_date: epoch, write_date: epoch, create_uid: 1, write_uid: 1 };

  store.insertSeedRow('res.users', { id: 1, name: 'OdooBot', login: '__system__', ...reference });
  store.insertSeedRow('res.users', {
    id: 2,
    name: options.userDisplayName ?? 'Mitchell Admin',
    login: options.username,
    ...reference,
  });
  BUYERS.forEach((name, index) => {
    store.insertSeedRow('res.users', {
      id: index + 3,
      name,
      login: name.toLowerCase().replace(/[^a-z]+/g, '.'),
      ...reference,
    });
  });
  CURRENCIES.forEach((name, index) =>
    store.insertSeedRow('res.currency', { id: index + 1, name, ...reference }),
  );
  COMPANIES.forEach((name, index) =>
    store.insertSeedRow('res.company', { id: index + 1, name, ...reference }),
  );
  UOMS.forEach((name, index) =>
    store.insertSeedRow('uom.uom', { id: index + 1, name: { ...name }, ...reference }),
  );
  TAXES.forEach(([name, amount], index) =>
    store.insertSeedRow('account.tax', { id: index + 1, name, amount, ...reference }),
  );

  const partnerCount = Math.max(20, Math.min(500, Math.ceil(options.orders / 20)));
  for (let id = 1; id <= partnerCount; id++) {
    const name = `${pick(PARTNER_STEMS)} ${pick(PARTNER_SUFFIXES)}`.trim();
    store.insertSeedRow('res.partner', {
      id,
      name: id > PARTNER_STEMS.length ? `${name} #${id}` : name,
      active: !chance(0.05),
      ...reference,
    });
  }
  const productCount = Math.max(PRODUCTS.length, Math.min(300, options.orders));
  for (let id = 1; id <= productCount; id++) {
    const base = PRODUCTS[(id - 1) % PRODUCTS.length]!;
    const version = id > PRODUCTS.length ? ` (v${Math.ceil(id / PRODUCTS.length)})` : '';
    const name = { en_US: `${base.en_US}${version}`, fr_FR: `${base.fr_FR}${version}` };
    store.insertSeedRow('product.product', {
      id,
      name,
      default_code: chance(0.1) ? null : `PRD-${String(id).padStart(4, '0')}`,
      ...reference,
    });
  }

  let lineId = 0;
  // Orders are created in id order over the past year; some share one write transaction.
  const span = Math.max(now - HOUR_MICROS - (now - 365 * DAY_MICROS), 1);
  let batchWriteDate: number | undefined;
  let batchLeft = 0;
  for (let id = 1; id <= options.orders; id++) {
    const createDate =
      now -
      365 * DAY_MICROS +
      Math.floor((span * (id - 1)) / Math.max(options.orders, 1)) +
      int(0, 999_999);
    let writeDate: number;
    if (batchLeft > 0 && batchWriteDate !== undefined && batchWriteDate > createDate) {
      writeDate = batchWriteDate;
      batchLeft--;
    } else if (chance(0.5)) {
      writeDate = createDate;
    } else {
      writeDate = createDate + Math.floor(random() * (now - HOUR_MICROS - createDate));
      if (chance(0.05)) {
        batchWriteDate = writeDate;
        batchLeft = int(2, 6);
      }
    }
    const state = weighted(random(), STATES);
    const dateOrder = createDate - int(0, 5) * DAY_MICROS - int(0, 86_399) * 1_000_000;
    const datePlanned = chance(0.9) ? dateOrder + int(3, 30) * DAY_MICROS : null;
    const approved = state === 'purchase' || state === 'done';
    const bc: Record<string, unknown> & { id: number } = {
      id,
      name: `P${String(id).padStart(5, '0')}`,
      partner_id: int(1, partnerCount),
      date_order: secondsOnly(dateOrder),
      date_planned: datePlanned === null ? null : secondsOnly(datePlanned),
      date_approve: approved
        ? secondsOnly(Math.min(dateOrder + int(1, 72) * HOUR_MICROS, createDate))
        : null,
      state,
      currency_id: weighted(random(), [
        [1, 0.8],
        [2, 0.15],
        [3, 0.05],
      ]),
      company_id: chance(0.9) ? 1 : 2,
      user_id: chance(0.9) ? int(3, 2 + BUYERS.length) : null,
      origin: chance(0.4) ? null : `${pick(ORIGINS)}${String(int(1, 99_999)).padStart(5, '0')}`,
      notes: chance(0.5) ? null : pick(NOTES),
      priority: chance(0.1) ? '1' : '0',
      active: !chance(0.03),
      create_date: createDate,
      write_date: writeDate,
      create_uid: 2,
      write_uid: chance(0.7) ? 2 : int(3, 2 + BUYERS.length),
    };
    store.insertSeedRow(BC_MODEL, bc);
    for (let sequence = 1; sequence <= options.linesPerOrder; sequence++) {
      const product = int(1, productCount);
      const qty = chance(0.2) ? int(1, 400) / 2 : int(1, 500);
      const price = int(50, 2_500_000) / 100;
      const received =
        state === 'done' ? qty : state === 'purchase' && chance(0.5) ? Math.floor(qty / 2) : 0;
      // Some lines were edited after their order (no stored compute moved the BC).
      const lineWrite = chance(0.05)
        ? writeDate + Math.floor(random() * Math.max(now - HOUR_MICROS - writeDate, 1))
        : writeDate;
      store.insertSeedRow(BC_LINE_MODEL, {
        id: ++lineId,
        bc_id: id,
        sequence: sequence * 10,
        product_id: chance(0.97) ? product : null,
        // Buyers type line descriptions in French; the text is not translated.
        name: chance(0.15)
          ? `${PRODUCTS[(product - 1) % PRODUCTS.length]!.fr_FR} — lot n°${int(1, 999)} & co`
          : PRODUCTS[(product - 1) % PRODUCTS.length]!.fr_FR,
        product_qty: qty,
        qty_received: received,
        product_uom: int(1, UOMS.length),
        price_unit: price,
        price_subtotal: Math.round(qty * price * 100) / 100,
        currency_id: bc.currency_id,
        taxes_id: chance(0.1)
          ? []
          : chance(0.1)
            ? [1, 2]
            : [
                weighted(random(), [
                  [1, 0.7],
                  [2, 0.1],
                  [3, 0.1],
                  [4, 0.05],
                  [5, 0.05],
                ]),
              ],
        date_planned: bc.date_planned,
        state,
        create_date: createDate,
        write_date: lineWrite,
        create_uid: 2,
        write_uid: 2,
      });
    }
    store.recomputeStored(BC_MODEL, [id]);
  }
  store.advanceSequence(BC_MODEL, options.orders);
}
