/**
 * Contacts beyond the BCs' vendors, from their own seeded stream: countries and tags (always,
 * they are reference data), the stored fields Odoo's base module has for every existing vendor
 * (their names, ids and `active` stay those of the BC generator), and `partners` extra contacts.
 *
 * The extra contacts cover what breaks a copy: companies with contacts under them (shown as
 * "Company, Contact", some created in the company's own transaction: equal stamps), archived
 * contacts (which the company's `child_ids` leaves out), individuals, tags 0 to 4 per contact —
 * every fifth contact has exactly two, which must never read as a many2one —, an archived tag,
 * booleans False, empty texts and numbers, unicode and `& < >` in names and notes.
 */
import type { SandboxStore } from '../sandbox-store.js';
import { createdAt, HOUR_MICROS, referenceStamps } from './data-time.js';
import { weighted, type SeededRandom } from './seeded-random.js';

const PARTNER_MODEL = 'res.partner';

/** Countries: ISO code, English and French names. */
const COUNTRIES: ReadonlyArray<readonly [string, string, string]> = [
  ['MA', 'Morocco', 'Maroc'],
  ['FR', 'France', 'France'],
  ['ES', 'Spain', 'Espagne'],
  ['DE', 'Germany', 'Allemagne'],
  ['SE', 'Sweden', 'Suède'],
  ['TR', 'Türkiye', 'Turquie'],
  ['CN', 'China', 'Chine'],
  ['BE', 'Belgium', 'Belgique'],
  ['DZ', 'Algeria', 'Algérie'],
  ['TN', 'Tunisia', 'Tunisie'],
];
const CITIES: Record<string, readonly string[]> = {
  MA: ['Casablanca', 'Rabat', 'Tanger', 'Fès', 'Agadir', 'Marrakech'],
  FR: ['Lyon', 'Marseille', 'Saint-Étienne'],
  ES: ['Málaga', 'Sevilla'],
  DE: ['Köln', 'München'],
  SE: ['Göteborg'],
  TR: ['İzmir', 'Bursa'],
  CN: ['Shenzhen'],
  BE: ['Liège'],
  DZ: ['Oran'],
  TN: ['Sfax'],
};
/** Tags: English and French names, the last one archived. */
const TAGS: ReadonlyArray<readonly [string, string]> = [
  ['Gas supplier', 'Fournisseur gaz'],
  ['Carrier', 'Transporteur'],
  ['Key account', 'Grand compte'],
  ['VIP', 'VIP'],
  ['Export', 'Export'],
  ['Maintenance', 'Maintenance'],
  ['Retailer', 'Revendeur'],
  ['Former supplier', 'Ancien fournisseur'],
];
const COMPANY_STEMS = [
  'Öztürk Gaz',
  'Ets. Ben Saïd & Fils',
  '"Le Gaz" <Pro>',
  'Zhōngshān Valves',
  'Ñandú Import',
  'Atlas Distribution',
  'مؤسسة النور',
  'Station Service Al Amal',
  'Hôtel Les Mérinides',
  'Boulangerie Dupont',
];
const FIRST_NAMES = ['Yasmine', 'Zoë', 'Seán', 'Omar', 'Léa', 'Mehdi', 'Ahmed', 'Inès', 'Jürgen'];
const LAST_NAMES = ['El Fassi', 'Lefèvre', "O'Brien", 'Benjelloun', 'Müller', 'Alaoui', 'Núñez'];
const STREETS = ['Bd Zerktouni', 'Rue de la Liberté', 'Av. Hassan II', 'Zone Industrielle Lot 7'];
const COMMENTS = [
  '<p>Livraison le matin &amp; appeler avant</p>',
  '<p>Client fidèle — <strong>remise 5 %</strong></p>',
  '<p>⚠ Accès camion limité &lt; 12 t</p>',
];

export interface PartnerDataOptions {
  /** Extra contacts to generate after the BC generator's vendors. */
  partners: number;
  nowMicros: number;
}

