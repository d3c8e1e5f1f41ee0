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
