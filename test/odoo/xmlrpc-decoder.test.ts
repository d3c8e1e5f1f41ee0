/**
 * Differential tests of the fast XML-RPC decoder against the `xmlrpc` package's deserializer:
 * recorded sandbox answers (every type, faults, empty values, many2one pairs, unicode, entities,
 * big pages), hand-written edge documents, and random values (fast-check, fixed seed) written
 * by three serializers. Then robustness: truncated, mutated and HTML documents give the typed
 * protocol error, never another exception or a hang.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { deepStrictEqual } from 'node:assert/strict';
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OdooError } from '../../src/clients/odoo/odoo-errors.js';
import { decodeMethodResponse } from '../../src/clients/odoo/xmlrpc-decoder.js';
import { decodeWithXmlrpcPackage } from '../../dev/reference/xmlrpc-reference-decoder.js';
import { serializeMethodCall } from '../../src/clients/odoo/xmlrpc-transport.js';
import { mulberry32 } from '../../dev/sandbox/sandbox-faults.js';
import { marshalFault, marshalResponse } from '../../dev/sandbox/xmlrpc-marshaller.js';
import { startSandbox, type SandboxHarness } from './sandbox-harness.js';

const FIXTURES = new URL('./fixtures/', import.meta.url);
const packageSerializer = createRequire(import.meta.url)('xmlrpc/lib/serializer.js') as {
  serializeMethodResponse(value: unknown): string;
  serializeFault(fault: unknown): string;
};

/** Both decoders agree on `xml`, given as text and as UTF-8 bytes: same value or fault, deep-strict. */
async function expectSameAsPackage(xml: string): Promise<void> {
  const expected = await decodeWithXmlrpcPackage(xml);
  deepStrictEqual(decodeMethodResponse(xml), expected);
  deepStrictEqual(decodeMethodResponse(Buffer.from(xml, 'utf8')), expected);
}

