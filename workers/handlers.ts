/**
 * Every job of the catalogue mapped to its processor. The mapped type makes a job without a
 * handler (or a handler for a job that does not exist) a compile error.
 */
import type { Job } from 'bullmq';
import type { JobData, JobName } from '../src/queues/catalogue.js';
import { processCheckOdoo } from './processors/check-odoo.js';
import { processFeedDeliver } from './processors/feed-deliver.js';
import { processFeedPrune } from './processors/feed-prune.js';
import { processFeedPump } from './processors/feed-pump.js';
import { processReconcile } from './processors/reconcile.js';
import { processResyncRecord } from './processors/resync-record.js';
import { processSyncPage } from './processors/sync-page.js';
import { processSyncRecord } from './processors/sync-record.js';
import { processSyncRun } from './processors/sync-run.js';
import { processVerify } from './processors/verify.js';
import { processWebhookRecord } from './processors/webhook-record.js';
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
  'sync-record': processSyncRecord,
  'resync-record': processResyncRecord,
  'webhook-record': processWebhookRecord,
  reconcile: processReconcile,
  verify: processVerify,
  'feed-deliver': processFeedDeliver,
  'feed-pump': processFeedPump,
  'feed-prune': processFeedPrune,
  'check-odoo': processCheckOdoo,
};
