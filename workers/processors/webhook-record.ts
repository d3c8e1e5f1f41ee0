/** `webhook-record`: a record Odoo's webhook says changed, read once the change is committed. */
import type { Job } from 'bullmq';
import { JOBS, type JobData } from '../../src/queues/catalogue.js';
import { recordJobFailure } from '../../src/sync/sync-record.js';
import { syncWebhookEvent } from '../../src/sync/webhook-event.js';
import { settleWebhooks } from '../../src/sync/webhook-inbox.js';
import { runStepJob } from '../step-job.js';
import type { WorkerContext } from '../worker-context.js';

export async function processWebhookRecord(
  job: Job<JobData<'webhook-record'>>,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
) {
  const data = JOBS['webhook-record'].schema.parse(job.data);
  const family = ctx.sync.families.require(data.family);
  // Odoo as the family's source reaches it (docs/sources.md).
  const sync = ctx.syncOf(family.name);
  // The inbox's events this job covered, once its record is written or its failure recorded.
  const settle = () =>
    data.inbox ? settleWebhooks(ctx.sync.db, data, data.inbox) : Promise.resolve(0);
  return runStepJob<never, unknown>(job, token, signal, ctx, {
    state: undefined,
    start: async (abort) => {
      const outcome = await syncWebhookEvent(sync, { ...data, family }, { signal: abort });
      await settle();
      return {
        result: {
          ...outcome.synced?.report,
          family: family.name,
          odooId: outcome.odooId,
          action: outcome.synced?.outcome.action ?? (outcome.committed ? 'archived' : 'missing'),
          committed: outcome.committed,
          odooCalls: outcome.odooCalls,
        },
      };
    },
    // A root's failure is recorded, and retried by the next run: its events are settled. Without
    // a root the event stays in the inbox, queued again later.
    onLastFailure: async (error) => {
      if (data.rootId === undefined) return;
      await recordJobFailure(sync, {
        family,
        odooId: data.rootId,
        runId: null,
        jobId: job.id!,
        error,
      });
      await settle();
    },
  });
}
