/**
 * Records of the custom (Studio) models from their own seeded stream: `cylinders` gas cylinders
 * and their valves. Every type has its empty case (False, 0.0, no photo, no specs); a
 * cylinder in forty has no name at all (its valves read `x_cylinder_id` as `[id, False]`);
 * tags go 0 to 3 in turn (exactly two on every fourth); valves 0 to 3 per cylinder; one
 * cylinder in ten is archived (`x_active`); photos are real bytes in base64, some over a
 * kilobyte (`bin_size` reads them as "1.12 Kb"); specs are JSON objects with nested values; a
 * cylinder's fills count from 0 to 12.
 */
import { CYLINDER_MODEL, CYLINDER_STATUSES, VALVE_MODEL } from '../models/cylinder-models.js';
import type { SandboxStore } from '../sandbox-store.js';
import { formatOdooDate } from '../sandbox-time.js';
import { createdAt, HOUR_MICROS, secondsOnly } from './data-time.js';
import type { SeededRandom } from './seeded-random.js';

const NOTES = [
  '<p>Requalification due — <em>ne pas remplir</em></p>',
  '<p>Client &amp; dépôt : Casablanca</p>',
];
const MATERIALS = ['steel', 'aluminium', 'composite'];
const STANDARDS = ['EN 1442', 'ISO 11114', 'NM 14.2.043'];
/** Photo sizes in bytes: small, a tie for Python's rounding (1152 bytes: 1.12 Kb), larger. */
const PHOTO_BYTES = [68, 512, 1_152, 2_600];
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export interface CylinderDataOptions {
  cylinders: number;
  nowMicros: number;
}

export function generateCylinderData(
  store: SandboxStore,
  random: SeededRandom,
  options: CylinderDataOptions,
): void {
  const now = options.nowMicros;
  const partners = store.requireTable('res.partner').ids;
  const tags = store.requireTable('res.partner.category').ids;
  let valveId = 0;
  for (let id = 1; id <= options.cylinders; id++) {
    const created = createdAt(now, id - 1, options.cylinders, random.int(0, 999_999));
    const written = random.chance(0.5)
      ? created
      : created + Math.floor(random.next() * (now - HOUR_MICROS - created));
    const priced = !random.chance(0.2);
    store.insertSeedRow(CYLINDER_MODEL, {
      id,
      x_name: id % 40 === 0 ? null : `CYL-${String(id).padStart(5, '0')}`,
      x_serial: random.chance(0.15) ? null : `SN-${random.int(0, 0xff_ff_ff_ff).toString(16)}`,
      x_capacity: random.chance(0.1) ? 0 : random.pick([3, 6, 12.5, 35]),
      x_price: priced ? random.int(5_000, 250_000) / 100 : 0,
      x_currency_id: priced ? (random.chance(0.9) ? 1 : 2) : null,
      x_in_service: random.chance(0.7),
      x_installed_on: random.chance(0.2)
        ? null
        : formatOdooDate(created - random.int(0, 900) * 86_400_000_000),
      x_checked_at: random.chance(0.25)
        ? null
        : secondsOnly(created + Math.floor(random.next() * (now - HOUR_MICROS - created))),
      x_status: random.chance(0.1) ? null : random.pick(CYLINDER_STATUSES)[0],
      x_notes: random.chance(0.5) ? null : random.pick(NOTES),
      x_photo: random.chance(0.4) ? null : photo(random),
      x_partner_id: random.chance(0.2) ? null : random.pick(partners),
      // 0 to 3 tags in turn: every fourth cylinder has exactly two.
      x_tag_ids: random.sample(tags, (id - 1) % 4),
      x_specs: random.chance(0.25)
        ? null
        : {
            material: random.pick(MATERIALS),
            test_pressure_bar: random.int(20, 60),
            standards: random.sample(STANDARDS, random.int(1, 3)),
            inspected: random.chance(0.5),
            dimensions_mm: { height: random.int(300, 1_500), diameter: random.int(200, 320) },
            remark: 'Résistant à −40 °C & < 60 °C',
          },
      x_active: !random.chance(0.1),
      // Drawn from the id, not the stream, so every value after it is as before; 0 in thirteen.
      x_fill_count: (id * 7) % 13,
      create_date: created,
      write_date: written,
      create_uid: 2,
      write_uid: 2,
    });
    for (let valve = 1; valve <= (id - 1) % 4; valve++) {
      store.insertSeedRow(VALVE_MODEL, {
        id: ++valveId,
        x_name: random.chance(0.1) ? null : `Valve ${valve} — ${random.pick(['M28', '¾" NPT'])}`,
        x_cylinder_id: id,
        x_pressure_bar: random.chance(0.1) ? 0 : random.int(100, 6_000) / 100,
        x_open: random.chance(0.3),
        create_date: created,
        write_date: random.chance(0.1)
          ? written + Math.floor(random.next() * Math.max(now - HOUR_MICROS - written, 1))
          : written,
        create_uid: 2,
        write_uid: 2,
      });
    }
  }
}

/** A PNG-looking payload of one of the sizes, as Odoo sends binaries: base64 text. */
function photo(random: SeededRandom): string {
  const bytes = Buffer.alloc(random.pick(PHOTO_BYTES));
  PNG_SIGNATURE.forEach((byte, index) => (bytes[index] = byte));
  for (let index = PNG_SIGNATURE.length; index < bytes.length; index++)
    bytes[index] = random.int(0, 255);
  return bytes.toString('base64');
}
