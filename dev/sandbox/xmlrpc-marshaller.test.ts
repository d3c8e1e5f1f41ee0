import { describe, expect, it } from 'vitest';
import { PyFloat, pyFloatRepr } from './python-values.js';
import { OdooException } from './sandbox-exceptions.js';
import { escapeXmlText, marshalFault, marshalResponse } from './xmlrpc-marshaller.js';
import { formatOdooDatetime, parseDatetimeMicros } from './sandbox-time.js';

describe('CPython marshaller emulation', () => {
  it('prints floats like Python repr', () => {
    const cases: Array<[number, string]> = [
      [0, '0.0'],
      [-0, '-0.0'],
      [1, '1.0'],
      [100, '100.0'],
      [12.5, '12.5'],
      [0.1, '0.1'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [1.5e-7, '1.5e-07'],
      [123456789012345.6, '123456789012345.6'],
      [1e15, '1000000000000000.0'],
      [1e16, '1e+16'],
      [2.5e100, '2.5e+100'],
      [Number.NaN, 'nan'],
      [Infinity, 'inf'],
      [-Infinity, '-inf'],
    ];
    for (const [value, text] of cases) expect(pyFloatRepr(value)).toBe(text);
  });

  it('writes one value per line, strings always in <string>, floats as <double>', () => {
    expect(marshalResponse({ a: [1, 'x', new PyFloat(2), true, 2.5] })).toBe(
      '<?xml version="1.0"?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n<member>\n<name>a</name>\n' +
        '<value><array><data>\n<value><int>1</int></value>\n<value><string>x</string></value>\n' +
        '<value><double>2.0</double></value>\n<value><boolean>1</boolean></value>\n<value><double>2.5</double></value>\n' +
        '</data></array></value>\n</member>\n</struct></value>\n</param>\n</params>\n\n</methodResponse>\n',
    );
    expect(marshalFault(2, 'a < b')).toContain(
      '<name>faultString</name>\n<value><string>a &lt; b</string></value>',
    );
  });

  it('refuses None and ints outside int32 like Python', () => {
    expect(() => marshalResponse([1, null])).toThrow(
      /cannot marshal None unless allow_none is enabled/,
    );
    expect(() => marshalResponse({ x: undefined })).toThrow(OdooException);
    expect(() => marshalResponse(2 ** 31)).toThrow(/int exceeds XML-RPC limits/);
    expect(marshalResponse(-(2 ** 31))).toContain('<int>-2147483648</int>');
  });

  it('escapes & < > only and strips control characters but tab, newline and CR', () => {
    expect(escapeXmlText('a&b<c>"d\'\u0000\u0007\u001f\t\n\r')).toBe('a&amp;b&lt;c&gt;"d\'\t\n\r');
  });
});

describe('sandbox time', () => {
  it('truncates microseconds to the second on the wire', () => {
    const micros = Date.parse('2025-01-02T03:04:05.000Z') * 1000 + 999_999;
    expect(formatOdooDatetime(micros)).toBe('2025-01-02 03:04:05');
    expect(formatOdooDatetime(Date.parse('1969-12-31T23:59:59Z') * 1000)).toBe(
      '1969-12-31 23:59:59',
    );
  });

  it('parses domain datetimes with optional fraction and dates as midnight', () => {
    expect(parseDatetimeMicros('2025-01-02 03:04:05')).toBe(
      Date.parse('2025-01-02T03:04:05Z') * 1000,
    );
    expect(parseDatetimeMicros('2025-01-02 03:04:05.25')).toBe(
      Date.parse('2025-01-02T03:04:05Z') * 1000 + 250_000,
    );
    expect(parseDatetimeMicros('2025-01-02')).toBe(Date.parse('2025-01-02T00:00:00Z') * 1000);
    expect(parseDatetimeMicros(new Date('2025-01-02T03:04:05.5Z'))).toBe(
      Date.parse('2025-01-02T03:04:05.5Z') * 1000,
    );
    expect(parseDatetimeMicros('2025-02-30 00:00:00')).toBeUndefined();
    expect(parseDatetimeMicros('yesterday')).toBeUndefined();
  });
});