export function generatePartnerData(
  store: SandboxStore,
  random: SeededRandom,
  options: PartnerDataOptions,
): void {
  const now = options.nowMicros;
  const reference = referenceStamps(now);
  COUNTRIES.forEach(([code, en_US, fr_FR], index) =>
    store.insertSeedRow('res.country', {
      id: index + 1,
      code,
      name: { en_US, fr_FR },
      ...reference,
    }),
  );
  TAGS.forEach(([en_US, fr_FR], index) =>
    store.insertSeedRow('res.partner.category', {
      id: index + 1,
      name: { en_US, fr_FR },
      color: index % 12,
      active: index < TAGS.length - 1,
      ...reference,
    }),
  );

  const partners = store.requireTable(PARTNER_MODEL);
  const vendors = [...partners.ids];
  // The BC generator's partners are vendors (companies); they get the rest of their fields.
  for (const id of vendors) {
    const name = partners.rows.get(id)?.name as string;
    store.overwriteRaw(PARTNER_MODEL, id, {
      ...contactDetails(random, name, true),
      is_company: true,
      supplier_rank: random.int(1, 40),
      customer_rank: random.chance(0.2) ? random.int(1, 5) : 0,
      category_id: random.sample([1, 2, 5, 8], random.int(0, 2)),
    });
  }

  const companies = [...vendors];
  const first = (vendors[vendors.length - 1] ?? 0) + 1;
  let previous: { id: number; created: number; written: number } | undefined;
  for (let index = 0; index < options.partners; index++) {
    const id = first + index;
    const kind = index % 10 < 3 ? 'company' : index % 10 < 8 ? 'contact' : 'person';
    const isCompany = kind === 'company';
    const parent = kind === 'contact' ? random.pick(companies) : null;
    const name = isCompany
      ? `${random.pick(COMPANY_STEMS)} #${id}`
      : `${random.pick(FIRST_NAMES)} ${random.pick(LAST_NAMES)}`;
    let created = createdAt(now, index, options.partners, random.int(0, 999_999));
    let written = random.chance(0.5)
      ? created
      : created + Math.floor(random.next() * (now - HOUR_MICROS - created));
    // A contact often comes in the same transaction as the company just created.
    if (parent !== null && parent === previous?.id && random.chance(0.6))
      ({ created, written } = previous);
    store.insertSeedRow(PARTNER_MODEL, {
      id,
      name,
      parent_id: parent,
      ...contactDetails(random, name, isCompany),
      is_company: isCompany,
      customer_rank: random.chance(0.6) ? random.int(1, 30) : 0,
      supplier_rank: random.chance(0.2) ? random.int(1, 10) : 0,
      // 0 to 4 tags in turn: every fifth contact has exactly two.
      category_id: random.sample(
        TAGS.map((_, tag) => tag + 1),
        index % 5,
      ),
      active: !random.chance(0.08),
      create_date: created,
      write_date: written,
      create_uid: 2,
      write_uid: random.chance(0.8) ? 2 : random.int(3, 8),
    });
    if (isCompany) {
      companies.push(id);
      previous = { id, created, written };
    }
  }
  store.recomputeStored(PARTNER_MODEL, partners.ids);
}

/** Address, e-mail, phone, language, notes and credit limit, some of each empty. */
function contactDetails(
  random: SeededRandom,
  name: string,
  isCompany: boolean,
): Record<string, unknown> {
  const country = random.chance(0.05)
    ? null
    : weighted(random.next(), [
        [1, 0.7],
        [2, 0.08],
        [3, 0.04],
        [4, 0.03],
        [5, 0.03],
        [6, 0.03],
        [7, 0.03],
        [8, 0.02],
        [9, 0.02],
        [10, 0.02],
      ]);
  const code =
    country === null ? 'MA' : ((COUNTRIES[country - 1] as readonly string[])[0] as string);
  const slug =
    name
      .normalize('NFD')
      .replace(/[^A-Za-z0-9]+/g, '.')
      .replace(/^\.+|\.+$/g, '')
      .toLowerCase() || 'contact';
  return {
    email: random.chance(0.15) ? null : isCompany ? `contact@${slug}.ma` : `${slug}@example.ma`,
    phone: random.chance(0.25)
      ? null
      : `+212 5 22 ${String(random.int(10, 99))} ${String(random.int(10, 99))} ${String(random.int(10, 99))}`,
    street: random.chance(0.1) ? null : `${random.int(1, 250)}, ${random.pick(STREETS)}`,
    city: random.chance(0.1) ? null : random.pick(CITIES[code] ?? ['Casablanca']),
    country_id: country,
    comment: random.chance(0.6) ? null : random.pick(COMMENTS),
    lang: random.chance(0.1)
      ? null
      : weighted(random.next(), [
          ['fr_FR', 0.7],
          ['en_US', 0.2],
          ['ar_001', 0.1],
        ]),
    credit_limit: weighted(random.next(), [
      [0, 0.5],
      [random.int(1, 20) * 5_000, 0.25],
      [random.int(100, 999_999) / 100, 0.25],
    ]),
  };
}
