import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TrytonTime } from './tryton-codec.js';
import {
  TrytonDate,
  TrytonDateTime,
  TrytonDecimal,
  TrytonTimeDelta,
  decodeTrytonValue,
  encodeTrytonValue,
  parseTrytonJson,
  stringifyTrytonJson,
} from './tryton-codec.js';

// Verbatim from a real trytond 6.0 (docs/tryton.md §5).
const SERVER_ANSWER =
  '{"create_date":{"__class__":"datetime","year":2026,"month":11,"day":21,"hour":22,"minute":2,"second":1,"microsecond":114141},' +
  '"rate":{"__class__":"Decimal","decimal":"1.0850"},"date":{"__class__":"date","year":2024,"month":1,"day":31},"id":1,"currency":1,' +
  '"data":{"__class__":"bytes","base64":"SGVsbG8sIFRyeXRvbiE=\\n"}}';

describe('tryton codec', () => {
  it('decodes the server shapes into exact values', () => {
    const record = parseTrytonJson(SERVER_ANSWER) as Record<string, unknown>;
    expect(record.rate).toBeInstanceOf(TrytonDecimal);
    expect((record.rate as TrytonDecimal).value).toBe('1.0850');
    expect(record.create_date).toBeInstanceOf(TrytonDateTime);
    expect((record.create_date as TrytonDateTime).toISOString()).toBe('2026-11-21T22:02:01.114141');
    expect((record.date as TrytonDate).toISOString()).toBe('2024-01-31');
    expect(record.data).toEqual(Buffer.from('Hello, Tryton!'));
    expect(record.id).toBe(1);
  });

  it('encodes decoded values back to the same JSON values', () => {
    const record = parseTrytonJson(SERVER_ANSWER);
    const again = JSON.parse(stringifyTrytonJson(record)) as Record<string, unknown>;
    const original = JSON.parse(SERVER_ANSWER) as Record<string, unknown>;
    // bytes are re-encoded without MIME line breaks, which trytond's decodebytes accepts.
    expect(again.data).toEqual({ __class__: 'bytes', base64: 'SGVsbG8sIFRyeXRvbiE=' });
    delete again.data;
    delete original.data;
    expect(again).toEqual(original);
  });

  it('keeps every decimal text exactly, never going through a float', () => {
    const decimalText = fc
      .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 40n }), fc.nat({ max: 30 }))
      .map(([negative, digits, scale]) => {
        const text = digits.toString().padStart(scale + 1, '0');
        const body = scale === 0 ? text : `${text.slice(0, -scale)}.${text.slice(-scale)}`;
        return `${negative ? '-' : ''}${body}`;
      });
    fc.assert(
      fc.property(decimalText, (text) => {
        const json = JSON.stringify({ v: { __class__: 'Decimal', decimal: text } });
        const decoded = parseTrytonJson(json) as { v: TrytonDecimal };
        expect(decoded.v.value).toBe(text);
        expect(stringifyTrytonJson(decoded)).toBe(json);
      }),
    );
    expect(new TrytonDecimal('0.10000000000000000000001').value).toBe('0.10000000000000000000001');
    expect(TrytonDecimal.from(12345678901234567890n).value).toBe('12345678901234567890');
    for (const text of ['1E+2', '-0', 'NaN', '-Infinity', '.5'])
      expect(new TrytonDecimal(text).value).toBe(text);
    expect(() => new TrytonDecimal('1,5')).toThrow(RangeError);
    expect(() => new TrytonDecimal('')).toThrow(RangeError);
  });

  it('keeps datetime microseconds that a JS Date would lose', () => {
    fc.assert(
      fc.property(
        fc.record({
          year: fc.integer({ min: 1, max: 9999 }),
          month: fc.integer({ min: 1, max: 12 }),
          day: fc.integer({ min: 1, max: 28 }),
          hour: fc.integer({ min: 0, max: 23 }),
          minute: fc.integer({ min: 0, max: 59 }),
          second: fc.integer({ min: 0, max: 59 }),
          microsecond: fc.integer({ min: 0, max: 999_999 }),
        }),
        (parts) => {
          const json = JSON.stringify({ __class__: 'datetime', ...parts });
          const decoded = parseTrytonJson(json) as TrytonDateTime;
          expect(decoded.toJSON()).toEqual({ __class__: 'datetime', ...parts });
          expect(stringifyTrytonJson(decoded)).toBe(json);
          expect(decoded.toDate().getUTCMilliseconds()).toBe(Math.floor(parts.microsecond / 1000));
        },
      ),
    );
    const early = new TrytonDateTime({
      year: 12,
      month: 3,
      day: 4,
      hour: 5,
      minute: 6,
      second: 7,
      microsecond: 8,
    });
    expect(early.toISOString()).toBe('0012-03-04T05:06:07.000008');
    expect(early.toDate().toISOString()).toBe('0012-03-04T05:06:07.000Z');
    expect(TrytonDateTime.fromDate(new Date('2024-02-29T23:59:58.123Z')).toISOString()).toBe(
      '2024-02-29T23:59:58.123000',
    );
    expect(() => new TrytonDateTime({ year: 2024, month: 13, day: 1 })).toThrow(RangeError);
  });

  it('round-trips time, timedelta and arbitrary bytes', () => {
    const time = parseTrytonJson(
      '{"__class__":"time","hour":23,"minute":59,"second":58,"microsecond":999999}',
    );
    expect((time as TrytonTime).toISOString()).toBe('23:59:58.999999');
    const delta = parseTrytonJson(
      '{"__class__":"timedelta","seconds":90061.000001}',
    ) as TrytonTimeDelta;
    expect(delta.seconds).toBe(90061.000001);
    expect(stringifyTrytonJson(delta)).toBe('{"__class__":"timedelta","seconds":90061.000001}');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const json = stringifyTrytonJson([bytes]);
        const decoded = parseTrytonJson(json) as Buffer[];
        expect(Buffer.compare(decoded[0] ?? Buffer.alloc(0), Buffer.from(bytes))).toBe(0);
      }),
    );
    // trytond's MIME base64: a newline every 76 characters and at the end.
    const mime =
      Buffer.alloc(100, 7)
        .toString('base64')
        .replace(/(.{76})/g, '$1\n') + '\n';
    expect(decodeTrytonValue({ __class__: 'bytes', base64: mime })).toEqual(Buffer.alloc(100, 7));
  });

  it('decodes nested values in place and leaves unknown classes alone', () => {
    const value = decodeTrytonValue([
      [['amount', '>', { __class__: 'Decimal', decimal: '2.50' }]],
      {
        nested: [{ __class__: 'date', year: 2024, month: 1, day: 31 }],
        other: { __class__: 'Future', x: 1 },
      },
    ]) as unknown[];
    expect(value).toEqual([
      [['amount', '>', new TrytonDecimal('2.50')]],
      {
        nested: [new TrytonDate({ year: 2024, month: 1, day: 31 })],
        other: { __class__: 'Future', x: 1 },
      },
    ]);
    expect(() => decodeTrytonValue({ __class__: 'Decimal', decimal: 1.5 })).toThrow(RangeError);
  });

  it('encodes JS values a caller may pass: Date, Buffer, plain Tryton shapes', () => {
    const encoded = encodeTrytonValue({
      at: new Date('2024-01-31T01:02:03.456Z'),
      blob: Buffer.from([0, 255]),
      raw: { __class__: 'Decimal', decimal: '1.0' },
      list: [new TrytonTimeDelta(1.5), null, 'x'],
    });
    expect(encoded).toEqual({
      at: {
        __class__: 'datetime',
        year: 2024,
        month: 1,
        day: 31,
        hour: 1,
        minute: 2,
        second: 3,
        microsecond: 456_000,
      },
      blob: { __class__: 'bytes', base64: 'AP8=' },
      raw: { __class__: 'Decimal', decimal: '1.0' },
      list: [{ __class__: 'timedelta', seconds: 1.5 }, null, 'x'],
    });
  });
});
