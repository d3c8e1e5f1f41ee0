/**
 * Large strings of an answer left in its bytes: an answer of megabytes that holds one value of
 * megabytes (a note, a binary as base64) is decoded without that value, which stays in the
 * answer's bytes as an {@link OdooLargeText} the caller reads a piece at a time, so a process never
 * holds it as one string (a string of 100 MB with one accent is 200 MB in V8, and a JSON answer
 * is a string before it is parsed). The caller asks for it per call (`largeTexts`), for reads of
 * one value (docs/sync.md, "Large values").
 *
 * How: every string token of a JSON answer, every text run of an XML-RPC answer, at least
 * `minBytes` long, is replaced by a marker of the call's own before the answer is decoded as any
 * other; the decoded value then has an {@link OdooLargeText} in each marker's place. Not for: a
 * value the decoder would not give as a string (an XML-RPC `<base64>`, which Odoo does not send):
 * the answer is then decoded whole, as without `largeTexts`.
 */
import { randomBytes } from 'node:crypto';
import { OdooError } from './odoo-errors.js';
import { releaseBody, type OdooHttpResponse } from './odoo-http.js';
import type { OdooLargeTextsOption } from './odoo-types.js';
import { decodeXmlEntities } from './xmlrpc-decoder.js';

/** Bytes of the answer a piece is decoded from: about a megabyte of text at a time. */
const PIECE_BYTES = 1_048_576;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LT = 0x3c;
const GT = 0x3e;
const AMP = 0x26;
const SEMICOLON = 0x3b;
const U = 0x75;
/** The longest entity a piece must not split: `&#x10FFFF;`. */
const LONGEST_ENTITY = 10;

/** Frees an answer's memory once each of its large texts is done with (OdooLargeText.release). */
class AnswerMemory {
  constructor(
    private readonly body: Buffer,
    private held: number,
  ) {}

  release(): void {
    this.held -= 1;
    if (this.held > 0) return;
    const memory = this.body.buffer;
    // Only a buffer that owns all of its memory, as an answer read with a Content-Length does.
    if (
      this.body.byteOffset === 0 &&
      this.body.byteLength === memory.byteLength &&
      memory instanceof ArrayBuffer
    )
      memory.transfer(0);
  }
}

/** A string of an answer, left in the answer's bytes (see the module's header). */
export class OdooLargeText {
  private released = false;

  constructor(
    private readonly body: Buffer,
    private readonly start: number,
    private readonly end: number,
    private readonly syntax: 'json' | 'xml',
    private readonly memory: AnswerMemory,
  ) {}

  /** The bytes it takes in the answer, escapes included. */
  get answerBytes(): number {
    return this.end - this.start;
  }

  /**
   * The text, a piece at a time, each decoded from about a megabyte of the answer: never a
   * surrogate pair or a character split between two pieces, so each piece encodes to its own
   * bytes of the text's UTF-8.
   * @throws OdooError `ODOO_PROTOCOL` for an escape or an entity that does not decode
   */
  *pieces(pieceBytes = PIECE_BYTES): Generator<string> {
    if (this.released) throw new TypeError('a large text read after its release');
    const { end } = this;
    // Past the longest unit a cut steps back over (an entity): every piece holds one at least.
    const step = Math.max(pieceBytes, 2 * LONGEST_ENTITY);
    let carry = '';
    for (let p = this.start; p < end;) {
      const q = this.cut(p, Math.min(end, p + step));
      let piece = carry + this.decode(p, q);
      carry = '';
      // A pair written as two escapes (`\ud83d\ude00`) may fall on both sides of a cut.
      const last = piece.charCodeAt(piece.length - 1);
      if (q < end && last >= 0xd800 && last <= 0xdbff) {
        carry = piece.slice(-1);
        piece = piece.slice(0, -1);
      }
      if (piece !== '') yield piece;
      p = q;
    }
    if (carry !== '') yield carry;
  }

  /** The text whole: for one found small once decoded (escapes made it long in the answer). */
  text(): string {
    return [...this.pieces()].join('');
  }

  /** Done with it: the answer's memory is freed once every large text of it is. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.memory.release();
  }

  /** Where a piece that would end at `q` ends: never inside a character, an escape or an entity. */
  private cut(p: number, q: number): number {
    const { body, end } = this;
    if (q >= end) return end;
    while (q > p && (body[q]! & 0xc0) === 0x80) q -= 1;
    // Searched within the piece alone: a search to the answer's end for each piece is quadratic.
    if (this.syntax === 'xml') {
      const from = Math.max(p, q - LONGEST_ENTITY);
      const amp = body.subarray(from, q).lastIndexOf(AMP);
      if (amp >= 0 && body.subarray(from + amp, q).indexOf(SEMICOLON) < 0) return from + amp;
      return q;
    }
    // Escapes from p on: p is never inside one.
    const piece = body.subarray(p, q);
    for (let k = piece.indexOf(BACKSLASH); k >= 0; k = piece.indexOf(BACKSLASH, k)) {
      const length = body[p + k + 1] === U ? 6 : 2;
      if (p + k + length > q) return p + k;
      k += length;
    }
    return q;
  }

  private decode(p: number, q: number): string {
    const raw = this.body.toString('utf8', p, q);
    if (this.syntax === 'xml')
      return raw.includes('&')
        ? decodeXmlEntities(raw, (reason) => {
            throw new OdooError('ODOO_PROTOCOL', `malformed XML-RPC text: ${reason}`);
          })
        : raw;
    if (!raw.includes('\\')) return raw;
    try {
      return JSON.parse(`"${raw}"`) as string;
    } catch (error) {
      throw new OdooError('ODOO_PROTOCOL', 'malformed JSON string in the answer', {
        cause: error,
      });
    }
  }
}

