/**
 * The inputs the hostile probe sends (test/api/hostile-probe.test.ts): random, boundary and
 * hostile values for every parameter and body field an OpenAPI operation takes, cursors for every
 * sort, authorizations and header tricks (fast-check arbitraries).
 */
import fc from 'fast-check';
import { KEYS } from './test-app.js';

interface SchemaObject {
  type?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  properties?: Record<string, SchemaObject>;
  anyOf?: SchemaObject[];
}
export interface Operation {
  parameters?: { name: string; in: 'query' | 'path'; schema: SchemaObject }[];
  requestBody?: { content: Record<string, { schema: SchemaObject }> };
}
interface Route {
  method: 'GET' | 'POST';
  path: string;
  operation: Operation;
}

const HOSTILE_TEXT = [
  '',
  ' ',
  '0',
  '-1',
  '1e300',
  '9999999999',
  '2147483648',
  'NaN',
  'null',
  'true',
  '[]',
  '{}',
  '\u0000',
  '1\u0000',
  "' or 1=1 --",
  '../../etc/passwd',
  '%',
  '%FF',
  '<script>',
  '\u202e',
  '😀',
  'a'.repeat(5_000),
];

const hostileText = fc.oneof(fc.constantFrom(...HOSTILE_TEXT), fc.string({ maxLength: 40 }));

/**
 * Values a cursor may carry, for every cast a sort compares in: at and past each bound
 * PostgreSQL has (int4, the calendar, timestamptz's years, numeric's exponent, text's encoding),
 * what PostgreSQL writes itself (infinities, NaN) and arbitrary text of every kind.
 */
const CURSOR_VALUE = fc.oneof(
  fc.constantFrom(
    '0',
    '2147483647',
    '2147483648',
    '-2147483648',
    '-2147483649',
    '9999999999',
    '1e999',
    '1e999999',
    '-1e-999',
    'NaN',
    'nan',
    'Infinity',
    '-Infinity',
    'infinity',
    '-infinity',
    '',
    'a\u0000b',
    '\ud800',
    '\udfff😀',
    'x'.repeat(300),
    'x'.repeat(301),
    '2026-01-01T00:00:00.000Z',
    '2026-13-01T00:00:00.000Z',
    '2026-02-29T00:00:00.000Z',
    '2024-02-29T23:59:59.999Z',
    '2026-01-01T24:00:00.000Z',
    '2026-01-01T23:59:60.000Z',
    '0000-01-01T00:00:00.000Z',
    '0001-01-01T00:00:00.000Z',
    '10000-01-01T00:00:00.000Z',
    '294276-12-31T23:59:59.999Z',
    '294277-01-01T00:00:00.000Z',
    '999999-12-31T23:59:59.999Z',
    '2026-01-01',
    '2024-02-29',
    '2026-02-29',
    '5874897-12-31',
    '5874898-01-01',
    '0000-12-31',
    'true',
    'false',
    'TRUE',
  ),
  fc.string({ maxLength: 30, unit: 'binary' }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.bigInt().map(String),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10)),
  fc.boolean().map(String),
);
const CURSOR_ID = fc.oneof(
  fc.integer({ min: -2_147_483_648, max: 2_147_483_647 }),
  fc.constantFrom(2_147_483_648, -2_147_483_649, 1e20, 1.5, Number.MAX_SAFE_INTEGER, '1', null),
  fc.integer(),
);

/** A cursor for one sort: base64url of `[sort, value, id]`, the list's own shape. */
export function cursorFor(sort: string): fc.Arbitrary<string> {
  return fc
    .tuple(CURSOR_VALUE, CURSOR_ID)
    .map(([value, id]) => Buffer.from(JSON.stringify([sort, value, id])).toString('base64url'));
}

/**
 * Values at and past each bound PostgreSQL has, for a filter of any type: the calendar's first
 * and last days and the years either side (with offsets that move an instant across them), int4's
 * bounds, numeric's digits, text's encoding and length, infinities and NaN, and lists of them;
 * URL-encoded.
 */
export const BOUND_VALUES = [
  '0001-01-01',
  '0000-01-01',
  '0000-12-31',
  '9999-12-31',
  '10000-01-01',
  '2024-02-29',
  '2023-02-29',
  '294276-12-31',
  '5874897-12-31',
  '0001-01-01T00:00:00Z',
  '0001-01-01T00:30:00+01:00',
  '0000-12-31T23:59:59Z',
  '9999-12-31T23:59:59.999Z',
  '9999-12-31T23:00:00-05:00',
  '2026-01-01T24:00:00Z',
  'infinity',
  '-infinity',
  '2147483647',
  '2147483648',
  '-2147483648',
  '-2147483649',
  '9223372036854775808',
  '1e309',
  '-1e-400',
  '-0',
  `1${'0'.repeat(29)}`,
  `9${'9'.repeat(30)}`,
  `0.${'0'.repeat(29)}1`,
  `1.${'0'.repeat(31)}`,
  'NaN',
  'Infinity',
  '',
  'abc',
  'a b',
  '%_\\',
  '\u0000',
  'é'.repeat(200),
  'a'.repeat(200),
  'a'.repeat(201),
  'true',
  'TRUE',
  '1',
  Array.from({ length: 100 }, (_, i) => String(i)).join(','),
  Array.from({ length: 101 }, (_, i) => String(i)).join(','),
  '0001-01-01,0000-01-01',
  '2147483647,2147483648',
].map(encodeURIComponent);
/** Bytes no UTF-8 text holds (a lone surrogate's CESU-8, a stray byte), as a client may send them. */
export const BOUND_BYTES = ['%ED%A0%80', '%FF', '%C3'];

