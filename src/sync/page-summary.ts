/** Counts what one page did — its own batched writes and its BC jobs — for its run's report. */
import type { SyncRunError } from '../db/schema/index.js';
import type { RunCounts } from './run-log.js';
import type { ResyncOutcome } from './resync-bc.js';
import type { PageSummary } from './sync-run.js';
import type { UpsertOutcome } from './upsert-bc.js';

export type OutcomeCounts = Pick<
  RunCounts,
  'bcsSeen' | 'created' | 'updated' | 'unchanged' | 'archived' | 'restored' | 'linesDeleted'
>;

export function countOutcomes(outcomes: readonly (UpsertOutcome | ResyncOutcome)[]): OutcomeCounts {
  const counts: OutcomeCounts = {
    bcsSeen: outcomes.length,
    created: 0,
    updated: 0,
    unchanged: 0,
    archived: 0,
    restored: 0,
    linesDeleted: 0,
  };
  for (const outcome of outcomes) {
    if (outcome.action === 'archived') counts.archived += 1;
    else if (outcome.action === 'missing' || !('linesDeleted' in outcome)) counts.unchanged += 1;
    else {
      counts.linesDeleted += outcome.linesDeleted;
      if (outcome.action === 'created') counts.created += 1;
      else if (outcome.action === 'restored') counts.restored += 1;
      // A BC whose own fields did not move but whose lines did counts as updated.
      else if (
        outcome.action === 'updated' ||
        outcome.linesCreated + outcome.linesUpdated + outcome.linesDeleted > 0
      )
        counts.updated += 1;
      else counts.unchanged += 1;
    }
  }
  return counts;
}

export function summarizePage(input: {
  /** What the page wrote itself, counted before it waited for its BC jobs. */
  written: OutcomeCounts;
  /** What its BC jobs did. */
  jobs: readonly (UpsertOutcome | ResyncOutcome)[];
  /** BCs of the page whose copy was already current: nothing written. */
  alreadyCurrent: number;
  failures: readonly SyncRunError[];
  maxWriteDate: string | null;
  odooCalls: number;
}): PageSummary {
  const jobs = countOutcomes(input.jobs);
  const sum = (key: keyof OutcomeCounts) => input.written[key] + jobs[key];
  return {
    pages: 1,
    bcsSeen: sum('bcsSeen') + input.alreadyCurrent + input.failures.length,
    created: sum('created'),
    updated: sum('updated'),
    unchanged: sum('unchanged') + input.alreadyCurrent,
    archived: sum('archived'),
    restored: sum('restored'),
    linesDeleted: sum('linesDeleted'),
    failed: input.failures.length,
    odooCalls: input.odooCalls,
    maxWriteDate: input.maxWriteDate,
    errors: [...input.failures],
  };
}