describe('recorded answers', () => {
  let harness: SandboxHarness;
  const answers = new Map<string, string>();

  beforeAll(async () => {
    harness = await startSandbox({ orders: 400, linesPerOrder: 3, seed: 11 });
    const { sandbox } = harness;
    const post = async (service: string, method: string, params: unknown[]) => {
      const response = await request(`${sandbox.url}/xmlrpc/2/${service}`, {
        method: 'POST',
        body: serializeMethodCall(method, params),
      });
      return response.body.text();
    };
    const kw = (
      model: string,
      method: string,
      args: unknown[],
      kwargs: Record<string, unknown> = {},
      password = sandbox.password,
    ) =>
      post('object', 'execute_kw', [
        sandbox.database,
        sandbox.uid,
        password,
        model,
        method,
        args,
        kwargs,
      ]);
    sandbox.control.write('dimagaz.bc.line', 5, { sequence: 2 ** 33, price_unit: 1.5e-7 });
    sandbox.control.create('dimagaz.bc', {
      partner_id: 1,
      origin: '&amp; <![CDATA[x]]> ]]> \u00a0 \u{1F69A} \r\n',
      notes: '<p>a</p>',
    });
    const context = { active_test: false };
    const calls: Array<[string, Promise<string>]> = [
      ['version', post('common', 'version', [])],
      [
        'authenticate ok',
        post('common', 'authenticate', [sandbox.database, sandbox.username, sandbox.password, {}]),
      ],
      [
        'authenticate refused',
        post('common', 'authenticate', [sandbox.database, sandbox.username, 'bad', {}]),
      ],
      ['search', kw('dimagaz.bc', 'search', [[]], { context })],
      ['search empty', kw('dimagaz.bc', 'search', [[['id', '<', 0]]])],
      ['search_count', kw('dimagaz.bc', 'search_count', [[]], { context })],
      [
        'search_read all fields',
        kw('dimagaz.bc', 'search_read', [[]], { fields: [], context, limit: 150 }),
      ],
      [
        'search_read 1000 lines',
        kw('dimagaz.bc.line', 'search_read', [[]], { fields: [], limit: 1000, order: 'id' }),
      ],
      [
        'search_read lines bare',
        kw('dimagaz.bc.line', 'search_read', [[]], { fields: [], limit: 300, load: '' }),
      ],
      [
        'read',
        kw('dimagaz.bc', 'read', [[1, 2, 3, 401]], {
          fields: ['name', 'notes', 'origin', 'partner_id', 'line_ids'],
        }),
      ],
      ['fields_get', kw('dimagaz.bc', 'fields_get', [])],
      ['create', kw('dimagaz.bc', 'create', [{ partner_id: 2 }])],
      ['write', kw('dimagaz.bc', 'write', [[1], { origin: 'x' }])],
      ['fault 1', kw('dimagaz.bc', 'search_read', [[]], { fields: ['nope'] })],
      ['fault 2', kw('no.model', 'search', [[]])],
      ['fault 3', kw('dimagaz.bc', 'search', [[]], {}, 'bad')],
      ['fault 4', kw('dimagaz.bc', '_private', [[]])],
    ];
    for (const [name, answer] of calls) answers.set(name, await answer);
  });

  afterAll(async () => {
    await harness.close();
  });

  it('decodes every recorded sandbox answer exactly like the xmlrpc package', async () => {
    expect(answers.size).toBe(17);
    for (const [name, xml] of answers) {
      try {
        await expectSameAsPackage(xml);
      } catch (error) {
        throw new Error(`answer '${name}' differs`, { cause: error });
      }
    }
    expect(decodeMethodResponse(answers.get('fault 3') as string)).toEqual({
      fault: true,
      faultCode: 3,
      faultString: 'Access Denied',
    });
    const page = decodeMethodResponse(answers.get('search_read 1000 lines') as string);
    expect(page.fault === false && Array.isArray(page.value) && page.value.length).toBe(1000);
  });

  it('decodes the committed fixtures exactly like the xmlrpc package', async () => {
    const files = readdirSync(FIXTURES).filter((file) => file.endsWith('.xml'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const file of files)
      await expectSameAsPackage(readFileSync(new URL(file, FIXTURES), 'utf8'));
  });
});

describe('hand-written documents', () => {
  const wrap = (value: string) =>
    `<?xml version="1.0"?><methodResponse><params><param>${value}</param></params></methodResponse>`;
  const documents = [
    wrap('<value>untyped &amp; plain</value>'),
    wrap('<value></value>'),
    wrap('<value/>'),
    wrap('<value>  spaced  </value>'),
    wrap('<value>\n  <string>ws around typed</string>\n</value>'),
    wrap('<value><i4>-42</i4></value>'),
    wrap('<value><int> 17</int></value>'),
    wrap('<value><int>+5</int></value>'),
    wrap('<value><int>-0</int></value>'),
    wrap('<value><int>007</int></value>'),
    wrap('<value><i8>-9007199254740993</i8></value>'),
    wrap('<value><double>-0.0</double></value>'),
    wrap('<value><double>1e-05</double></value>'),
    wrap('<value><double>12345678901234567890.5</double></value>'),
    wrap('<value><double>.5</double></value>'),
    wrap('<value><double> 2.5</double></value>'),
    wrap('<value><boolean>1</boolean></value>'),
    wrap('<value><nil/></value>'),
    wrap('<value><nil></nil></value>'),
    wrap('<value><string/></value>'),
    wrap('<value><string></string></value>'),
    wrap('<value><string>&lt;&gt;&amp;&quot;&apos;&#65;&#x1F600;&#233;</string></value>'),
    wrap('<value><string><![CDATA[<raw> & ]]></string></value>'),
    wrap('<value><string>a<![CDATA[b]]>c<!-- note -->d</string></value>'),
    wrap('<value><string>line1\r\nline2\ttab</string></value>'),
    wrap('<value><base64>aGVsbG8gd29ybGQ=</base64></value>'),
    wrap('<value><base64>\naGVs\nbG8=\n</base64></value>'),
    wrap('<value><dateTime.iso8601>20250131T23:59:58</dateTime.iso8601></value>'),
    wrap('<value><dateTime.iso8601>2025-01-31T23:59:58Z</dateTime.iso8601></value>'),
    wrap('<value><array><data></data></array></value>'),
    wrap('<value><array><data/></array></value>'),
    wrap('<value><struct></struct></value>'),
    wrap(
      '<value><struct><member><name>a</name><value><int>1</int></value></member><member><name>a</name><value><int>2</int></value></member></struct></value>',
    ),
    wrap('<value><struct><member><name></name><value>empty key</value></member></struct></value>'),
    wrap(
      '<value><struct><member><name>k&amp;v</name><value><array><data><value><struct></struct></value><value>x</value></data></array></value></member></struct></value>',
    ),
    '<?xml version="1.0"?>\n<!-- a comment -->\n<methodResponse>\n<params>\n<param>\n<value><int>1</int></value>\n</param>\n</params>\n</methodResponse>\n\n',
    '\ufeff<?xml version="1.0" encoding="UTF-8"?><methodResponse><params/></methodResponse>',
    '<methodResponse><params></params></methodResponse>',
    wrap(
      '<value><array><data>\n<!-- c --><value><int>1</int></value>\n<!-- d -->\n</data></array></value>',
    ),
    wrap('<value><array><data>\n</data>\n</array>\n</value>'),
    wrap(
      '<value><struct>\n<member>\n<name>a</name>\n<!-- x --><value><boolean>1</boolean></value>\n<!-- y --></member>\n</struct></value>',
    ),
    wrap(
      '<value><struct>\n<member>\n<name>a</name>\n  <value><boolean> 1</boolean></value>\n</member>\n</struct></value>',
    ).replace('<boolean> 1', '<boolean>1'),
    marshalFault(1, 'Traceback (most recent call last):\n  File "x"\nValueError: <bad> & worse\n'),
  ];

  it('decodes edge documents exactly like the xmlrpc package', async () => {
    for (const xml of documents) {
      try {
        await expectSameAsPackage(xml);
      } catch (error) {
        throw new Error(`document differs: ${xml}`, { cause: error });
      }
    }
  });
});

// --- random values ----------------------------------------------------------------------------

const XML_TEXT = /^[\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;
const text = fc.string({ unit: 'binary', maxLength: 24 }).filter((value) => XML_TEXT.test(value));
const key = text.filter((value) => value !== '__proto__');
const leaf = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  text,
  fc.constantFrom('', ' ', '&', '<tag>', ']]>', 'a & b < c > d', 'Société 🚚'),
  fc.constant(null),
  fc.uint8Array({ maxLength: 24 }).map((bytes) => Buffer.from(bytes)),
  fc.integer({ min: 0, max: 4_000_000_000 }).map((seconds) => new Date(seconds * 1000)),
);
const { value: anyValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 6 }),
    fc.dictionary(key, tie('value'), { maxKeys: 6 }),
  ),
}));

