/**
 * What a run's children (its pages, its record jobs) came to, as the step that queued them reads it:
 * the reports and failures of the children its own execution queued. A second execution of a
 * step takes a lease token of its own and queues children of its own; a first execution's
 * children are not counted (those that ran wrote under the lease they had, those that did not
 * were fenced out).
 */
import { z } from 'zod';
import { childReport } from '../src/queues/catalogue.js';
import { runRefSchema } from '../src/sync/run-state.js';
import type { RunReport } from '../src/sync/run-counts.js';
import type { RunRef } from '../src/sync/run-lease.js';
import type { FailedChild, FailedRecord } from '../src/sync/sync-failures.js';
import type { SettledChildren } from './step-job.js';

const childData = z.object({ run: runRefSchema, odooId: z.number().int().optional() });

export interface RunChildren {
  readonly reports: RunReport[];
  readonly failedPages: FailedChild[];
  readonly failedRecords: FailedRecord[];
}

export function childrenOfRun(run: RunRef, children: SettledChildren): RunChildren {
  const ours = (token: number | undefined) => token === run.lease.token;
  const reports = children.completed.flatMap(({ value }) => {
    const report = childReport.safeParse(value);
    return report.success && ours(report.data.token)
      ? [{ counts: report.data.counts, errors: report.data.errors }]
      : [];
  });
  const failedPages: FailedChild[] = [];
  const failedRecords: FailedRecord[] = [];
  for (const child of children.failed) {
    const data = childData.safeParse(child.data);
    if (!data.success || !ours(data.data.run.lease.token)) continue;
    const failed = { jobId: child.jobId, failure: child.failure };
    if (data.data.odooId === undefined) failedPages.push(failed);
    else failedRecords.push({ ...failed, odooId: data.data.odooId });
  }
  return { reports, failedPages, failedRecords };
}
