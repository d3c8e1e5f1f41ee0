/**
 * The run counters, declared once (`runCountsSchema`; the type, the zero, the job reports and the
 * API derive from it): what each step of a run counts, how steps' reports add up, and the bound
 * on what a report carries (job return values live in Redis: they stay small whatever the number
 * of failing records).
 */
import { z } from 'zod';

const count = z.number().int().nonnegative();

export const runCountsSchema = z.object({
  pages: count,
  /** Root records the run read or tried to. */
  recordsSeen: count,
  created: count,
  updated: count,
  unchanged: count,
  archived: count,
  restored: count,
  /** Children Odoo no longer lists under their root, deleted from the copy. */
  childrenDeleted: count,
  failed: count,
  /** Records a scan saw stamped later than Odoo's clock: read, never a watermark. */
  futureStamped: count,
  /** A verify's root records whose copy differed from Odoo by content (children and links included). */
  drifted: count,
  /** Of those, the ones written back to what Odoo holds. */
  healed: count,
  odooCalls: count,
});

export type RunCounts = z.infer<typeof runCountsSchema>;

export const RUN_COUNTERS = Object.keys(runCountsSchema.shape) as (keyof RunCounts)[];

export const ZERO_COUNTS: Readonly<RunCounts> = Object.freeze(
  Object.fromEntries(RUN_COUNTERS.map((key) => [key, 0])) as RunCounts,
);

/** The counters of a row that holds them among other columns (a `sync_log` row). */
export function countsOf(row: Readonly<RunCounts>): RunCounts {
  return addCounts(ZERO_COUNTS, row);
}

export function addCounts(a: Readonly<RunCounts>, b: Partial<RunCounts>): RunCounts {
  const sum = { ...a };
  for (const key of RUN_COUNTERS) sum[key] += b[key] ?? 0;
  return sum;
}

/** What happened to one root record, as a step counts it. */
export type RecordAction =
  'created' | 'updated' | 'unchanged' | 'restored' | 'stale' | 'archived' | 'missing';

export interface RecordOutcome {
  readonly odooId: number;
  readonly action: RecordAction;
  readonly childrenCreated: number;
  readonly childrenUpdated: number;
  readonly childrenDeleted: number;
}

/** The outcome of a root whose children did not move. */
export function outcomeOf(odooId: number, action: RecordAction): RecordOutcome {
  return { odooId, action, childrenCreated: 0, childrenUpdated: 0, childrenDeleted: 0 };
}

/** The counts one root adds to its run. */
export function countOutcome(outcome: RecordOutcome): Partial<RunCounts> {
  const children = outcome.childrenCreated + outcome.childrenUpdated + outcome.childrenDeleted;
  const counts: Partial<RunCounts> = { recordsSeen: 1, childrenDeleted: outcome.childrenDeleted };
  switch (outcome.action) {
    case 'created':
    case 'restored':
    case 'archived':
      counts[outcome.action] = 1;
      break;
    case 'updated':
      counts.updated = 1;
      break;
    default:
      // A root whose own fields did not move but whose children did counts as updated.
      if (children > 0) counts.updated = 1;
      else counts.unchanged = 1;
  }
  return counts;
}

/** How many error entries a report or a run row keeps: enough to diagnose, never a megabyte. */
export const MAX_REPORTED_ERRORS = 20;

export const runErrorSchema = z.object({
  odooId: z.number().int().optional(),
  code: z.string(),
  message: z.string(),
});

/** What a step reports to its parent job: counts and the first errors. */
export const runReportSchema = z.object({
  counts: runCountsSchema,
  errors: z.array(runErrorSchema).max(MAX_REPORTED_ERRORS),
});

export type RunReport = z.infer<typeof runReportSchema>;

export function mergeReports(reports: readonly RunReport[]): RunReport {
  let counts: RunCounts = ZERO_COUNTS;
  const errors: RunReport['errors'] = [];
  for (const report of reports) {
    counts = addCounts(counts, report.counts);
    for (const error of report.errors) {
      if (errors.length >= MAX_REPORTED_ERRORS) break;
      errors.push(error);
    }
  }
  return { counts, errors };
}

export function reportOf(counts: Partial<RunCounts>, errors: RunReport['errors'] = []): RunReport {
  return { counts: addCounts(ZERO_COUNTS, counts), errors: errors.slice(0, MAX_REPORTED_ERRORS) };
}
