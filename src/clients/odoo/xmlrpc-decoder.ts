/**
 * A decoder for XML-RPC documents (`<methodResponse>`, and `<methodCall>` for the sandbox) that
 * scans the text with `indexOf`/`charCodeAt` and builds the values directly, with no generic
 * XML tree and no event stream.
 *
 * Why: the `xmlrpc` package's sax-based deserializer decodes about 2,200 Odoo records/s, which
 * would make decoding the bottleneck of the sync (docs/odoo.md, Transports). This decoder gives the same values
 * as that deserializer (a differential test proves it) at many times its speed.
 *
 * Values, exactly as the `xmlrpc` package gives them: int/i4 → number (parseInt), i8 → decimal
 * string, double → number (parseFloat), boolean → boolean, string and untyped values → string,
 * dateTime.iso8601 → Date (the package's own date parser), base64 → Buffer, nil → null,
 * array → array, struct → plain object. One deliberate difference: a struct member named
 * `__proto__` becomes an own property instead of replacing the object's prototype.
 *
 * Not for: XML in general (no attributes, namespaces or DTDs), nor element names in other
 * cases than XML-RPC's own (the spec's names are lower case; sax's lenient mode is not copied).
 */
import xmlrpc from 'xmlrpc';
import { OdooError } from './odoo-errors.js';

/** A decoded `<methodResponse>`: the single param's value, or a fault. */
export type XmlRpcResponse =
  { fault: false; value: unknown } | { fault: true; faultCode: unknown; faultString: unknown };

/** A decoded `<methodCall>`. */
export interface XmlRpcCall {
  methodName: string;
  params: unknown[];
}

/**
 * Decodes an XML-RPC `<methodResponse>`, given as text or as the UTF-8 bytes of the body. Bytes
 * are faster: they are scanned as a one-byte string and only the values that hold non-ASCII
 * characters are decoded from UTF-8, instead of the whole body.
 * @throws OdooError `ODOO_PROTOCOL` for an HTML page, malformed or truncated XML, or anything
 * that is not a method response.
 */
export function decodeMethodResponse(xml: string | Uint8Array): XmlRpcResponse {
  return parserFor(xml).methodResponse();
}

/**
 * Decodes an XML-RPC `<methodCall>` (what the sandbox receives), as text or UTF-8 bytes.
 * @throws OdooError `ODOO_PROTOCOL` when the document is not a well-formed method call.
 */
export function decodeMethodCall(xml: string | Uint8Array): XmlRpcCall {
  return parserFor(xml).methodCall();
}

function parserFor(xml: string | Uint8Array): Parser {
  if (typeof xml === 'string') return new Parser(xml);
  const bytes = Buffer.isBuffer(xml)
    ? xml
    : Buffer.from(xml.buffer, xml.byteOffset, xml.byteLength);
  // A UTF-8 byte order mark, which the text form would have decoded to U+FEFF.
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return new Parser(bytes.toString('latin1', start, bytes.length), { bytes, offset: start });
}

/** True when a body looks like an HTML page (a proxy's error page, a login redirect). */
export function looksLikeHtml(body: string): boolean {
  let start = 0;
  const length = Math.min(body.length, 512);
  while (start < length && isSpaceOrBom(body.charCodeAt(start))) start++;
  const head = body.slice(start, start + 256).toLowerCase();
  if (head.startsWith('<!doctype html') || head.startsWith('<html')) return true;
  if (head.startsWith('<?xml') || head.startsWith('{') || head.startsWith('[')) return false;
  return /<(html|head|body|title)[\s>]/.test(head);
}

function isSpaceOrBom(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9 || c === 0xfeff;
}

const decodeIso8601 = (text: string): Date => xmlrpc.dateFormatter.decodeIso8601(text);

// Powers of ten that are exact doubles: m / 10^k with m < 2^53 is then correctly rounded, so
// equal to parseFloat's result.
const POWERS_OF_TEN = [
  1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
];

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

