/**
 * What a run's children (its pages, its BC jobs) came to, as the step that queued them reads it:
 * the reports and failures of the children its own execution queued. A second execution of a
 * step takes a lease token of its own and queues children of its own; a first execution's
 * children are not counted (those that ran wrote under the lease they had, those that did not
 * were fenced out).
 */
import { z } from 'zod';
import { runRef, runReport } from '../src/queues/catalogue.js';
import type { RunReport } from '../src/sync/run-counts.js';
import type { RunRef } from '../src/sync/run-lease.js';
import type { FailedBc, FailedChild } from '../src/sync/sync-page.js';
import type { SettledChildren } from './step-job.js';

const childData = z.object({ run: runRef, odooId: z.number().int().optional() });

export interface RunChildren {
  readonly reports: RunReport[];
  readonly failedPages: FailedChild[];
  readonly failedBcs: FailedBc[];
}

export function childrenOfRun(run: RunRef, children: SettledChildren): RunChildren {
  const ours = (token: number | undefined) => token === run.lease.token;
  const reports = children.completed.flatMap(({ value }) => {
    const report = runReport.safeParse(value);
    return report.success && ours(report.data.token) ? [report.data] : [];
  });
  const failedPages: FailedChild[] = [];
  const failedBcs: FailedBc[] = [];
  for (const child of children.failed) {
    const data = childData.safeParse(child.data);
    if (!data.success || !ours(data.data.run.lease.token)) continue;
    const failed = { jobId: child.jobId, failure: child.failure };
    if (data.data.odooId === undefined) failedPages.push(failed);
    else failedBcs.push({ ...failed, odooId: data.data.odooId });
  }
  return { reports, failedPages, failedBcs };
}