/** Cursors of each other kind the API gives: a line cursor, run and audit ids. */
const OTHER_CURSORS = fc.oneof(
  fc
    .tuple(fc.oneof(fc.integer(), fc.constant(2_147_483_648)), fc.integer())
    .map(([sequence, id]) => `${sequence}_${id}`),
  fc.constantFrom('-2147483649_1', '1_2147483648', '99999999999_1', '9223372036854775808', '1e20'),
);

/** Values for one schema: valid ones at its bounds, and hostile text. */
export function valueFor(schema: SchemaObject, name = ''): fc.Arbitrary<string> {
  const candidates: fc.Arbitrary<string>[] = [hostileText];
  if (name === 'after' || name === 'before') candidates.push(OTHER_CURSORS);
  if (schema.enum) candidates.push(fc.constantFrom(...schema.enum.map(String)));
  if (schema.type === 'integer' || schema.type === 'number') {
    const bounds = [schema.minimum, schema.maximum].filter((n): n is number => n !== undefined);
    candidates.push(
      fc.constantFrom(
        ...[...bounds, ...bounds.map((n) => n - 1), ...bounds.map((n) => n + 1)].map(String),
      ),
      fc.integer().map(String),
      fc.double().map(String),
    );
  }
  if (schema.type === 'boolean') candidates.push(fc.constantFrom('true', 'false', 'TRUE', '1'));
  if (schema.maxLength !== undefined)
    candidates.push(
      fc.constantFrom('a'.repeat(schema.maxLength), 'a'.repeat(schema.maxLength + 1)),
    );
  for (const option of schema.anyOf ?? []) candidates.push(valueFor(option));
  return fc.oneof(...candidates);
}

const jsonValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    { __class__: 'Decimal', decimal: 'NaN' },
    { __class__: 'datetime', year: 99999 },
    { __class__: 'bytes', base64: '%%%' },
    [[['create_uid.password_reset', '=', 'x']]],
    [[['name', 'where', []]]],
    Array.from({ length: 200 }, () => 1),
  ),
);

export const AUTHORIZATIONS = fc.constantFrom<(string | undefined)[]>(
  undefined,
  `Bearer ${KEYS.reader.key}`,
  `Bearer ${KEYS.operator.key}`,
  `Bearer ${KEYS.admin.key}`,
  `bearer   ${KEYS.operator.key}  `,
  `Bearer ${KEYS.admin.key}x`,
  `Bearer ${KEYS.admin.key.toUpperCase()}`,
  `Basic ${Buffer.from(`x:${KEYS.admin.key}`).toString('base64')}`,
  'Bearer',
  'Bearer \u0000',
  `Bearer ${'k'.repeat(10_000)}`,
  'Negotiate abc',
);

export const HEADER_TRICKS = fc.record(
  {
    'x-forwarded-for': fc.constantFrom('1.2.3.4', 'garbage', '::1, 10.0.0.1', ''),
    'x-request-id': fc.constantFrom('a'.repeat(500), '../', '\u00e9'),
    'content-type': fc.constantFrom(
      'application/json',
      'text/plain',
      'application/json; charset=latin1',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded',
    ),
    accept: fc.constantFrom('text/html', '*/*', 'application/xml'),
  },
  { requiredKeys: [] },
);

/** The sorts a route's `sort` parameter takes, when it takes a `cursor` too; else none. */
export function sortsOf(route: Route): string[] {
  const parameters = route.operation.parameters ?? [];
  const sort = parameters.find((parameter) => parameter.name === 'sort');
  if (!parameters.some((parameter) => parameter.name === 'cursor') || !sort?.schema.enum) return [];
  return sort.schema.enum.map(String);
}

export function routesOf(document: { paths: Record<string, Record<string, Operation>> }): Route[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({
      method: method.toUpperCase() as Route['method'],
      path,
      operation,
    })),
  );
}

export function bodyFor(operation: Operation): fc.Arbitrary<string | undefined> {
  const schema = operation.requestBody?.content['application/json']?.schema;
  if (!schema) return fc.constant(undefined);
  const fields = Object.keys(schema.properties ?? {});
  const record = fc
    .dictionary(fc.constantFrom(...fields, 'extra', '__proto__', 'constructor'), jsonValue, {
      maxKeys: fields.length + 2,
    })
    .map((value) => JSON.stringify(value));
  return fc.oneof(
    record,
    fc.constantFrom(
      '{"method": ',
      '[]',
      'null',
      '"text"',
      '{"method":"a".."b"}',
      'x'.repeat(2_000_000),
    ),
  );
}