// Member names cached by position must be plain ASCII: only then is their raw text the name.
const CACHEABLE_NAME = /^[\w.:\- ]+$/;
const HIGH_BYTE = /[\x80-\xff]/g;
/** How Python's marshaller opens each struct member. */
const MEMBER_HEAD = '\n<member>\n<name>';

/**
 * V8 keeps a slice of 13 characters or more as a view of its parent string: a value sliced from
 * the body would keep the whole body (megabytes for a page) alive for as long as its record.
 */
const MIN_SLICED_LENGTH = 13;

class Parser {
  private readonly s: string;
  private readonly n: number;
  private p = 0;
  /** Index of the next '&' at or after some point ≤ p, or n; recomputed when passed. */
  private amp = -1;
  /** Member names of the last struct seen, by position: records of one page share them. */
  private readonly keyCache: string[] = [];
  private rootEnd = '';
  /**
   * The body's bytes, when the text is those bytes read as latin1 (`offset` bytes skipped): runs
   * with bytes ≥ 0x80 still need UTF-8 decoding.
   */
  private readonly body: { readonly bytes: Buffer; readonly offset: number } | undefined;
  /** Index of the next byte ≥ 0x80 at or after some point ≤ p, or n (latin1 mode only). */
  private high = -1;
  /**
   * The values of the arrays being decoded, innermost last, from `start` to `top`: each array is
   * copied out at its exact length when it ends. An array grown by `push` keeps room for 17
   * values, and a page of records holds thousands of `[id, name]` pairs.
   */
  private readonly items: unknown[] = [];
  private top = 0;

  constructor(text: string, body?: { bytes: Buffer; offset: number }) {
    this.s = text;
    this.n = text.length;
    this.body = body;
  }

  methodResponse(): XmlRpcResponse {
    this.prolog('<methodResponse>', 'an XML-RPC method response');
    const s = this.s;
    this.misc();
    let result: XmlRpcResponse;
    if (s.startsWith('<params>', this.p)) {
      this.p += 8;
      const params = this.params();
      if (params.length > 1) this.fail('the response has more than one param');
      result = { fault: false, value: params[0] };
    } else if (s.startsWith('<params/>', this.p)) {
      this.p += 9;
      result = { fault: false, value: undefined };
    } else if (s.startsWith('<fault>', this.p)) {
      this.p += 7;
      this.misc();
      const fault = this.value();
      this.misc();
      this.expect('</fault>');
      const struct = (typeof fault === 'object' && fault !== null ? fault : {}) as Record<
        string,
        unknown
      >;
      result = { fault: true, faultCode: struct.faultCode, faultString: struct.faultString };
    } else {
      this.fail('expected <params> or <fault>');
    }
    this.misc();
    this.expect('</methodResponse>');
    this.epilog();
    return result;
  }

  methodCall(): XmlRpcCall {
    this.prolog('<methodCall>', 'an XML-RPC method call');
    const s = this.s;
    this.misc();
    this.expect('<methodName>');
    const methodName = this.text();
    this.expect('</methodName>');
    this.misc();
    let params: unknown[] = [];
    if (s.startsWith('<params>', this.p)) {
      this.p += 8;
      params = this.params();
    } else if (s.startsWith('<params/>', this.p)) {
      this.p += 9;
    }
    this.misc();
    this.expect('</methodCall>');
    this.epilog();
    return { methodName, params };
  }

  // --- document structure -------------------------------------------------------------------

