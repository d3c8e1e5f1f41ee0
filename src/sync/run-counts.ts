/**
 * The run counters, declared once: what each step of a run counts, how steps' reports add up,
 * and the bound on what a report carries (job return values live in Redis: they stay small
 * whatever the number of failing BCs).
 */
import type { SyncRunError } from '../db/schema/index.js';

export interface RunCounts {
  pages: number;
  bcsSeen: number;
  created: number;
  updated: number;
  unchanged: number;
  archived: number;
  restored: number;
  linesDeleted: number;
  failed: number;
  /** Records a scan saw stamped later than Odoo's clock: read, never a watermark. */
  futureStamped: number;
  odooCalls: number;
}

export const ZERO_COUNTS: Readonly<RunCounts> = Object.freeze({
  pages: 0,
  bcsSeen: 0,
  created: 0,
  updated: 0,
  unchanged: 0,
  archived: 0,
  restored: 0,
  linesDeleted: 0,
  failed: 0,
  futureStamped: 0,
  odooCalls: 0,
});

/** The counters of a row that holds them among other columns (a `sync_log` row). */
export function countsOf(row: Readonly<RunCounts>): RunCounts {
  return addCounts(ZERO_COUNTS, row);
}

export function addCounts(a: Readonly<RunCounts>, b: Partial<RunCounts>): RunCounts {
  const sum = { ...a };
  for (const key of Object.keys(ZERO_COUNTS) as (keyof RunCounts)[]) sum[key] += b[key] ?? 0;
  return sum;
}

/** What happened to one BC, as a step counts it. */
export type BcAction =
  'created' | 'updated' | 'unchanged' | 'restored' | 'stale' | 'archived' | 'missing';

export interface BcOutcome {
  readonly odooId: number;
  readonly action: BcAction;
  readonly linesCreated: number;
  readonly linesUpdated: number;
  readonly linesDeleted: number;
}

/** The counts one BC adds to its run. */
export function countOutcome(outcome: BcOutcome): Partial<RunCounts> {
  const lines = outcome.linesCreated + outcome.linesUpdated + outcome.linesDeleted;
  const counts: Partial<RunCounts> = { bcsSeen: 1, linesDeleted: outcome.linesDeleted };
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
      // A BC whose own fields did not move but whose lines did counts as updated.
      if (lines > 0) counts.updated = 1;
      else counts.unchanged = 1;
  }
  return counts;
}

/** How many error entries a report or a run row keeps: enough to diagnose, never a megabyte. */
export const MAX_REPORTED_ERRORS = 20;

/** What a step reports to its parent job: counts and the first errors. */
export interface RunReport {
  readonly counts: RunCounts;
  readonly errors: readonly SyncRunError[];
}

export function mergeReports(reports: readonly RunReport[]): RunReport {
  let counts: RunCounts = ZERO_COUNTS;
  const errors: SyncRunError[] = [];
  for (const report of reports) {
    counts = addCounts(counts, report.counts);
    for (const error of report.errors) {
      if (errors.length >= MAX_REPORTED_ERRORS) break;
      errors.push(error);
    }
  }
  return { counts, errors };
}

export function reportOf(
  counts: Partial<RunCounts>,
  errors: readonly SyncRunError[] = [],
): RunReport {
  return { counts: addCounts(ZERO_COUNTS, counts), errors: errors.slice(0, MAX_REPORTED_ERRORS) };
}
