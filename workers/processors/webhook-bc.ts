/** `webhook-bc`: a BC Odoo's webhook says changed, read once the change is committed. */
import type { Job } from 'bullmq';
import { JOBS, type JobData } from '../../src/queues/catalogue.js';
import { recordBcFailure } from '../../src/sync/sync-bc.js';
import { syncWebhookEvent } from '../../src/sync/webhook-event.js';
import { runStepJob } from '../step-job.js';
import type { WorkerContext } from '../worker-context.js';

export async function processWebhookBc(
  job: Job<JobData<'webhook-bc'>>,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
) {
  const data = JOBS['webhook-bc'].schema.parse(job.data);
  return runStepJob<never, unknown>(job, token, signal, ctx, {
    state: undefined,
    start: async (abort) => {
      const outcome = await syncWebhookEvent(ctx.sync, data, { signal: abort });
      return {
        result: {
          ...outcome.synced?.report,
          odooId: outcome.odooId,
          action: outcome.synced?.outcome.action ?? (outcome.committed ? 'archived' : 'missing'),
          committed: outcome.committed,
          odooCalls: outcome.odooCalls,
        },
      };
    },
    onLastFailure: (error) =>
      data.odooId === undefined
        ? Promise.resolve()
        : recordBcFailure(ctx.sync, { odooId: data.odooId, runId: null, jobId: job.id!, error }),
  });
}