  private prolog(rootTag: string, what: string): void {
    const s = this.s;
    if (s.trim() === '') {
      throw new OdooError('ODOO_PROTOCOL', 'empty body instead of XML-RPC', { retryable: true });
    }
    this.rootEnd = `</${rootTag.slice(1)}`;
    if (s.charCodeAt(0) === 0xfeff) this.p = 1;
    this.misc();
    if (s.startsWith(rootTag, this.p)) {
      this.p += rootTag.length;
      return;
    }
    if (looksLikeHtml(s)) {
      throw new OdooError('ODOO_PROTOCOL', 'HTML page instead of XML-RPC', { retryable: true });
    }
    // A body cut inside the root tag is truncated, not foreign.
    if (rootTag.startsWith(s.slice(this.p))) this.fail(`expected ${rootTag}`);
    throw new OdooError(
      'ODOO_PROTOCOL',
      `malformed XML-RPC document: not ${what} (starts with '${clip(s.slice(this.p, this.p + 40))}')`,
    );
  }

  private epilog(): void {
    this.misc();
    if (this.p < this.n) this.fail('content after the document element');
  }

  /** After `<params>`: each `<param><value>…</value></param>` up to `</params>`. */
  private params(): unknown[] {
    const s = this.s;
    const values: unknown[] = [];
    for (;;) {
      this.misc();
      if (s.startsWith('<param>', this.p)) {
        this.p += 7;
        this.misc();
        values.push(this.value());
        this.misc();
        this.expect('</param>');
      } else {
        this.expect('</params>');
        return values;
      }
    }
  }

  // --- values -------------------------------------------------------------------------------

  /** At `<value>`: the value, and the position after `</value>`. */
  private value(): unknown {
    const s = this.s;
    let p = this.p;
    if (s.charCodeAt(p) !== 60 || !s.startsWith('<value', p)) this.fail('expected <value>');
    const close = s.charCodeAt(p + 6);
    if (close === 62) {
      p += 7;
    } else if (close === 47 && s.charCodeAt(p + 7) === 62) {
      this.p = p + 8;
      return '';
    } else {
      this.fail('expected <value>');
    }
    this.p = p;
    // Fast paths for what Python's marshaller writes (`<value><string>…</string></value>`):
    // one check for both closing tags. Anything else takes the general path below.
    if (s.charCodeAt(p) === 60) {
      const type = s.charCodeAt(p + 1);
      if (type === 115 && s.startsWith('<string>', p)) {
        this.p = p + 8;
        const text = this.text();
        if (s.startsWith('</string></value>', this.p)) {
          this.p += 17;
          return text;
        }
        this.expect('</string>');
        return this.endValue(text);
      }
      if (type === 105 && s.startsWith('<int>', p)) {
        this.p = p + 5;
        const integer = this.integer();
        if (s.startsWith('</int></value>', this.p)) {
          this.p += 14;
          return integer;
        }
        this.expect('</int>');
        return this.endValue(integer);
      }
      if (type === 97 && s.startsWith('<array><data>\n', p)) {
        this.p = p + 14;
        return this.arrayItems();
      }
      if (
        type === 98 &&
        s.startsWith('</boolean></value>', p + 10) &&
        s.startsWith('<boolean>', p)
      ) {
        const digit = s.charCodeAt(p + 9);
        if (digit === 49 || digit === 48) {
          this.p = p + 28;
          return digit === 49;
        }
      }
      if (type === 100 && s.startsWith('<double>', p)) {
        this.p = p + 8;
        const double = this.double();
        if (s.startsWith('</double></value>', this.p)) {
          this.p += 17;
          return double;
        }
        this.expect('</double>');
        return this.endValue(double);
      }
    }
    // A typed value starts right away in every server's output; anything else (text, CDATA,
    // comments) goes through text(), whose result is the value when no type tag follows.
    if (!(s.charCodeAt(p) === 60 && isTagStart(s.charCodeAt(p + 1)))) {
      const text = this.text();
      if (s.startsWith('</value>', this.p)) {
        this.p += 8;
        return text;
      }
      if (!isTagStart(s.charCodeAt(this.p + 1))) this.fail('expected a type tag or </value>');
    }
    return this.endValue(this.typed());
  }