/** The runs of an answer left in its bytes, and the answer decoded without them. */
interface Hollowed {
  readonly body: Buffer;
  readonly runs: readonly { start: number; end: number; marker: string }[];
}

/** Every JSON string token of at least `minBytes`, its content (between the quotes) replaced. */
function hollowJson(body: Buffer, minBytes: number, markerOf: (i: number) => string): Hollowed {
  const parts: Buffer[] = [];
  const runs: { start: number; end: number; marker: string }[] = [];
  let copied = 0;
  for (let open = body.indexOf(QUOTE); open >= 0;) {
    let close = body.indexOf(QUOTE, open + 1);
    // A quote after an odd number of backslashes is inside the string.
    for (;;) {
      if (close < 0) return { body, runs: [] };
      let backslashes = 0;
      while (body[close - 1 - backslashes] === BACKSLASH) backslashes += 1;
      if (backslashes % 2 === 0) break;
      close = body.indexOf(QUOTE, close + 1);
    }
    if (close - open - 1 >= minBytes) {
      const marker = markerOf(runs.length);
      parts.push(body.subarray(copied, open + 1), Buffer.from(marker));
      runs.push({ start: open + 1, end: close, marker });
      copied = close;
    }
    open = body.indexOf(QUOTE, close + 1);
  }
  if (runs.length === 0) return { body, runs };
  parts.push(body.subarray(copied));
  return { body: Buffer.concat(parts), runs };
}

/** Every XML text run (between a `>` and the next `<`) of at least `minBytes`, replaced. */
function hollowXml(body: Buffer, minBytes: number, markerOf: (i: number) => string): Hollowed {
  const parts: Buffer[] = [];
  const runs: { start: number; end: number; marker: string }[] = [];
  let copied = 0;
  for (let text = 0; text < body.length;) {
    const lt = body.indexOf(LT, text);
    if (lt < 0) break;
    if (lt - text >= minBytes) {
      const marker = markerOf(runs.length);
      parts.push(body.subarray(copied, text), Buffer.from(marker));
      runs.push({ start: text, end: lt, marker });
      copied = lt;
    }
    const gt = body.indexOf(GT, lt);
    if (gt < 0) break;
    text = gt + 1;
  }
  if (runs.length === 0) return { body, runs };
  parts.push(body.subarray(copied));
  return { body: Buffer.concat(parts), runs };
}

/**
 * `decode(body)`, each string of the answer past `minBytes` left in `body` as an
 * {@link OdooLargeText}; `decode` alone when there is none. The caller keeps `body` until the
 * large texts are released (then it is freed), and frees it itself when there is none.
 * @returns the decoded value, and whether it holds large texts (`body` is theirs)
 */
export function decodeWithLargeTexts(
  body: Buffer,
  syntax: 'json' | 'xml',
  option: OdooLargeTextsOption,
  decode: (body: Buffer) => unknown,
): { value: unknown; holdsLarge: boolean } {
  const nonce = randomBytes(12).toString('hex');
  const markerOf = (i: number) => `erp-bridge-large-text-${nonce}-${i}`;
  const hollowed = (syntax === 'json' ? hollowJson : hollowXml)(body, option.minBytes, markerOf);
  if (hollowed.runs.length === 0) return { value: decode(body), holdsLarge: false };
  const memory = new AnswerMemory(body, hollowed.runs.length);
  const texts = new Map(
    hollowed.runs.map((run) => [
      run.marker,
      new OdooLargeText(body, run.start, run.end, syntax, memory),
    ]),
  );
  const value = decode(hollowed.body);
  const placed = new Set<string>();
  const filled = fill(value, texts, placed);
  // A marker the decoder did not give back as a string: the answer is read as any other.
  if (placed.size < texts.size) return { value: decode(body), holdsLarge: false };
  return { value: filled, holdsLarge: true };
}

/**
 * The answer's value, `decode`d from its bytes with its large strings left in them when `option`
 * asks (decodeWithLargeTexts). Every other decoded value is a copy, so the bytes are freed once
 * decoded, unless large texts hold them until they are released.
 */
export function decodeAnswer(
  response: OdooHttpResponse,
  syntax: 'json' | 'xml',
  option: OdooLargeTextsOption | undefined,
  decode: (body: Buffer) => unknown,
): unknown {
  let holdsLarge = false;
  try {
    if (option === undefined) return decode(response.body);
    const decoded = decodeWithLargeTexts(response.body, syntax, option, decode);
    holdsLarge = decoded.holdsLarge;
    return decoded.value;
  } finally {
    if (!holdsLarge) releaseBody(response);
  }
}

/** `value` with each marker string replaced by its large text. */
function fill(
  value: unknown,
  texts: ReadonlyMap<string, OdooLargeText>,
  placed: Set<string>,
): unknown {
  if (typeof value === 'string') {
    const text = texts.get(value);
    if (text === undefined) return value;
    placed.add(value);
    return text;
  }
  if (Array.isArray(value)) {
    const items = value as unknown[];
    for (let i = 0; i < items.length; i += 1) items[i] = fill(items[i], texts, placed);
    return items;
  }
  if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) {
    const object = value as Record<string, unknown>;
    for (const key of Object.keys(object)) object[key] = fill(object[key], texts, placed);
  }
  return value;
}
