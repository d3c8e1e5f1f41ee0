/** Timestamps of generated records: microseconds since the epoch, all before the sandbox's now. */

export const DAY_MICROS = 86_400_000_000;
export const HOUR_MICROS = 3_600_000_000;

/** Business datetimes are entered by people: whole seconds. */
export function secondsOnly(micros: number): number {
  return Math.floor(micros / 1_000_000) * 1_000_000;
}

/** Stamps of the reference records: created and last written 400 days ago by OdooBot. */
export function referenceStamps(nowMicros: number): Record<string, number> {
  const epoch = nowMicros - 400 * DAY_MICROS;
  return { create_date: epoch, write_date: epoch, create_uid: 1, write_uid: 1 };
}

/**
 * The creation time of record `index` of `count`, spread in order over the past year (an hour
 * kept clear before now), with microseconds.
 */
export function createdAt(nowMicros: number, index: number, count: number, jitter: number): number {
  const span = 365 * DAY_MICROS - HOUR_MICROS;
  return nowMicros - 365 * DAY_MICROS + Math.floor((span * index) / Math.max(count, 1)) + jitter;
}
