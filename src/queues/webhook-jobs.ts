/**
 * The jobs of one webhook event, queued alike by the API as the event comes and by a worker for an
 * event of the inbox that no job settled (src/sync/webhook-inbox.ts). Events for one root within
 * the debounce window collapse into one job (BullMQ debounce: the last one's data wins). An event
 * without a stamp gets a second read a few seconds later: Odoo posts from inside its transaction,
 * and the first read may come before the commit.
 *
 * An event queued again leaves a job still waiting for its root as it is: that job came from a
 * later event (the API's, as Odoo posts it), and replacing it would make it settle only up to the
 * older event and wait for the older stamp. The waiting job covers the older event.
 */
import { randomUUID } from 'node:crypto';
import type { InboxEvent } from '../sync/webhook-inbox.js';
import { webhookKey } from './catalogue.js';
import type { Queues } from './queues.js';

/** Without a stamp to wait for, the record is read once more this much later. */
export const RECHECK_DELAY_MS = 3_000;

/** Whether an event comes from Odoo now, or from the inbox, queued again. */
export type WebhookEventOrigin = 'odoo' | 'inbox';

/** Queues the event's jobs; whether a job still waiting for its root took it. */
export async function queueWebhookEvent(
  queues: Queues,
  event: InboxEvent & { readonly inboxId: number; readonly receivedAtMs: number },
  debounceMs: number,
  origin: WebhookEventOrigin = 'odoo',
): Promise<{ deduplicated: boolean }> {
  const { inboxId, ...data } = event;
  const replace = origin === 'odoo';
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
    (await queues.ofFamily('sync-webhook', event.family).getDeduplicationJobId(`hook-${key}`)) !==
    null;
  await queues.add(
    'webhook-record',
    { ...data, inbox: recheck ? undefined : { throughId: inboxId, unstamped: false } },
    {
      jobId,
      delay: debounceMs,
      deduplication: {
        id: `hook-${key}`,
        ttl: Math.max(debounceMs, 1),
        extend: replace,
        replace,
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
          extend: replace,
          replace,
        },
      },
    );
  return { deduplicated };
}
