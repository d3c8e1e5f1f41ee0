/**
 * Every job of the catalogue mapped to its processor. The mapped type makes a job without a
 * handler (or a handler for a job that does not exist) a compile error.
 */
import type { Job } from 'bullmq';
import type { JobData, JobName } from '../src/queues/catalogue.js';
import { processFetchPage } from './processors/fetch-page.js';
import { processReconcile } from './processors/reconcile.js';
import { processResyncBc } from './processors/resync-bc.js';
import { processSyncRun } from './processors/sync-run.js';
import { processUpsertBc } from './processors/upsert-bc.js';
import type { WorkerContext } from './worker-context.js';

export type Handler<N extends JobName> = (
  job: Job<JobData<N>>,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
) => Promise<unknown>;

export const HANDLERS: { readonly [N in JobName]: Handler<N> } = {
  'sync-run': processSyncRun,
  'fetch-page': processFetchPage,
  'upsert-bc': processUpsertBc,
  'resync-bc': processResyncBc,
  reconcile: processReconcile,
};
