/**
 * A decoder for XML-RPC documents (`<methodResponse>`, and `<methodCall>` for the sandbox) that
 * scans the body's bytes and builds the values directly, with no generic XML tree, no event
 * stream and no copy of the body as text.
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
 * Decodes an XML-RPC `<methodResponse>`, given as the UTF-8 bytes of the body (what the
 * transport reads) or as text (encoded to UTF-8 first).
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
  const bytes =
    typeof xml === 'string'
      ? Buffer.from(xml, 'utf8')
      : Buffer.isBuffer(xml)
        ? xml
        : Buffer.from(xml.buffer, xml.byteOffset, xml.byteLength);
  // A UTF-8 byte order mark.
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return new Parser(bytes, start);
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

function isSpace(c: number | undefined): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

const decodeIso8601 = (text: string): Date => xmlrpc.dateFormatter.decodeIso8601(text);

// Powers of ten that are exact doubles: m / 10^k with m < 2^53 is then correctly rounded, so
// equal to parseFloat's result.
const POWERS_OF_TEN = [
  1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
];

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

// Member names cached by position must be plain ASCII: only then is each byte of their raw
// text one of their characters.
const CACHEABLE_NAME = /^[\w.:\- ]+$/;
/** How Python's marshaller opens each struct member. */
const MEMBER_HEAD = '\n<member>\n<name>';
/** Text up to this many bytes is searched for its end here rather than by a call into Node. */
const SHORT_SCAN = 32;

const LT = 60;
const GT = 62;
const AMP = 38;
const SLASH = 47;
const BANG = 33;
const QUESTION = 63;
const NEWLINE = 10;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;

/**
 * The parser reads the body's bytes themselves: a page's answer (megabytes over XML-RPC) is
 * never copied into a string, and every value is decoded from its own bytes into a string of its
 * own, which holds no reference to the body. Tags and markup are ASCII, so they are matched byte
 * by byte; only values are decoded from UTF-8.
 */
class Parser {
  private readonly b: Buffer;
  private readonly n: number;
  private p: number;
  /** Index of the next '&' at or after some point ≤ p, or n; recomputed when passed. */
  private amp = -1;
  /** Member names of the last struct seen, by position: records of one page share them. */
  private readonly keyCache: string[] = [];
  private rootEnd = '';
  /**
   * The values of the arrays being decoded, innermost last, from `start` to `top`: each array is
   * copied out at its exact length when it ends. An array grown by `push` keeps room for 17
   * values, and a page of records holds thousands of `[id, name]` pairs.
   */
  private readonly items: unknown[] = [];
  private top = 0;

  constructor(bytes: Buffer, start: number) {
    this.b = bytes;
    this.n = bytes.length;
    this.p = start;
  }