  /** After a typed element: `</value>`, ignoring text before it as the xmlrpc package does. */
  private endValue(value: unknown): unknown {
    if (this.s.startsWith('</value>', this.p)) {
      this.p += 8;
      return value;
    }
    this.text();
    this.expect('</value>');
    return value;
  }

  /** At the `<` of a type tag inside `<value>`. */
  private typed(): unknown {
    const s = this.s;
    const p = this.p;
    switch (s.charCodeAt(p + 1)) {
      case 115: // s
        if (s.startsWith('<string>', p)) {
          this.p = p + 8;
          const text = this.text();
          this.expect('</string>');
          return text;
        }
        if (s.startsWith('<struct>', p)) {
          this.p = p + 8;
          return this.struct();
        }
        if (s.startsWith('<string/>', p)) {
          this.p = p + 9;
          return '';
        }
        if (s.startsWith('<struct/>', p)) {
          this.p = p + 9;
          return {};
        }
        break;
      case 105: // i
        if (s.startsWith('<int>', p)) {
          this.p = p + 5;
          const value = this.integer();
          this.expect('</int>');
          return value;
        }
        if (s.startsWith('<i4>', p)) {
          this.p = p + 4;
          const value = this.integer();
          this.expect('</i4>');
          return value;
        }
        if (s.startsWith('<i8>', p)) {
          this.p = p + 4;
          const text = this.text();
          if (!/^-?\d+$/.test(text)) this.fail(`expected an integer (i8) but got '${clip(text)}'`);
          this.expect('</i8>');
          return text;
        }
        break;
      case 100: // d
        if (s.startsWith('<double>', p)) {
          this.p = p + 8;
          const value = this.double();
          this.expect('</double>');
          return value;
        }
        if (s.startsWith('<dateTime.iso8601>', p)) {
          this.p = p + 18;
          const text = this.text();
          let date: Date;
          try {
            date = decodeIso8601(text);
          } catch (error) {
            this.fail(`expected an ISO 8601 datetime but got '${clip(text)}'`, error);
          }
          this.expect('</dateTime.iso8601>');
          return date;
        }
        break;
      case 98: // b
        if (s.startsWith('<boolean>', p)) {
          this.p = p + 9;
          const text = this.text();
          this.expect('</boolean>');
          if (text === '1') return true;
          if (text === '0') return false;
          this.fail(`illegal boolean value '${clip(text)}'`);
        }
        if (s.startsWith('<base64>', p)) {
          this.p = p + 8;
          const text = this.text();
          this.expect('</base64>');
          return Buffer.from(text, 'base64');
        }
        if (s.startsWith('<base64/>', p)) {
          this.p = p + 9;
          return Buffer.alloc(0);
        }
        break;
      case 97: // a
        if (s.startsWith('<array>', p)) {
          this.p = p + 7;
          return this.array();
        }
        if (s.startsWith('<array/>', p)) {
          this.p = p + 8;
          return [];
        }
        break;
      case 110: // n
        if (s.startsWith('<nil/>', p)) {
          this.p = p + 6;
          return null;
        }
        if (s.startsWith('<nil>', p)) {
          this.p = p + 5;
          this.text();
          this.expect('</nil>');
          return null;
        }
        break;
      default:
        break;
    }
    if (p >= this.n) this.fail('expected a type tag');
    const end = s.indexOf('>', p);
    this.fail(`unknown XML-RPC tag '${clip(s.slice(p + 1, end < 0 ? p + 20 : end))}'`);
  }

