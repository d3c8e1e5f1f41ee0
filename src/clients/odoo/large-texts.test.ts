import { describe, expect, it } from 'vitest';
import { decodeWithLargeTexts, OdooLargeText } from './large-texts.js';
import { decodeMethodResponse } from './xmlrpc-decoder.js';

/**
 * A text that tests every cut: escapes JSON writes (quotes, backslashes, controls), characters of
 * two, three and four bytes in UTF-8, a pair as two JSON escapes, markup XML escapes.
 */
const TEXT = Array.from(
  { length: 400 },
  (_, i) => `<p a="${i}">l’été\\n\n\t😀 ${'x'.repeat(i % 7)} & ${'\u{1F680}'}é\u0001</p>`,
).join('');

/** JSON as Python's json.dumps writes it with ensure_ascii (every character past ASCII escaped). */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** An XML-RPC answer as Python's marshaller writes it: one struct, its values escaped. */
function xmlAnswer(record: Record<string, string | number>): Buffer {
  const escape = (text: string) =>
    text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  const members = Object.entries(record)
    .map(
      ([name, value]) =>
        `\n<member>\n<name>${name}</name>\n<value>${typeof value === 'number' ? `<int>${value}</int>` : `<string>${escape(value)}</string>`}</value>\n</member>`,
    )
    .join('');
  return Buffer.from(
    `<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><array><data>\n<value><struct>${members}\n</struct></value>\n</data></array></value>\n</param>\n</params>\n</methodResponse>\n`,
  );
}

const decodeJson = (body: Buffer) => JSON.parse(body.toString('utf8')) as unknown;
const decodeXml = (body: Buffer) => {
  const decoded = decodeMethodResponse(body);
  if (decoded.fault) throw new Error('fault');
  return decoded.value;
};

/** The large text a decoded one-record answer holds in `field`. */
function largeIn(value: unknown, field: string): OdooLargeText {
  const text = (value as Record<string, unknown>[])[0]![field];
  expect(text).toBeInstanceOf(OdooLargeText);
  return text as OdooLargeText;
}

describe('decodeWithLargeTexts', () => {
  const answers = [
    {
      name: 'JSON',
      syntax: 'json' as const,
      body: (r: object) => Buffer.from(JSON.stringify([r])),
    },
    {
      name: 'JSON, all ASCII',
      syntax: 'json' as const,
      body: (r: object) => Buffer.from(asciiJson([r])),
    },
    {
      name: 'XML-RPC',
      syntax: 'xml' as const,
      body: (r: Record<string, string | number>) => xmlAnswer(r),
    },
  ];

  it.each(answers)(
    'leaves a long string of $name in its bytes, in pieces that are each whole text',
    ({ syntax, body }) => {
      const answer = body({ id: 7, write_date: '2026-01-02 03:04:05', name: TEXT });
      const decoded = decodeWithLargeTexts(
        answer,
        syntax,
        { minBytes: 1_000 },
        syntax === 'json' ? decodeJson : decodeXml,
      );
      expect(decoded.holdsLarge).toBe(true);
      const record = (decoded.value as Record<string, unknown>[])[0]!;
      expect(record.id).toBe(7);
      expect(record.write_date).toBe('2026-01-02 03:04:05');
      const text = largeIn(decoded.value, 'name');
      expect(text.answerBytes).toBeGreaterThanOrEqual(Buffer.byteLength(TEXT));
      for (const pieceBytes of [1, 17, 100, 1_000, 1_048_576]) {
        const pieces = [...text.pieces(pieceBytes)];
        expect(pieces.join('')).toBe(TEXT);
        // Each piece is whole text: a lone surrogate would not survive its own encoding.
        expect(pieces.every((piece) => Buffer.from(piece).toString() === piece)).toBe(true);
        expect(Buffer.concat(pieces.map((piece) => Buffer.from(piece)))).toEqual(Buffer.from(TEXT));
      }
      expect(text.text()).toBe(TEXT);
    },
  );

  it.each(answers)('decodes a $name answer with no long string as it is', ({ syntax, body }) => {
    const answer = body({ id: 7, name: 'short' });
    const decoded = decodeWithLargeTexts(
      answer,
      syntax,
      { minBytes: 1_000 },
      syntax === 'json' ? decodeJson : decodeXml,
    );
    expect(decoded).toEqual({ holdsLarge: false, value: [{ id: 7, name: 'short' }] });
  });

  it('frees the answer once each of its large texts is released', () => {
    const source = Buffer.from(JSON.stringify([{ id: 1, a: TEXT, b: TEXT }]));
    const answer = Buffer.allocUnsafe(source.length);
    source.copy(answer);
    const decoded = decodeWithLargeTexts(answer, 'json', { minBytes: 1_000 }, decodeJson);
    const [a, b] = [largeIn(decoded.value, 'a'), largeIn(decoded.value, 'b')];
    a.release();
    expect(answer.buffer.byteLength).toBe(source.length);
    expect(b.text()).toBe(TEXT);
    b.release();
    expect(answer.buffer.byteLength).toBe(0);
    expect(() => [...a.pieces()]).toThrow(TypeError);
  });

  it('decodes the answer whole when a long run is not a string the decoder gives (base64)', () => {
    const base64 = Buffer.from(TEXT).toString('base64');
    const answer = Buffer.from(
      `<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><base64>${base64}</base64></value>\n</param>\n</params>\n</methodResponse>\n`,
    );
    const decoded = decodeWithLargeTexts(answer, 'xml', { minBytes: 1_000 }, decodeXml);
    expect(decoded.holdsLarge).toBe(false);
    expect(decoded.value).toEqual(Buffer.from(TEXT));
  });
});
