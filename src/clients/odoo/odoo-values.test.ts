import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { OdooStoredField } from './odoo-types.js';
import {
  fromOdooRecord,
  fromOdooString,
  fromOdooValue,
  odooDatetimeIso,
  parseMany2one,
  parseOdooDate,
  parseOdooDatetime,
  parseOdooFloat,
  parseOdooInteger,
  parseX2many,
  toOdooDate,
  toOdooDatetime,
} from './odoo-values.js';
import { decodeMethodResponse } from './xmlrpc-decoder.js';

/** Records recorded from the sandbox (test/odoo/fixtures), decoded as the client would. */
function recorded(file: string): Array<Record<string, unknown> & { id: number }> {
  const decoded = decodeMethodResponse(
    readFileSync(new URL(`../../../test/odoo/fixtures/${file}`, import.meta.url), 'utf8'),
  );
  if (decoded.fault) throw new Error(`fixture ${file} is a fault`);
  return decoded.value as Array<Record<string, unknown> & { id: number }>;
}

describe('Odoo value conventions', () => {
  it('turns False into null for strings, dates, datetimes and many2one', () => {
    expect(fromOdooString(false)).toBeNull();
    expect(fromOdooString('x')).toBe('x');
    expect(parseOdooDatetime(false)).toBeNull();
    expect(parseOdooDate(false)).toBeNull();
    expect(parseMany2one(false)).toBeNull();
    expect(() => fromOdooString(3)).toThrow(TypeError);
  });

  it('keeps numeric NULLs (0 / 0.0) as numbers, and big integers sent as doubles as integers', () => {
    expect(parseOdooInteger(0)).toBe(0);
    expect(parseOdooFloat(0)).toBe(0);
    expect(parseOdooInteger(3_000_000_000)).toBe(3_000_000_000);
    expect(parseOdooInteger(false)).toBeNull();
    expect(() => parseOdooInteger(1.5)).toThrow(TypeError);
    expect(() => parseOdooFloat('1.5')).toThrow(TypeError);
  });

  it('reads many2one both ways and x2many id lists', () => {
    expect(parseMany2one([7, 'Atlas & Fils'])).toEqual({ id: 7, name: 'Atlas & Fils' });
    expect(parseMany2one(7)).toEqual({ id: 7, name: null });
    expect(() => parseMany2one([7])).toThrow(TypeError);
    expect(parseX2many([3, 1, 2])).toEqual([3, 1, 2]);
    expect(parseX2many(false)).toEqual([]);
    expect(() => parseX2many(['1'])).toThrow(TypeError);
  });

  it('parses naive-UTC datetimes and writes exactly YYYY-MM-DD HH:MM:SS, truncating', () => {
    expect(parseOdooDatetime('2025-03-10 09:15:30')).toEqual(new Date('2025-03-10T09:15:30.000Z'));
    expect(toOdooDatetime(new Date('2025-03-10T09:15:30.999Z'))).toBe('2025-03-10 09:15:30');
    expect(toOdooDatetime(new Date('0999-01-02T03:04:05Z'))).toBe('0999-01-02 03:04:05');
    // Date.UTC would read years 0–99 as 1900–1999.
    expect(toOdooDatetime(parseOdooDatetime('0099-12-31 23:59:59')!)).toBe('0099-12-31 23:59:59');
    expect(parseOdooDate('0096-02-29')).toBe('0096-02-29');
    for (const bad of [
      '2025-03-10T09:15:30',
      '2025-03-10 09:15:30.5',
      '2025-02-30 00:00:00',
      '2025-03-10 24:00:00',
      '2025-03-10 09:60:00',
      '2025-03-10 09:15:60',
      '2025-03-10',
      '0000-01-01 00:00:00',
      '2025-0a-10 09:15:30',
    ]) {
      expect(() => parseOdooDatetime(bad)).toThrow(TypeError);
    }
    expect(() => toOdooDatetime(new Date(Number.NaN))).toThrow(TypeError);
  });

  it('accepts exactly the strings shaped YYYY-MM-DD HH:MM:SS, read in place', () => {
    const shape = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
    const near = fc
      .array(fc.constantFrom(...'0123456789-: T.a\n٣'), { minLength: 17, maxLength: 21 })
      .map((chars) => chars.join(''));
    const valid = fc
      .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z') })
      .map(toOdooDatetime);
    fc.assert(
      fc.property(fc.oneof(near, valid), (text) => {
        const parsed = (() => {
          try {
            return parseOdooDatetime(text);
          } catch {
            return undefined;
          }
        })();
        if (!shape.test(text)) return parsed === undefined;
        // A well-shaped string is a real datetime, read back as itself, or refused.
        return (
          parsed === undefined ||
          (parsed !== null &&
            toOdooDatetime(parsed) === text &&
            odooDatetimeIso(text) === parsed.toISOString())
        );
      }),
      { seed: 14, numRuns: 2_000 },
    );
  });

  it('round-trips datetimes through Odoo strings', () => {
    for (const text of ['1970-01-01 00:00:00', '2024-02-29 23:59:59', '2038-01-19 03:14:08']) {
      expect(toOdooDatetime(parseOdooDatetime(text) as Date)).toBe(text);
    }
  });

  it('validates dates and writes their UTC day', () => {
    expect(parseOdooDate('2024-02-29')).toBe('2024-02-29');
    expect(() => parseOdooDate('2023-02-29')).toThrow(TypeError);
    expect(toOdooDate(new Date('2025-12-31T23:59:59Z'))).toBe('2025-12-31');
  });

  it('converts the recorded BC page by field type', () => {
    const fields: OdooStoredField[] = [
      { name: 'name', type: 'char' },
      { name: 'partner_id', type: 'many2one', relation: 'res.partner' },
      { name: 'user_id', type: 'many2one', relation: 'res.users' },
      { name: 'date_order', type: 'datetime' },
      { name: 'date_approve', type: 'datetime' },
      { name: 'write_date', type: 'datetime' },
      { name: 'amount_total', type: 'monetary' },
      { name: 'origin', type: 'char' },
      { name: 'notes', type: 'html' },
      { name: 'active', type: 'boolean' },
      { name: 'line_ids', type: 'one2many', relation: 'dimagaz.bc.line' },
    ];
    const records = recorded('search-read-bc.xml').map((record) => fromOdooRecord(record, fields));
    expect(records.map((record) => record.id)).toEqual([1, 2, 3, 4, 41]);
    const created = records[4] as Record<string, unknown>;
    expect(created.origin).toBe('Réappro <min> & "max" — ✓');
    expect(created.user_id).toBeNull();
    expect(created.notes).toBeNull();
    expect(created.date_approve).toBeNull();
    expect(created.write_date).toEqual(new Date('2025-06-30T16:00:00.000Z'));
    expect(created.amount_total).toBeCloseTo(0, 10);
    expect(records[2]?.active).toBe(false);
    for (const record of records) {
      expect(record.partner_id).toMatchObject({
        id: expect.any(Number) as number,
        name: expect.any(String) as string,
      });
      expect(record.date_order).toBeInstanceOf(Date);
      expect(Array.isArray(record.line_ids)).toBe(true);
    }
  });

  it('converts recorded lines read with load="" (bare many2one ids, a big integer as a double)', () => {
    const fields: OdooStoredField[] = [
      { name: 'bc_id', type: 'many2one', relation: 'dimagaz.bc' },
      { name: 'sequence', type: 'integer' },
      { name: 'price_unit', type: 'float' },
      { name: 'taxes_id', type: 'many2many', relation: 'account.tax' },
      { name: 'product_id', type: 'many2one', relation: 'product.product' },
    ];
    const lines = recorded('search-read-line-bare.xml').map((record) =>
      fromOdooRecord(record, fields),
    );
    expect(lines[0]).toMatchObject({
      id: 1,
      bc_id: { id: 1, name: null },
      sequence: 3_000_000_000,
    });
    const last = lines[lines.length - 1] as Record<string, unknown>;
    expect(last).toMatchObject({
      bc_id: { id: 41, name: null },
      price_unit: 0.00001,
      taxes_id: [1, 2],
    });
  });

  it('passes unknown types through and names the field of a bad value', () => {
    expect(fromOdooValue('json', { a: 1 })).toEqual({ a: 1 });
    expect(fromOdooValue('properties', false)).toBeNull();
    expect(() =>
      fromOdooRecord({ id: 1, write_date: 'yesterday' }, [
        { name: 'write_date', type: 'datetime' },
      ]),
    ).toThrow(/field write_date of record 1/);
  });
});
