/** The three ways a write is decided (src/sync/write-rule.ts), on a test day at fixed times. */
import type { WriteMode } from '../../src/sync/write-rule.js';

/** A time of the test day, `10:00:00`, in UTC. */
export const at = (time: string) => new Date(`2026-11-24T${time}Z`);

/** A run's page: stamps decide; a stamp past 10:05 is from the future. */
export const run: WriteMode = {
  drift: false,
  rewrite: false,
  authoritative: false,
  futureAfter: at('10:05:00'),
  shownThrough: undefined,
};
/** A reconcile's read again: what Odoo says wins. */
export const heal: WriteMode = { ...run, authoritative: true };
/** A verify's read: content decides too. */
export const verify: WriteMode = { ...run, drift: true, authoritative: true };
