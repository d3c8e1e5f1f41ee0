/**
 * The schedule a declaration file may give what it declares (a family, a source): its incremental
 * sync's interval and its reconcile's cron, each in place of SYNC_EVERY and SYNC_RECONCILE_CRON.
 */
import { z } from 'zod';
import { duration } from './env-values.js';

/** Five cron fields, or six with the seconds first (UTC). */
export const CRON_PATTERN = /^\S+(\s+\S+){4,5}$/;
export const CRON_PATTERN_MESSAGE = 'must be a cron pattern such as "0 3 * * *"';

export const declaredSchedule = z
  .object({
    every: duration('must be a duration such as 5m').optional(),
    reconcileCron: z.string().regex(CRON_PATTERN, CRON_PATTERN_MESSAGE).optional(),
  })
  .strict()
  .default({})
  .transform(({ every, reconcileCron }) => ({
    ...(every === undefined ? {} : { everyMs: every }),
    ...(reconcileCron === undefined ? {} : { reconcileCron }),
  }));
