/**
 * The jsonb text the writer computes is PostgreSQL's own: each value, sent as the writer sends a
 * record (`JSON.stringify`) and stored as jsonb, prints as `jsonbText` says and digests as
 * `jsonbDigest` says. A text that differed for an equal value would only cost a record a second
 * comparison; one that matched an unequal value would hide a change, which is why distinct values
 * are checked to print apart too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../dev/sandbox/data/seeded-random.js';
import { jsonbDigest, jsonbText } from '../../src/db/jsonb-text.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const PIECES = ['a', 'é', '"', '\\', '\n', '\u0001', '\u001f', '\u2028', '😀', ' ', '/', '\u007f'];

function randomValue(random: () => number, depth: number): unknown {
  const kind = Math.floor(random() * (depth > 2 ? 5 : 7));
  switch (kind) {
    case 0:
      return null;
    case 1:
      return random() < 0.5;
    case 2: {
      const numbers = [0, -0, 1, -1, 0.5, 1.25, 0.1 + 0.2, 1234.56, -98765.4321, 2 ** 40, 1e20];
      return random() < 0.5
        ? numbers[Math.floor(random() * numbers.length)]
        : Math.round((random() - 0.5) * 1e6) / 100;
    }
    case 3:
    case 4:
      return Array.from(
        { length: Math.floor(random() * 6) },
        () => PIECES[Math.floor(random() * PIECES.length)],
      ).join('');
    case 5:
      return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 6); i > 0; i--)
        object[randomValue(random, 99) as string] = randomValue(random, depth + 1);
      return object;
    }
  }
}

/** A record as Odoo's answers give one, mapped: what the writer stores in `data`. */
const RECORD = {
  id: 7,
  name: 'BC/2026/0007 "urgent" \\ à livrer',
  partner_id: [12, 'Société Générale du Gaz'],
  line_ids: [70, 71, 72],
  amount_total: 1234.5,
  amount_tax: -0,
  active: true,
  date_order: '2026-11-28 10:00:00',
  note: false,
  x_studio_données: { fr_FR: 'Bonjour\n', en_US: 'Hello\t' },
  empty: {},
  nothing: [],
  a: null,
  bb: 1,
  ab: 2,
};

describe('jsonb text', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb({ migrated: false });
  });
  afterAll(async () => {
    await db.dispose();
  });

  /** What PostgreSQL prints and digests for each value, sent as JSON.stringify sends it. */
  async function stored(values: readonly unknown[]): Promise<{ text: string; digest: string }[]> {
    return db.sql!<{ text: string; digest: string }[]>`
      select v::text as text, encode(sha256(convert_to(v::text, 'UTF8')), 'hex') as digest
      from jsonb_array_elements(${JSON.stringify(values)}::jsonb) with ordinality as e(v, n)
      order by n`;
  }

  it('prints a mapped record, nested values and odd characters as PostgreSQL does', async () => {
    const values = [RECORD, { z: 1, yy: 2, a: 3, é: 4, e: 5 }, [1, undefined, 'x'], 'tab\there'];
    const [record, keys, array, text] = await stored(values);
    expect(jsonbText(RECORD)).toBe(record!.text);
    expect(jsonbDigest(RECORD)).toBe(record!.digest);
    // Shorter keys first, then byte by byte: é is two bytes.
    expect(jsonbText(values[1])).toBe('{"a": 3, "e": 5, "z": 1, "yy": 2, "é": 4}');
    expect(jsonbText(values[1])).toBe(keys!.text);
    expect(jsonbText(values[2])).toBe(array!.text);
    expect(jsonbText(values[3])).toBe(text!.text);
    // Objects of different keys print apart, whichever was printed first.
    const objects = [{}, { '': 1 }, { '': 1, a: 2 }, { a: 2 }];
    const printed = await stored(objects);
    objects.forEach((object, i) => expect(jsonbText(object)).toBe(printed[i]!.text));
  });

  it('matches PostgreSQL on a thousand random values, and prints distinct values apart', async () => {
    const stream = seededRandom(67, 'jsonb-text');
    const random = () => stream.next();
    const values = Array.from({ length: 1_000 }, () => ({
      value: randomValue(random, 0),
      more: randomValue(random, 0),
    }));
    const rows = await stored(values);
    const texts = new Map<string, string>();
    values.forEach((value, i) => {
      expect(jsonbText(value)).toBe(rows[i]!.text);
      expect(jsonbDigest(value)).toBe(rows[i]!.digest);
      texts.set(rows[i]!.text, JSON.stringify(value));
    });
    // PostgreSQL's jsonb equality agrees: equal texts only for equal values.
    const [counted] = await db.sql!<{ distinct: number }[]>`
      select count(distinct v)::int as distinct
      from jsonb_array_elements(${JSON.stringify(values)}::jsonb) as e(v)`;
    expect(texts.size).toBe(counted!.distinct);
  });

  it('gives no text where PostgreSQL could print an equal value otherwise', () => {
    expect(jsonbText({ tiny: 1e-7 })).toBeUndefined();
    expect(jsonbText([1e21])).toBeUndefined();
    expect(jsonbText({ when: new Date(0) })).toBeUndefined();
    expect(jsonbText({ map: new Map() })).toBeUndefined();
    expect(jsonbText({ fine: 1e20, small: 0.000001 })).toBe(
      '{"fine": 100000000000000000000, "small": 0.000001}',
    );
  });
});
