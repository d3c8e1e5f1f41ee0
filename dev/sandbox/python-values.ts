/**
 * The few Python value semantics the sandbox must reproduce on the wire: a float that happens
 * to be whole is still a float (`<double>100.0</double>`, not `<int>`), floats print as
 * Python's `repr`, and `None` cannot be marshalled.
 */

/** A Python float. JavaScript numbers that are whole would otherwise go out as ints. */
export class PyFloat {
  constructor(readonly value: number) {}

  /** JSON has no int/float distinction: a float is just a number there. */
  toJSON(): number {
    return this.value;
  }
}

/**
 * Records an ORM read returns for an answer. XML-RPC marshals them straight from the stored rows
 * (the hot path of every benchmark); JSON builds the plain records.
 */
export class RecordList {
  constructor(
    readonly ids: readonly number[],
    /** For lines: each record's BC id (record faults match on it). */
    readonly parentIds: ReadonlyArray<number | null> | undefined,
    private readonly xml: () => string,
    private readonly plain: () => Array<Record<string, PyValue>>,
  ) {}

  /** The `<value>…</value>\n` of the whole list, as Python's marshaller writes it. */
  toXmlRpc(): string {
    return this.xml();
  }

  toJSON(): Array<Record<string, PyValue>> {
    return this.plain();
  }
}

/** A value as a sandbox method returns it, before marshalling. */
export type PyValue =
  | RecordList
  | boolean
  | number
  | string
  | PyFloat
  | null
  | undefined
  | Buffer
  | Date
  | readonly PyValue[]
  | { readonly [key: string]: PyValue };

/**
 * Python's `repr(float)`: the shortest round-tripping digits (as JavaScript's), in positional
 * form with a trailing `.0` for 1e-4 ≤ |x| < 1e16, otherwise as `d.ddde±XX`.
 */
export function pyFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-4 && magnitude < 1e16) {
    // Both languages print these positionally with the same shortest digits.
    return Number.isInteger(value) ? `${value}.0` : String(value);
  }
  const [mantissa, exponentText] = value.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  const sign = exponent < 0 ? '-' : '+';
  return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

/**
 * Python's `json.dumps(value, sort_keys=True)` with its defaults, byte for byte: `", "` and
 * `": "` separators, keys sorted at every level, floats as `repr` (`100.0`), and
 * `ensure_ascii` (every non-ASCII character as `\uXXXX`, astral ones as surrogate pairs).
 */
export function pythonJsonDumps(value: PyValue): string {
  if (value === null || value === undefined) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'number')
    return Number.isInteger(value) ? String(value) : pyFloatRepr(value);
  if (value instanceof PyFloat) return pyFloatRepr(value.value);
  if (typeof value === 'string') return pythonJsonString(value);
  if (Array.isArray(value)) return `[${(value as PyValue[]).map(pythonJsonDumps).join(', ')}]`;
  if (value instanceof RecordList) return pythonJsonDumps(value.toJSON());
  if (Buffer.isBuffer(value) || value instanceof Date) return pythonJsonString(String(value));
  const struct = value as { readonly [key: string]: PyValue };
  const members = Object.keys(struct)
    .sort()
    .map((key) => `${pythonJsonString(key)}: ${pythonJsonDumps(struct[key])}`);
  return `{${members.join(', ')}}`;
}

const JSON_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

function pythonJsonString(text: string): string {
  let out = '"';
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string;
    const code = text.charCodeAt(index);
    if (JSON_ESCAPES[char] !== undefined) out += JSON_ESCAPES[char];
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += char;
  }
  return `${out}"`;
}
