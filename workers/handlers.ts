/**
 * Every job of the catalogue mapped to its processor. The mapped type makes a job without a
 * handler (or a handler for a job that does not exist) a compile error.
 */
import type { Job } from 'bullmq';
import type { JobData, JobName } from '../src/queues/catalogue.js';
import { processReconcile } from './processors/reconcile.js';
import { processResyncBc } from './processors/resync-bc.js';
import { processSyncBc } from './processors/sync-bc.js';
import { processSyncPage } from './processors/sync-page.js';
import { processSyncRun } from './processors/sync-run.js';
import { processWebhookBc } from './processors/webhook-bc.js';
import type { WorkerContext } from './worker-context.js';

export type Handler<N extends JobName> = (
  job: Job<JobData<N>>,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
) => Promise<unknown>;

export const HANDLERS: { readonly [N in JobName]: Handler<N> } = {
  'sync-run': processSyncRun,
  'sync-page': processSyncPage,
  'sync-bc': processSyncBc,
  'resync-bc': processResyncBc,
  'webhook-bc': processWebhookBc,
  reconcile: processReconcile,
};