  methodResponse(): XmlRpcResponse {
    this.prolog('<methodResponse>', 'an XML-RPC method response');
    this.misc();
    let result: XmlRpcResponse;
    if (this.at('<params>', this.p)) {
      this.p += 8;
      const params = this.params();
      if (params.length > 1) this.fail('the response has more than one param');
      result = { fault: false, value: params[0] };
    } else if (this.at('<params/>', this.p)) {
      this.p += 9;
      result = { fault: false, value: undefined };
    } else if (this.at('<fault>', this.p)) {
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
    this.misc();
    this.expect('<methodName>');
    const methodName = this.text();
    this.expect('</methodName>');
    this.misc();
    let params: unknown[] = [];
    if (this.at('<params>', this.p)) {
      this.p += 8;
      params = this.params();
    } else if (this.at('<params/>', this.p)) {
      this.p += 9;
    }
    this.misc();
    this.expect('</methodCall>');
    this.epilog();
    return { methodName, params };
  }

  // --- bytes --------------------------------------------------------------------------------

  /** Whether the bytes at p spell `tag` (ASCII); false past the end. */
  private at(tag: string, p: number): boolean {
    const b = this.b;
    for (let i = 0; i < tag.length; i++) if (b[p + i] !== tag.charCodeAt(i)) return false;
    return true;
  }

  /** Index of the next `byte` at or after p, or -1. */
  private find(byte: number, p: number): number {
    const b = this.b;
    const end = Math.min(this.n, p + SHORT_SCAN);
    for (let i = p; i < end; i++) if (b[i] === byte) return i;
    return end < this.n ? b.indexOf(byte, end) : -1;
  }

  /** The text bytes p..q encode, decoded from UTF-8. */
  private chars(p: number, q: number): string {
    return this.b.toString('utf8', p, q);
  }

  // --- document structure -------------------------------------------------------------------

  private prolog(rootTag: string, what: string): void {
    const b = this.b;
    let p = this.p;
    while (isSpace(b[p])) p++;
    if (p >= this.n) {
      throw new OdooError('ODOO_PROTOCOL', 'empty body instead of XML-RPC', { retryable: true });
    }
    this.rootEnd = `</${rootTag.slice(1)}`;
    this.misc();
    if (this.at(rootTag, this.p)) {
      this.p += rootTag.length;
      return;
    }
    if (looksLikeHtml(b.toString('utf8', 0, 512))) {
      throw new OdooError('ODOO_PROTOCOL', 'HTML page instead of XML-RPC', { retryable: true });
    }
    // A body cut inside the root tag is truncated, not foreign.
    const rest = this.n - this.p;
    if (rest < rootTag.length && this.at(rootTag.slice(0, rest), this.p)) {
      this.fail(`expected ${rootTag}`);
    }
    throw new OdooError(
      'ODOO_PROTOCOL',
      `malformed XML-RPC document: not ${what} (starts with '${clip(this.chars(this.p, this.p + 40))}')`,
    );
  }

  private epilog(): void {
    this.misc();
    if (this.p < this.n) this.fail('content after the document element');
  }

  /** After `<params>`: each `<param><value>…</value></param>` up to `</params>`. */
  private params(): unknown[] {
    const values: unknown[] = [];
    for (;;) {
      this.misc();
      if (this.at('<param>', this.p)) {
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
    const b = this.b;
    let p = this.p;
    if (b[p] !== LT || !this.at('<value', p)) this.fail('expected <value>');
    const close = b[p + 6];
    if (close === GT) {
      p += 7;
    } else if (close === SLASH && b[p + 7] === GT) {
      this.p = p + 8;
      return '';
    } else {
      this.fail('expected <value>');
    }
    this.p = p;
    // Fast paths for what Python's marshaller writes (`<value><string>…</string></value>`):
    // one check for both closing tags. Anything else takes the general path below.
    if (b[p] === LT) {
      const type = b[p + 1];
      if (type === 115 && this.at('<string>', p)) {
        this.p = p + 8;
        const text = this.text();
        if (this.at('</string></value>', this.p)) {
          this.p += 17;
          return text;
        }
        this.expect('</string>');
        return this.endValue(text);
      }
      if (type === 105 && this.at('<int>', p)) {
        this.p = p + 5;
        const integer = this.integer();
        if (this.at('</int></value>', this.p)) {
          this.p += 14;
          return integer;
        }
        this.expect('</int>');
        return this.endValue(integer);
      }
      if (type === 97 && this.at('<array><data>\n', p)) {
        this.p = p + 14;
        return this.arrayItems();
      }
      if (type === 98 && this.at('</boolean></value>', p + 10) && this.at('<boolean>', p)) {
        const digit = b[p + 9];
        if (digit === 49 || digit === ZERO) {
          this.p = p + 28;
          return digit === 49;
        }
      }
      if (type === 100 && this.at('<double>', p)) {
        this.p = p + 8;
        const double = this.double();
        if (this.at('</double></value>', this.p)) {
          this.p += 17;
          return double;
        }
        this.expect('</double>');
        return this.endValue(double);
      }
    }
    // A typed value starts right away in every server's output; anything else (text, CDATA,
    // comments) goes through text(), whose result is the value when no type tag follows.
    if (!(b[p] === LT && isTagStart(b[p + 1]))) {
      const text = this.text();
      if (this.at('</value>', this.p)) {
        this.p += 8;
        return text;
      }
      if (!isTagStart(b[this.p + 1])) this.fail('expected a type tag or </value>');
    }
    return this.endValue(this.typed());
  }

  /** After a typed element: `</value>`, ignoring text before it as the xmlrpc package does. */
  private endValue(value: unknown): unknown {
    if (this.at('</value>', this.p)) {
      this.p += 8;
      return value;
    }
    this.text();
    this.expect('</value>');
    return value;
  }

  /** At the `<` of a type tag inside `<value>`. */
  private typed(): unknown {
    const b = this.b;
    const p = this.p;
    switch (b[p + 1]) {
      case 115: // s
        if (this.at('<string>', p)) {
          this.p = p + 8;
          const text = this.text();
          this.expect('</string>');
          return text;
        }
        if (this.at('<struct>', p)) {
          this.p = p + 8;
          return this.struct();
        }
        if (this.at('<string/>', p)) {
          this.p = p + 9;
          return '';
        }
        if (this.at('<struct/>', p)) {
          this.p = p + 9;
          return {};
        }
        break;
      case 105: // i
        if (this.at('<int>', p)) {
          this.p = p + 5;
          const value = this.integer();
          this.expect('</int>');
          return value;
        }
        if (this.at('<i4>', p)) {
          this.p = p + 4;
          const value = this.integer();
          this.expect('</i4>');
          return value;
        }
        if (this.at('<i8>', p)) {
          this.p = p + 4;
          const text = this.text();
          if (!/^-?\d+$/.test(text)) this.fail(`expected an integer (i8) but got '${clip(text)}'`);
          this.expect('</i8>');
          return text;
        }
        break;
      case 100: // d
        if (this.at('<double>', p)) {
          this.p = p + 8;
          const value = this.double();
          this.expect('</double>');
          return value;
        }
        if (this.at('<dateTime.iso8601>', p)) {
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
        if (this.at('<boolean>', p)) {
          this.p = p + 9;
          const text = this.text();
          this.expect('</boolean>');
          if (text === '1') return true;
          if (text === '0') return false;
          this.fail(`illegal boolean value '${clip(text)}'`);
        }
        if (this.at('<base64>', p)) {
          this.p = p + 8;
          const text = this.text();
          this.expect('</base64>');
          return Buffer.from(text, 'base64');
        }
        if (this.at('<base64/>', p)) {
          this.p = p + 9;
          return Buffer.alloc(0);
        }
        break;
      case 97: // a
        if (this.at('<array>', p)) {
          this.p = p + 7;
          return this.array();
        }
        if (this.at('<array/>', p)) {
          this.p = p + 8;
          return [];
        }
        break;
      case 110: // n
        if (this.at('<nil/>', p)) {
          this.p = p + 6;
          return null;
        }
        if (this.at('<nil>', p)) {
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
    const end = b.indexOf(GT, p);
    this.fail(`unknown XML-RPC tag '${clip(this.chars(p + 1, end < 0 ? p + 20 : end))}'`);
  }

  /** After `<struct>`: members up to and including `</struct>`. */
  private struct(): Record<string, unknown> {
    const cache = this.keyCache;
    const object: Record<string, unknown> = {};
    let index = 0;
    for (;;) {
      let p = this.p;
      // Python's layout is `\n<member>\n<name>`; anything else goes through misc().
      if (this.at(MEMBER_HEAD, p)) {
        p += MEMBER_HEAD.length;
      } else {
        this.misc();
        p = this.p;
        if (!this.at('<member>', p)) {
          this.expect('</struct>');
          return object;
        }
        this.p = p + 8;
        this.misc();
        p = this.p;
        if (this.at('<name/>', p)) {
          this.p = p + 7;
          this.member(object, '');
          index++;
          continue;
        }
        if (!this.at('<name>', p)) this.fail('expected <name>');
        p += 6;
      }
      let key: string;
      const cached = cache[index];
      // Reuse the name of the same position in the previous struct when the raw text matches
      // it exactly: no decoding, and an already internalized property key.
      if (cached !== undefined && this.at(cached, p) && this.at('</name>', p + cached.length)) {
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
    const b = this.b;
    const p = this.p;
    if (b[p] === NEWLINE && b[p + 1] === LT && b[p + 2] === 118) this.p++;
    else this.misc();
    const value = this.value();
    if (this.at('\n</member>', this.p)) {
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
    const b = this.b;
    this.misc();
    let values: unknown[] = [];
    if (this.at('<data>', this.p)) {
      this.p += 6;
      const start = this.top;
      for (;;) {
        this.misc();
        const p = this.p;
        if (b[p] === LT && b[p + 1] === SLASH) {
          this.expect('</data>');
          break;
        }
        this.keep(this.value());
      }
      values = this.take(start);
    } else if (this.at('<data/>', this.p)) {
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
    const b = this.b;
    const start = this.top;
    for (;;) {
      if (this.at('</data></array></value>', this.p)) {
        this.p += 23;
        return this.take(start);
      }
      if (b[this.p] !== LT || b[this.p + 1] !== 118) {
        // Not Python's layout after all: finish through the general path.
        this.misc();
        if (b[this.p] === LT && b[this.p + 1] === SLASH) {
          const values = this.take(start);
          this.expect('</data>');
          this.misc();
          this.expect('</array>');
          return this.endValue(values) as unknown[];
        }
      }
      this.keep(this.value());
      if (b[this.p] === NEWLINE) this.p++;
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
    const b = this.b;
    const start = this.p;
    const end = this.find(LT, start);
    if (end < 0) this.fail('truncated integer');
    let i = start;
    let negative = false;
    if (b[i] === MINUS) {
      negative = true;
      i++;
    }
    if (i < end && end - start < 16) {
      let value = 0;
      for (; i < end; i++) {
        const digit = (b[i] as number) - ZERO;
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
    const b = this.b;
    const start = this.p;
    const end = this.find(LT, start);
    if (end < 0) this.fail('truncated double');
    let i = start;
    let negative = false;
    if (b[i] === MINUS) {
      negative = true;
      i++;
    }
    let mantissa = 0;
    let digits = 0;
    let fraction = -1;
    for (; i < end; i++) {
      const c = b[i] as number;
      if (c >= ZERO && c <= NINE) {
        mantissa = mantissa * 10 + (c - ZERO);
        digits++;
      } else if (c === DOT && fraction < 0) {
        fraction = 0;
        continue;
      } else {
        break;
      }
      if (fraction >= 0) fraction++;
    }
    if (i === end && digits > 0 && digits <= 15 && b[end - 1] !== DOT) {
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
    const p = this.p;
    const q = this.find(LT, p);
    if (q < 0) this.fail('truncated text');
    if (this.b[q + 1] === BANG) return this.mixedText();
    this.p = q;
    if (q === p) return '';
    const raw = this.chars(p, q);
    let amp = this.amp;
    if (amp < p) {
      amp = this.b.indexOf(AMP, p);
      if (amp < 0) amp = this.n;
      this.amp = amp;
    }
    return amp < q ? decodeXmlEntities(raw, (reason) => this.fail(reason)) : raw;
  }

  /** The slow path of text(): character data mixed with CDATA sections and comments. */
  private mixedText(): string {
    const b = this.b;
    let p = this.p;
    let out = '';
    for (;;) {
      const q = b.indexOf(LT, p);
      if (q < 0) this.fail('truncated text');
      const raw = this.chars(p, q);
      out += raw.includes('&') ? decodeXmlEntities(raw, (reason) => this.fail(reason)) : raw;
      if (this.at('<![CDATA[', q)) {
        const end = b.indexOf(']]>', q + 9, 'latin1');
        if (end < 0) this.fail('truncated CDATA section');
        out += this.chars(q + 9, end);
        p = end + 3;
      } else if (this.at('<!--', q)) {
        const end = b.indexOf('-->', q + 4, 'latin1');
        if (end < 0) this.fail('truncated comment');
        p = end + 3;
      } else {
        this.p = q;
        return out;
      }
    }
  }

  /** Skips whitespace, comments and processing instructions. */
  private misc(): void {
    const b = this.b;
    let p = this.p;
    for (;;) {
      while (isSpace(b[p])) p++;
      if (b[p] === LT) {
        const d = b[p + 1];
        if (d === BANG && this.at('<!--', p)) {
          const end = b.indexOf('-->', p + 4, 'latin1');
          if (end < 0) this.fail('truncated comment');
          p = end + 3;
          continue;
        }
        if (d === QUESTION) {
          const end = b.indexOf('?>', p + 2, 'latin1');
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
    if (!this.at(tag, this.p)) this.fail(`expected ${tag}`);
    this.p += tag.length;
  }

  fail(reason: string, cause?: unknown): never {
    // A document that does not end with its root's end tag was cut short: a proxy or a dying
    // worker, worth another attempt. Anything else is a server that does not speak XML-RPC.
    if (this.rootEnd !== '' && !this.endsWithRoot()) {
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

  /** Whether the document's last markup, trailing whitespace aside, is its root's end tag. */
  private endsWithRoot(): boolean {
    let end = this.n;
    while (end > 0 && isSpace(this.b[end - 1])) end--;
    const from = end - this.rootEnd.length;
    return from >= 0 && this.at(this.rootEnd, from);
  }
}

/** A tag name's first character (not `/`, `!`, `?`). */
function isTagStart(c: number | undefined): boolean {
  return c !== undefined && c >= 97 && c <= 122;
}

/** Text with its entities (named, decimal, hexadecimal) decoded; `fail` for one that is not. */
export function decodeXmlEntities(raw: string, fail: (reason: string) => never): string {
  let out = '';
  let from = 0;
  for (;;) {
    const amp = raw.indexOf('&', from);
    if (amp < 0) return from === 0 ? raw : out + raw.slice(from);
    const semicolon = raw.indexOf(';', amp + 1);
    if (semicolon < 0 || semicolon - amp > 12) fail('unterminated entity');
    out += raw.slice(from, amp) + resolveEntity(raw.slice(amp + 1, semicolon), fail);
    from = semicolon + 1;
  }
}

function resolveEntity(name: string, fail: (reason: string) => never): string {
  const named = ENTITIES[name];
  if (named !== undefined) return named;
  if (name.charCodeAt(0) === 35) {
    const hex = name.charCodeAt(1) === 120 || name.charCodeAt(1) === 88;
    const digits = name.slice(hex ? 2 : 1);
    const valid = hex ? /^[0-9a-fA-F]{1,6}$/.test(digits) : /^[0-9]{1,7}$/.test(digits);
    const codePoint = valid ? parseInt(digits, hex ? 16 : 10) : NaN;
    if (codePoint >= 0 && codePoint <= 0x10ffff) return String.fromCodePoint(codePoint);
  }
  fail(`unknown entity '&${clip(name)};'`);
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