  /** After `<struct>`: members up to and including `</struct>`. */
  private struct(): Record<string, unknown> {
    const s = this.s;
    const cache = this.keyCache;
    const object: Record<string, unknown> = {};
    let index = 0;
    for (;;) {
      let p = this.p;
      // Python's layout is `\n<member>\n<name>`; anything else goes through misc().
      if (s.startsWith(MEMBER_HEAD, p)) {
        p += MEMBER_HEAD.length;
      } else {
        this.misc();
        p = this.p;
        if (!s.startsWith('<member>', p)) {
          this.expect('</struct>');
          return object;
        }
        this.p = p + 8;
        this.misc();
        p = this.p;
        if (s.startsWith('<name/>', p)) {
          this.p = p + 7;
          this.member(object, '');
          index++;
          continue;
        }
        if (!s.startsWith('<name>', p)) this.fail('expected <name>');
        p += 6;
      }
      let key: string;
      const cached = cache[index];
      // Reuse the name of the same position in the previous struct when the raw text matches
      // it exactly: no slice, and an already internalized property key.
      if (
        cached !== undefined &&
        s.startsWith(cached, p) &&
        s.startsWith('</name>', p + cached.length)
      ) {
        key = cached;
        this.p = p + cached.length + 7;
      } else {
        this.p = p;
        key = this.text();
        this.expect('</name>');
        if (CACHEABLE_NAME.test(key)) cache[index] = key;
      }
      this.member(object, key);
      index++;
    }
  }