/** Values the Odoo marshaller can write: no None, bytes or dates; whole numbers are ints, in int32. */
const odooValue = anyValue.filter(function odooSafe(value: unknown): boolean {
  if (value === null || Buffer.isBuffer(value) || value instanceof Date) return false;
  if (typeof value === 'number' && Number.isInteger(value))
    return value >= -(2 ** 31) && value <= 2 ** 31 - 1;
  if (Array.isArray(value)) return value.every(odooSafe);
  if (typeof value === 'object') return Object.values(value).every(odooSafe);
  return true;
});

/** A third writer with the liberties other servers and proxies take: untyped strings, i4, whitespace, comments, char refs, CDATA. */
function noisySerialize(value: unknown, seed: number): string {
  const random = mulberry32(seed);
  const pick = (p: number) => random() < p;
  const ws = () =>
    (pick(0.3)
      ? ['\n', ' ', '\t', '\r\n', '\n  ', '\n<!-- c -->', '<!--x-->\n', '\n<?pi x?>\n'][
          Math.floor(random() * 8)
        ]
      : '') as string;
  const escapeText = (raw: string): string => {
    let out = '';
    for (const char of raw) {
      if (char === '&') out += pick(0.5) ? '&amp;' : '&#38;';
      else if (char === '<') out += pick(0.5) ? '&lt;' : '&#x3C;';
      else if (char === '>') out += pick(0.5) ? '&gt;' : char;
      else if (char === '\r') out += '&#13;';
      else if (pick(0.05)) out += `&#x${(char.codePointAt(0) as number).toString(16)};`;
      else out += char;
    }
    if (!raw.includes(']]>') && pick(0.2)) return `<![CDATA[${raw}]]>`;
    return out;
  };
  const dump = (item: unknown): string => {
    let inner: string;
    if (item === null) inner = pick(0.5) ? '<nil/>' : '<nil></nil>';
    else if (typeof item === 'boolean') inner = `<boolean>${item ? 1 : 0}</boolean>`;
    else if (typeof item === 'number') {
      inner =
        Number.isInteger(item) && !Object.is(item, -0)
          ? pick(0.5)
            ? `<i4>${item}</i4>`
            : `<int>${item}</int>`
          : `<double>${String(item)}</double>`;
    } else if (typeof item === 'string') {
      if (item === '' && pick(0.5)) inner = '<string/>';
      else if (pick(0.3) && item.trim() === item) return `<value>${escapeText(item)}</value>`;
      else inner = `<string>${escapeText(item)}</string>`;
    } else if (Buffer.isBuffer(item)) inner = `<base64>${item.toString('base64')}</base64>`;
    else if (item instanceof Date)
      inner = `<dateTime.iso8601>${item.toISOString().slice(0, 19)}Z</dateTime.iso8601>`;
    else if (Array.isArray(item))
      inner = `<array>${ws()}<data>${ws()}${item.map((element) => dump(element) + ws()).join('')}</data>${ws()}</array>`;
    else {
      const members = Object.entries(item as Record<string, unknown>)
        .map(
          ([name, element]) =>
            `<member>${ws()}<name>${escapeText(name)}</name>${ws()}${dump(element)}${ws()}</member>${ws()}`,
        )
        .join('');
      inner = `<struct>${ws()}${pick(0.1) ? '<!-- c -->' : ''}${members}</struct>`;
    }
    return `<value>${inner}</value>`;
  };
  return `<?xml version="1.0"?>${ws()}<methodResponse>${ws()}<params>${ws()}<param>${ws()}${dump(value)}${ws()}</param>${ws()}</params>${ws()}</methodResponse>${ws()}`;
}

