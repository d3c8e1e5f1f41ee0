/** Sums what the BC jobs of one page did into the page's report to its run. */
import type { SyncRunError } from '../db/schema/index.js';
import type { PageSummary } from './sync-run.js';
import type { ResyncOutcome } from './resync-bc.js';
import type { UpsertOutcome } from './upsert-bc.js';

export function summarizePage(input: {
  outcomes: readonly (UpsertOutcome | ResyncOutcome)[];
  /** BCs of the page whose copy was already current, so no job was queued for them. */
  alreadyCurrent: number;
  failures: readonly SyncRunError[];
  maxWriteDate: string | null;
  odooCalls: number;
}): PageSummary {
  const summary = {
    pages: 1,
    bcsSeen: input.outcomes.length + input.alreadyCurrent + input.failures.length,
    created: 0,
    updated: 0,
    unchanged: input.alreadyCurrent,
    archived: 0,
    restored: 0,
    linesDeleted: 0,
    failed: input.failures.length,
    odooCalls: input.odooCalls,
  };
  for (const outcome of input.outcomes) {
    if (outcome.action === 'archived') {
      summary.archived += 1;
      continue;
    }
    if (outcome.action === 'missing' || !('linesDeleted' in outcome)) {
      summary.unchanged += 1;
      continue;
    }
    summary.linesDeleted += outcome.linesDeleted;
    if (outcome.action === 'created') summary.created += 1;
    else if (outcome.action === 'restored') summary.restored += 1;
    else if (
      outcome.action === 'updated' ||
      outcome.linesCreated + outcome.linesUpdated + outcome.linesDeleted > 0
    )
      summary.updated += 1;
    else summary.unchanged += 1;
  }
  return { ...summary, maxWriteDate: input.maxWriteDate, errors: [...input.failures] };
}