  /** After `</name>`: the member's value and `</member>`, stored under `key`. */
  private member(object: Record<string, unknown>, key: string): void {
    const s = this.s;
    if (
      s.charCodeAt(this.p) === 10 &&
      s.charCodeAt(this.p + 1) === 60 &&
      s.charCodeAt(this.p + 2) === 118
    )
      this.p++;
    else this.misc();
    const value = this.value();
    if (s.startsWith('\n</member>', this.p)) {
      this.p += 10;
    } else {
      this.misc();
      this.expect('</member>');
    }
    if (key === '__proto__') {
      Object.defineProperty(object, key, {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    } else {
      object[key] = value;
    }
  }

  /** After `<array>`: `<data>` values `</data>` `</array>`. */
  private array(): unknown[] {
    const s = this.s;
    this.misc();
    let values: unknown[] = [];
    if (s.startsWith('<data>', this.p)) {
      this.p += 6;
      const start = this.top;
      for (;;) {
        this.misc();
        const p = this.p;
        if (s.charCodeAt(p) === 60 && s.charCodeAt(p + 1) === 47) {
          this.expect('</data>');
          break;
        }
        this.keep(this.value());
      }
      values = this.take(start);
    } else if (s.startsWith('<data/>', this.p)) {
      this.p += 7;
    } else {
      this.fail('expected <data>');
    }
    this.misc();
    this.expect('</array>');
    return values;
  }

  /** After Python's `<value><array><data>\n`: values up to and including `</value>`. */
  private arrayItems(): unknown[] {
    const s = this.s;
    const start = this.top;
    for (;;) {
      if (s.startsWith('</data></array></value>', this.p)) {
        this.p += 23;
        return this.take(start);
      }
      if (s.charCodeAt(this.p) !== 60 || s.charCodeAt(this.p + 1) !== 118) {
        // Not Python's layout after all: finish through the general path.
        this.misc();
        if (s.charCodeAt(this.p) === 60 && s.charCodeAt(this.p + 1) === 47) {
          const values = this.take(start);
          this.expect('</data>');
          this.misc();
          this.expect('</array>');
          return this.endValue(values) as unknown[];
        }
      }
      this.keep(this.value());
      if (s.charCodeAt(this.p) === 10) this.p++;
    }
  }

  /** Adds an item to the innermost array being decoded (after its own items are taken). */
  private keep(value: unknown): void {
    this.items[this.top++] = value;
  }

  /** The items kept since `start`, as an array of their exact length. */
  private take(start: number): unknown[] {
    const values = this.items.slice(start, this.top);
    this.top = start;
    return values;
  }

  /** An `<int>`/`<i4>` body: parseInt's result, computed in place for plain digits. */
  private integer(): number {
    const s = this.s;
    const start = this.p;
    const end = s.indexOf('<', start);
    if (end < 0) this.fail('truncated integer');
    let i = start;
    let negative = false;
    if (s.charCodeAt(i) === 45) {
      negative = true;
      i++;
    }
    if (i < end && end - start < 16) {
      let value = 0;
      for (; i < end; i++) {
        const digit = s.charCodeAt(i) - 48;
        if (digit < 0 || digit > 9) break;
        value = value * 10 + digit;
      }
      if (i === end) {
        this.p = end;
        return negative ? -value : value;
      }
    }
    const text = this.text();
    const value = parseInt(text, 10);
    if (Number.isNaN(value)) this.fail(`expected an integer but got '${clip(text)}'`);
    return value;
  }

  /** A `<double>` body: parseFloat's result, computed exactly in place for short decimals. */
  private double(): number {
    const s = this.s;
    const start = this.p;
    const end = s.indexOf('<', start);
    if (end < 0) this.fail('truncated double');
    let i = start;
    let negative = false;
    if (s.charCodeAt(i) === 45) {
      negative = true;
      i++;
    }
    let mantissa = 0;
    let digits = 0;
    let fraction = -1;
    for (; i < end; i++) {
      const c = s.charCodeAt(i);
      if (c >= 48 && c <= 57) {
        mantissa = mantissa * 10 + (c - 48);
        digits++;
      } else if (c === 46 && fraction < 0) {
        fraction = 0;
        continue;
      } else {
        break;
      }
      if (fraction >= 0) fraction++;
    }
    if (i === end && digits > 0 && digits <= 15 && s.charCodeAt(end - 1) !== 46) {
      this.p = end;
      const value = fraction > 0 ? mantissa / (POWERS_OF_TEN[fraction] as number) : mantissa;
      return negative ? -value : value;
    }
    const text = this.text();
    const value = parseFloat(text);
    if (Number.isNaN(value)) this.fail(`expected a double but got '${clip(text)}'`);
    return value;
  }

  // --- text ---------------------------------------------------------------------------------

  /**
   * Character data from p up to the next tag (not CDATA, not a comment), entities decoded,
   * CDATA sections included; leaves p at that tag's `<`.
   */
  private text(): string {
    const s = this.s;
    const p = this.p;
    const q = s.indexOf('<', p);
    if (q < 0) this.fail('truncated text');
    if (s.charCodeAt(q + 1) === 33) return this.mixedText();
    this.p = q;
    if (q === p) return '';
    let high = this.n;
    if (this.body) {
      high = this.high;
      if (high < p) {
        // test(), not exec(): the same position through lastIndex, without a match array.
        HIGH_BYTE.lastIndex = p;
        high = HIGH_BYTE.test(s) ? HIGH_BYTE.lastIndex - 1 : this.n;
        this.high = high;
      }
    }
    const raw = this.chars(p, q, high < q);
    let amp = this.amp;
    if (amp < p) {
      amp = s.indexOf('&', p);
      if (amp < 0) amp = this.n;
      this.amp = amp;
    }
    return amp < q ? decodeEntities(raw, this) : raw;
  }

  /** The slow path of text(): character data mixed with CDATA sections and comments. */
  private mixedText(): string {
    const s = this.s;
    let p = this.p;
    let out = '';
    for (;;) {
      const q = s.indexOf('<', p);
      if (q < 0) this.fail('truncated text');
      const raw = this.chars(p, q, this.hasHighByte(p, q));
      out += raw.includes('&') ? decodeEntities(raw, this) : raw;
      if (s.startsWith('<![CDATA[', q)) {
        const end = s.indexOf(']]>', q + 9);
        if (end < 0) this.fail('truncated CDATA section');
        out += this.chars(q + 9, end, this.hasHighByte(q + 9, end));
        p = end + 3;
      } else if (s.startsWith('<!--', q)) {
        const end = s.indexOf('-->', q + 4);
        if (end < 0) this.fail('truncated comment');
        p = end + 3;
      } else {
        this.p = q;
        return out;
      }
    }
  }

  /** Whether raw text p..q holds a byte ≥ 0x80 (which latin1 text must decode as UTF-8). */
  private hasHighByte(p: number, q: number): boolean {
    return this.body !== undefined && /[\x80-\xff]/.test(this.s.slice(p, q));
  }

  /** The characters raw text p..q encodes, as a string that holds no reference to the body. */
  private chars(p: number, q: number, highByte: boolean): string {
    const body = this.body;
    if (!body) return this.s.slice(p, q);
    if (highByte) return body.bytes.toString('utf8', body.offset + p, body.offset + q);
    return q - p < MIN_SLICED_LENGTH
      ? this.s.slice(p, q)
      : body.bytes.toString('latin1', body.offset + p, body.offset + q);
  }

  /** Skips whitespace, comments and processing instructions. */
  private misc(): void {
    const s = this.s;
    let p = this.p;
    for (;;) {
      let c = s.charCodeAt(p);
      while (c === 32 || c === 10 || c === 13 || c === 9) c = s.charCodeAt(++p);
      if (c === 60) {
        const d = s.charCodeAt(p + 1);
        if (d === 33 && s.startsWith('<!--', p)) {
          const end = s.indexOf('-->', p + 4);
          if (end < 0) this.fail('truncated comment');
          p = end + 3;
          continue;
        }
        if (d === 63) {
          const end = s.indexOf('?>', p + 2);
          if (end < 0) this.fail('truncated processing instruction');
          p = end + 2;
          continue;
        }
      }
      this.p = p;
      return;
    }
  }

  private expect(tag: string): void {
    if (!this.s.startsWith(tag, this.p)) this.fail(`expected ${tag}`);
    this.p += tag.length;
  }

  fail(reason: string, cause?: unknown): never {
    // A document that does not end with its root's end tag was cut short: a proxy or a dying
    // worker, worth another attempt. Anything else is a server that does not speak XML-RPC.
    if (this.rootEnd !== '' && !this.s.trimEnd().endsWith(this.rootEnd)) {
      throw new OdooError(
        'ODOO_PROTOCOL',
        `truncated XML-RPC document (${reason}) at offset ${this.p}`,
        {
          retryable: true,
          cause,
        },
      );
    }
    throw new OdooError(
      'ODOO_PROTOCOL',
      `malformed XML-RPC document: ${reason} at offset ${this.p}`,
      { cause },
    );
  }
}

/** A tag name's first character (not `/`, `!`, `?`). */
function isTagStart(c: number): boolean {
  return c >= 97 && c <= 122;
}

function decodeEntities(raw: string, parser: Parser): string {
  let out = '';
  let from = 0;
  for (;;) {
    const amp = raw.indexOf('&', from);
    if (amp < 0) return from === 0 ? raw : out + raw.slice(from);
    const semicolon = raw.indexOf(';', amp + 1);
    if (semicolon < 0 || semicolon - amp > 12) parser.fail('unterminated entity');
    out += raw.slice(from, amp) + resolveEntity(raw.slice(amp + 1, semicolon), parser);
    from = semicolon + 1;
  }
}

function resolveEntity(name: string, parser: Parser): string {
  const named = ENTITIES[name];
  if (named !== undefined) return named;
  if (name.charCodeAt(0) === 35) {
    const hex = name.charCodeAt(1) === 120 || name.charCodeAt(1) === 88;
    const digits = name.slice(hex ? 2 : 1);
    const valid = hex ? /^[0-9a-fA-F]{1,6}$/.test(digits) : /^[0-9]{1,7}$/.test(digits);
    const codePoint = valid ? parseInt(digits, hex ? 16 : 10) : NaN;
    if (codePoint >= 0 && codePoint <= 0x10ffff) return String.fromCodePoint(codePoint);
  }
  parser.fail(`unknown entity '&${clip(name)};'`);
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