describe('random values (fast-check, fixed seed)', () => {
  const settings = { seed: 20_250_601, numRuns: 300 };

  it('agrees with the package on what the xmlrpc package serializer writes', async () => {
    await fc.assert(
      fc.asyncProperty(anyValue, async (value) => {
        await expectSameAsPackage(packageSerializer.serializeMethodResponse(value));
      }),
      settings,
    );
  });

  it('agrees with the package on what the Odoo marshaller writes, faults included', async () => {
    await fc.assert(
      fc.asyncProperty(odooValue, text, async (value, faultText) => {
        await expectSameAsPackage(marshalResponse(value as never));
        await expectSameAsPackage(marshalFault(1, faultText));
      }),
      settings,
    );
  });

  it('agrees with the package on noisy but valid documents', async () => {
    await fc.assert(
      fc.asyncProperty(anyValue, fc.integer(), async (value, seed) => {
        await expectSameAsPackage(noisySerialize(value, seed));
      }),
      settings,
    );
  });
});

// --- robustness -------------------------------------------------------------------------------

function expectProtocolError(run: () => unknown): OdooError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(OdooError);
    expect((error as OdooError).code).toBe('ODOO_PROTOCOL');
    return error as OdooError;
  }
  throw new Error('expected ODOO_PROTOCOL');
}

describe('malformed input', () => {
  const sample = readFileSync(new URL('search-read-line-bare.xml', FIXTURES), 'utf8');

  it('reports every truncation of an answer as a retryable protocol error', () => {
    const complete = sample.lastIndexOf('</methodResponse>') + '</methodResponse>'.length;
    for (let cut = 0; cut < complete; cut++) {
      const error = expectProtocolError(() => decodeMethodResponse(sample.slice(0, cut)));
      expect(error.retryable).toBe(true);
    }
    expect(decodeMethodResponse(sample.slice(0, complete)).fault).toBe(false);
  });

  it('never throws anything but OdooError on mutated documents', () => {
    fc.assert(
      fc.property(
        fc.nat(sample.length - 1),
        fc.constantFrom('<', '>', '/', '&', ';', 'x', ' ', '"', '!', '?', ''),
        (position, replacement) => {
          const mutated = sample.slice(0, position) + replacement + sample.slice(position + 1);
          try {
            decodeMethodResponse(mutated);
          } catch (error) {
            expect(error).toBeInstanceOf(OdooError);
          }
        },
      ),
      { seed: 7, numRuns: 2_000 },
    );
  });

  it('recognises HTML pages and other non-XML-RPC bodies', () => {
    const html =
      '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n';
    expect(expectProtocolError(() => decodeMethodResponse(html)).message).toContain('HTML page');
    expect(
      expectProtocolError(() =>
        decodeMethodResponse('<!DOCTYPE html><html><body>Login</body></html>'),
      ).message,
    ).toContain('HTML page');
    expect(expectProtocolError(() => decodeMethodResponse('{"jsonrpc":"2.0"}')).message).toContain(
      'not an XML-RPC method response',
    );
    expect(expectProtocolError(() => decodeMethodResponse('')).retryable).toBe(true);
    expectProtocolError(() =>
      decodeMethodResponse(
        '<?xml version="1.0"?><methodResponse><params><param><value><int>x</int></value></param></params></methodResponse>',
      ),
    );
    expectProtocolError(() =>
      decodeMethodResponse(
        '<?xml version="1.0"?><methodResponse><params><param><value><bogus>1</bogus></value></param></params></methodResponse>',
      ),
    );
    expectProtocolError(() =>
      decodeMethodResponse(
        '<?xml version="1.0"?><methodResponse><params><param><value><string>&nbsp;</string></value></param></params></methodResponse>',
      ),
    );
    expectProtocolError(() =>
      decodeMethodResponse(
        '<?xml version="1.0"?><methodResponse><params><param><value><int>1</int></value></param><param><value><int>2</int></value></param></params></methodResponse>',
      ),
    );
  });

  it('decodes a fault answer from the package serializer', async () => {
    await expectSameAsPackage(
      packageSerializer.serializeFault({ faultCode: 4, faultString: 'x & y' }),
    );
  });
});
