/**
 * Tryton's JSON value codec: the `__class__` objects trytond uses for Decimal, datetime, date,
 * time, timedelta and bytes (docs/tryton.md §5), decoded into exact JS values and encoded
 * back into the same shapes.
 *
 * Exactness is the point: a `Decimal` stays a decimal string (never a float), a datetime keeps
 * its microseconds (a JS `Date` would drop them), bytes become a `Buffer`. Each value class has
 * a `toJSON()` that yields Tryton's own shape, so a decoded answer serialises back unchanged.
 * This module knows nothing of HTTP or sessions.
 */

const DECIMAL_PATTERN = /^[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|Infinity|Inf|NaN|sNaN)$/;

function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** Python's `Decimal`, kept as its exact decimal text (`"1.0850"` keeps its trailing zero). */
export class TrytonDecimal {
  readonly value: string;

  constructor(value: string) {
    if (!DECIMAL_PATTERN.test(value)) throw new RangeError('not a decimal number');
    this.value = value;
  }

  /** From a decimal string or an integer; JS numbers are refused on purpose (binary floats). */
  static from(value: string | bigint): TrytonDecimal {
    return new TrytonDecimal(typeof value === 'bigint' ? value.toString() : value);
  }

  equals(other: unknown): boolean {
    return other instanceof TrytonDecimal && other.value === this.value;
  }

  toString(): string {
    return this.value;
  }

  toJSON(): { __class__: 'Decimal'; decimal: string } {
    return { __class__: 'Decimal', decimal: this.value };
  }
}

/** Python's naive `datetime` (UTC in trytond), to the microsecond. */
export class TrytonDateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly microsecond: number;

  constructor(parts: {
    year: number;
    month: number;
    day: number;
    hour?: number;
    minute?: number;
    second?: number;
    microsecond?: number;
  }) {
    this.year = checkInteger('year', parts.year, 1, 9999);
    this.month = checkInteger('month', parts.month, 1, 12);
    this.day = checkInteger('day', parts.day, 1, 31);
    this.hour = checkInteger('hour', parts.hour ?? 0, 0, 23);
    this.minute = checkInteger('minute', parts.minute ?? 0, 0, 59);
    this.second = checkInteger('second', parts.second ?? 0, 0, 59);
    this.microsecond = checkInteger('microsecond', parts.microsecond ?? 0, 0, 999_999);
  }

  /** The UTC fields of a JS `Date` (millisecond precision). */
  static fromDate(date: Date): TrytonDateTime {
    return new TrytonDateTime({
      year: date.getUTCFullYear(),
      month: date.getUTCMonth() + 1,
      day: date.getUTCDate(),
      hour: date.getUTCHours(),
      minute: date.getUTCMinutes(),
      second: date.getUTCSeconds(),
      microsecond: date.getUTCMilliseconds() * 1000,
    });
  }

  /** As a JS `Date` read as UTC; the sub-millisecond part is dropped. */
  toDate(): Date {
    const date = new Date(0);
    date.setUTCFullYear(this.year, this.month - 1, this.day);
    date.setUTCHours(this.hour, this.minute, this.second, Math.floor(this.microsecond / 1000));
    return date;
  }

  /** `YYYY-MM-DDTHH:MM:SS.ffffff`, naive like Tryton's value (read it as UTC). */
  toISOString(): string {
    return (
      `${pad(this.year, 4)}-${pad(this.month, 2)}-${pad(this.day, 2)}` +
      `T${pad(this.hour, 2)}:${pad(this.minute, 2)}:${pad(this.second, 2)}.${pad(this.microsecond, 6)}`
    );
  }

  equals(other: unknown): boolean {
    return other instanceof TrytonDateTime && other.toISOString() === this.toISOString();
  }

  toString(): string {
    return this.toISOString();
  }

  toJSON(): {
    __class__: 'datetime';
    year: number;
    month: number;
    day: number;
    hour: number;
    minute: number;
    second: number;
    microsecond: number;
  } {
    return {
      __class__: 'datetime',
      year: this.year,
      month: this.month,
      day: this.day,
      hour: this.hour,
      minute: this.minute,
      second: this.second,
      microsecond: this.microsecond,
    };
  }
}

/** Python's `date`: a calendar day with no time zone. */
export class TrytonDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;

  constructor(parts: { year: number; month: number; day: number }) {
    this.year = checkInteger('year', parts.year, 1, 9999);
    this.month = checkInteger('month', parts.month, 1, 12);
    this.day = checkInteger('day', parts.day, 1, 31);
  }

  /** The UTC calendar day of a JS `Date`. */
  static fromDate(date: Date): TrytonDate {
    return new TrytonDate({
      year: date.getUTCFullYear(),
      month: date.getUTCMonth() + 1,
      day: date.getUTCDate(),
    });
  }

  /** `YYYY-MM-DD`. */
  toISOString(): string {
    return `${pad(this.year, 4)}-${pad(this.month, 2)}-${pad(this.day, 2)}`;
  }

  equals(other: unknown): boolean {
    return other instanceof TrytonDate && other.toISOString() === this.toISOString();
  }

  toString(): string {
    return this.toISOString();
  }

  toJSON(): { __class__: 'date'; year: number; month: number; day: number } {
    return { __class__: 'date', year: this.year, month: this.month, day: this.day };
  }
}

