/**
 * The jobs of one webhook event, queued alike by the API as the event comes and by a worker for an
 * event of the inbox that no job settled (src/sync/webhook-inbox.ts). Events for one root within
 * the debounce window collapse into one job (BullMQ debounce: the last one's data wins). An event
 * without a stamp gets a second read a few seconds later: Odoo posts from inside its transaction,
 * and the first read may come before the commit.
 */
import { randomUUID } from 'node:crypto';
import type { InboxEvent } from '../sync/webhook-inbox.js';
import { webhookKey } from './catalogue.js';
import type { Queues } from './queues.js';

/** Without a stamp to wait for, the record is read once more this much later. */
export const RECHECK_DELAY_MS = 3_000;

/** Queues the event's jobs; whether a job still waiting for its root took it. */
export async function queueWebhookEvent(
  queues: Queues,
  event: InboxEvent & { readonly inboxId: number; readonly receivedAtMs: number },
  debounceMs: number,
): Promise<{ deduplicated: boolean }> {
  const { inboxId, ...data } = event;
  // Events for one root collapse, whichever of its records they name.
  const key = webhookKey(
    event.family,
    event.rootId !== undefined
      ? { rootId: event.rootId }
      : { model: event.model, odooId: event.recordId },
  );
  const jobId = `hook-${key}-${randomUUID()}`;
  const recheck = event.writeDate === undefined && !event.deleted;
  // A job still waiting for this root takes the event (for the metric; BullMQ decides).
  const deduplicated =
    (await queues.byName['sync-webhook'].getDeduplicationJobId(`hook-${key}`)) !== null;
  await queues.add(
    'webhook-record',
    { ...data, inbox: recheck ? undefined : { throughId: inboxId, unstamped: false } },
    {
      jobId,
      delay: debounceMs,
      deduplication: {
        id: `hook-${key}`,
        ttl: Math.max(debounceMs, 1),
        extend: true,
        replace: true,
      },
    },
  );
  if (recheck)
    await queues.add(
      'webhook-record',
      { ...data, inbox: { throughId: inboxId, unstamped: true } },
      {
        jobId: `${jobId}-recheck`,
        delay: debounceMs + RECHECK_DELAY_MS,
        deduplication: {
          id: `hook-${key}-recheck`,
          ttl: RECHECK_DELAY_MS,
          extend: true,
          replace: true,
        },
      },
    );
  return { deduplicated };
}
