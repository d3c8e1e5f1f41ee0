/**
 * `webhook-record`: the records Odoo's webhooks say changed, read once the change is committed.
 * The job answers for the inbox's events of its root up to its own (src/sync/webhook-inbox.ts),
 * whichever event's data it carries (BullMQ's debounce keeps the last one's), and settles those its
 * read showed; the others stay, queued again later.
 */
import type { Job } from 'bullmq';
import { JOBS, type JobData } from '../../src/queues/catalogue.js';
import { recordJobFailure } from '../../src/sync/sync-record.js';
import { syncWebhookEvents } from '../../src/sync/webhook-event.js';
import {
  noteUnseenReads,
  pendingWebhooks,
  rerootWebhooks,
  settleWebhooks,
} from '../../src/sync/webhook-inbox.js';
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
  const { db } = ctx.sync;
  return runStepJob<never, unknown>(job, token, signal, ctx, {
    state: undefined,
    start: async (abort) => {
      // Without `inbox`, the first read of an event without a stamp: it settles nothing.
      const kept = data.inbox ? await pendingWebhooks(db, data, data.inbox) : [];
      if (data.inbox && kept.length === 0)
        // Another job's read showed them all.
        return {
          result: {
            family: family.name,
            odooId: data.rootId ?? null,
            action: 'settled',
            committed: true,
            odooCalls: 0,
          },
        };
      const outcome = await syncWebhookEvents(
        sync,
        { family, events: data.inbox ? kept : [data], waitForCommit: !data.requeued },
        { signal: abort },
      );
      const settled = await settleWebhooks(
        db,
        kept.filter((_, at) => outcome.shown[at]).map((event) => event.id),
      );
      // A child moved to another root since its event: that root's read is the one to show it.
      const moved = kept.flatMap((event, at) => {
        const root = outcome.movedTo[at];
        return typeof root === 'number' ? [{ id: event.id, root }] : [];
      });
      await rerootWebhooks(db, moved);
      // The read ran: only such reads bring an event nearer to being settled unseen.
      await noteUnseenReads(
        db,
        kept
          .filter((_, at) => !outcome.shown[at] && outcome.movedTo[at] === null)
          .map((event) => event.id),
      );
      return {
        result: {
          ...outcome.synced?.report,
          family: family.name,
          odooId: outcome.odooId,
          action: outcome.synced?.outcome.action ?? (outcome.committed ? 'archived' : 'missing'),
          committed: outcome.committed,
          settled,
          kept: kept.length - settled,
          moved: moved.length,
          odooCalls: outcome.odooCalls,
        },
      };
    },
    // A root's failure is recorded, and retried by the next run. Its events stay in the inbox,
    // queued again later: a failure is not a read that showed them.
    onLastFailure: async (error) => {
      if (data.rootId === undefined) return;
      await recordJobFailure(sync, {
        family,
        odooId: data.rootId,
        runId: null,
        jobId: job.id!,
        error,
      });
    },
  });
}
