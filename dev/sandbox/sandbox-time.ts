/**
 * The sandbox's time: a monotonic clock with microsecond resolution (PostgreSQL's `now()` has
 * microseconds, and Odoo stores them in `write_date`), and the conversions between those
 * microsecond timestamps and Odoo's second-truncated `'YYYY-MM-DD HH:MM:SS'` strings.
 *
 * Timestamps are plain numbers of microseconds since the Unix epoch: exact up to year 2255.
 */

/** Returns the current time in microseconds since the epoch. */
export type MicrosSource = () => number;

/** A clock whose readings strictly increase, like transaction starts on one database. */
export interface SandboxClock {
  nowMicros(): number;
  /** The time now, without taking a reading (the next transaction still gets a later one). */
  peekMicros(): number;
}

/** A source this far behind the last reading was stepped back (a clock set right), not jittered. */
const STEP_BACK_MICROS = 1_000_000;

/**
 * A clock over `source` (default: wall clock refined by the high-resolution timer) that never
 * returns the same or an earlier reading twice — unless its source was stepped back by a second
 * or more, as a server's clock set right by its administrator is: PostgreSQL's `now()`, which
 * stamps Odoo's records, then goes back with it.
 */
export function createSandboxClock(source: MicrosSource = createWallClockSource()): SandboxClock {
  let last = -Infinity;
  return {
    nowMicros() {
      const reading = Math.floor(source());
      last = reading > last || reading <= last - STEP_BACK_MICROS ? reading : last + 1;
      return last;
    },
    peekMicros: () => Math.max(Math.floor(source()), last),
  };
}

/** A hand-driven time source for tests: it moves only when told to. */
export interface ManualClock {
  readonly source: MicrosSource;
  nowMicros(): number;
  advanceMs(milliseconds: number): void;
  advanceMicros(microseconds: number): void;
  set(date: Date): void;
}

export function createManualClock(start: Date): ManualClock {
  let micros = start.getTime() * 1000;
  return {
    source: () => micros,
    nowMicros: () => micros,
    advanceMs(milliseconds) {
      micros += Math.round(milliseconds * 1000);
    },
    advanceMicros(microseconds) {
      micros += Math.round(microseconds);
    },
    set(date) {
      micros = date.getTime() * 1000;
    },
  };
}

function createWallClockSource(): MicrosSource {
  const baseMicros = Date.now() * 1000;
  const baseHr = process.hrtime.bigint();
  return () => baseMicros + Number((process.hrtime.bigint() - baseHr) / 1000n);
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const DAY_STRINGS = new Map<number, string>();

/** Microseconds → Odoo's wire form, truncated (never rounded) to the second. */
export function formatOdooDatetime(micros: number): string {
  const seconds = Math.floor(micros / 1_000_000);
  const day = Math.floor(seconds / 86_400);
  let dayString = DAY_STRINGS.get(day);
  if (dayString === undefined) {
    dayString = new Date(day * 86_400_000).toISOString().slice(0, 10);
    if (DAY_STRINGS.size > 100_000) DAY_STRINGS.clear();
    DAY_STRINGS.set(day, dayString);
  }
  const rest = seconds - day * 86_400;
  const hours = Math.floor(rest / 3600);
  const minutes = Math.floor((rest - hours * 3600) / 60);
  const secs = rest - hours * 3600 - minutes * 60;
  return `${dayString} ${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[secs]}`;
}

/** Microseconds → the UTC day, as Odoo writes a date (`YYYY-MM-DD`). */
export function formatOdooDate(micros: number): string {
  return formatOdooDatetime(micros).slice(0, 10);
}

const DATETIME_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?$/;

/**
 * A datetime value from a domain or a write → microseconds. Accepts Odoo's string (with or
 * without seconds, a fraction as PostgreSQL would), a date alone (midnight), or a `Date`
 * (XML-RPC `dateTime.iso8601`). Returns undefined for anything else.
 */
export function parseDatetimeMicros(value: unknown): number | undefined {
  if (value instanceof Date) {
    const time = value.getTime();
    return Number.isFinite(time) ? time * 1000 : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const match = DATETIME_PATTERN.exec(value.trim());
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) =>
    Number(match[i] ?? 0),
  ) as [number, number, number, number, number, number];
  const millis = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(millis);
  if (date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return undefined;
  const fraction = match[7] === undefined ? 0 : Number(match[7].padEnd(6, '0'));
  return millis * 1000 + fraction;
}

/** A date value ('YYYY-MM-DD', or the day of a `Date`) → the same string; undefined if invalid. */
export function parseDateString(value: unknown): string | undefined {
  if (value instanceof Date)
    return Number.isFinite(value.getTime()) ? value.toISOString().slice(0, 10) : undefined;
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  return parseDatetimeMicros(value) === undefined ? undefined : value;
}