/** Python's `time`: a time of day to the microsecond. */
export class TrytonTime {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly microsecond: number;

  constructor(parts: { hour: number; minute: number; second?: number; microsecond?: number }) {
    this.hour = checkInteger('hour', parts.hour, 0, 23);
    this.minute = checkInteger('minute', parts.minute, 0, 59);
    this.second = checkInteger('second', parts.second ?? 0, 0, 59);
    this.microsecond = checkInteger('microsecond', parts.microsecond ?? 0, 0, 999_999);
  }

  /** `HH:MM:SS.ffffff`. */
  toISOString(): string {
    return `${pad(this.hour, 2)}:${pad(this.minute, 2)}:${pad(this.second, 2)}.${pad(this.microsecond, 6)}`;
  }

  equals(other: unknown): boolean {
    return other instanceof TrytonTime && other.toISOString() === this.toISOString();
  }

  toString(): string {
    return this.toISOString();
  }

  toJSON(): {
    __class__: 'time';
    hour: number;
    minute: number;
    second: number;
    microsecond: number;
  } {
    return {
      __class__: 'time',
      hour: this.hour,
      minute: this.minute,
      second: this.second,
      microsecond: this.microsecond,
    };
  }
}

/** Python's `timedelta`, as the total seconds trytond sends (a float, microsecond resolution). */
export class TrytonTimeDelta {
  readonly seconds: number;

  constructor(seconds: number) {
    if (!Number.isFinite(seconds)) throw new RangeError('seconds must be a finite number');
    this.seconds = seconds;
  }

  equals(other: unknown): boolean {
    return other instanceof TrytonTimeDelta && other.seconds === this.seconds;
  }

  toJSON(): { __class__: 'timedelta'; seconds: number } {
    return { __class__: 'timedelta', seconds: this.seconds };
  }
}

/** The JSON shape of `bytes`; trytond's MIME base64 may hold newlines, which decoding ignores. */
export function encodeTrytonBytes(bytes: Uint8Array): { __class__: 'bytes'; base64: string } {
  return {
    __class__: 'bytes',
    base64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
  };
}

type JsonObject = Record<string, unknown>;

function decodeClass(object: JsonObject): unknown {
  switch (object.__class__) {
    case 'Decimal':
      if (typeof object.decimal !== 'string')
        throw new RangeError('Decimal without a decimal string');
      return new TrytonDecimal(object.decimal);
    case 'datetime':
      return new TrytonDateTime(object as ConstructorParameters<typeof TrytonDateTime>[0]);
    case 'date':
      return new TrytonDate(object as ConstructorParameters<typeof TrytonDate>[0]);
    case 'time':
      return new TrytonTime(object as ConstructorParameters<typeof TrytonTime>[0]);
    case 'timedelta':
      return new TrytonTimeDelta(object.seconds as number);
    case 'bytes':
      if (typeof object.base64 !== 'string') throw new RangeError('bytes without a base64 string');
      return Buffer.from(object.base64.replace(/\s+/g, ''), 'base64');
    default:
      // An unknown class (a newer trytond's) stays a plain object rather than failing the call.
      return undefined;
  }
}

/**
 * Replaces every `__class__` object in parsed JSON with its value class (or `Buffer`),
 * anywhere in the tree. Throws a `RangeError` for a known class with invalid fields.
 */
export function decodeTrytonValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = decodeTrytonValue(value[i]);
    return value;
  }
  const object = value as JsonObject;
  if (typeof object.__class__ === 'string') {
    const decoded = decodeClass(object);
    if (decoded !== undefined) return decoded;
  }
  for (const key of Object.keys(object)) object[key] = decodeTrytonValue(object[key]);
  return object;
}

/**
 * Turns a value into plain JSON data with Tryton's `__class__` shapes: the value classes,
 * `Buffer`/`Uint8Array` (bytes) and JS `Date` (a UTC datetime). Plain objects already in
 * Tryton's shape pass through unchanged. Returns a new tree; the input is not modified.
 */
export function encodeTrytonValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(encodeTrytonValue);
  if (
    value instanceof TrytonDecimal ||
    value instanceof TrytonDateTime ||
    value instanceof TrytonDate ||
    value instanceof TrytonTime ||
    value instanceof TrytonTimeDelta
  ) {
    return value.toJSON();
  }
  if (value instanceof Uint8Array) return encodeTrytonBytes(value);
  if (value instanceof Date) return TrytonDateTime.fromDate(value).toJSON();
  const result: JsonObject = {};
  for (const [key, child] of Object.entries(value)) result[key] = encodeTrytonValue(child);
  return result;
}

/** `JSON.parse` then {@link decodeTrytonValue}; skips the walk when no `__class__` occurs. */
export function parseTrytonJson(text: string): unknown {
  const parsed: unknown = JSON.parse(text);
  return text.includes('"__class__"') ? decodeTrytonValue(parsed) : parsed;
}

/** {@link encodeTrytonValue} then `JSON.stringify`. */
export function stringifyTrytonJson(value: unknown): string {
  return JSON.stringify(encodeTrytonValue(value));
}
