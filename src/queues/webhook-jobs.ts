/**
 * The jobs of one webhook event, queued alike by the API as the event comes and by a worker for an
 * event of the inbox that no read has shown yet (src/sync/webhook-inbox.ts). Events for one root
 * within the debounce window collapse into one job (BullMQ debounce: the last one's data wins);
 * the job answers for every event of its root kept up to its own, so none is lost to the
 * collapse. An event without a stamp from Odoo gets a second read a few seconds later: Odoo posts
 * from inside its transaction, and the first read may come before the commit.
 *
 * An event queued again from the inbox gets a job of its own, beside any job still waiting for its
 * root: replacing that job would leave the later events it answers for to the next requeue, and
 * deduplicating into it could drop the new job into one that has finished (BullMQ keeps a debounce
 * key for its time to live, whatever became of its job).
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
  const fromOdoo = origin === 'odoo';
  // Events for one root collapse, whichever of its records they name.
  const key = webhookKey(
    event.family,
    event.rootId !== undefined
      ? { rootId: event.rootId }
      : { model: event.model, odooId: event.recordId },
  );
  const jobId = `hook-${key}-${randomUUID()}`;
  const unstamped = event.writeDate === undefined && !event.deleted;
  // From Odoo, an event without a stamp is read now, and settled by a read a few seconds later;
  // from the inbox, a minute or more after it came, by its one read.
  const recheck = unstamped && fromOdoo;
  const debounce = (id: string, ttlMs: number) =>
    fromOdoo ? { deduplication: { id, ttl: Math.max(ttlMs, 1), extend: true, replace: true } } : {};
  // A job still waiting for this root takes the event (for the metric; BullMQ decides).
  const deduplicated =
    fromOdoo &&
    (await queues.ofFamily('sync-webhook', event.family).getDeduplicationJobId(`hook-${key}`)) !==
      null;
  await queues.add(
    'webhook-record',
    {
      ...data,
      inbox: recheck ? undefined : { throughId: inboxId, unstamped },
      requeued: !fromOdoo,
    },
    { jobId, delay: debounceMs, ...debounce(`hook-${key}`, debounceMs) },
  );
  if (recheck)
    await queues.add(
      'webhook-record',
      { ...data, inbox: { throughId: inboxId, unstamped: true } },
      {
        jobId: `${jobId}-recheck`,
        delay: debounceMs + RECHECK_DELAY_MS,
        ...debounce(`hook-${key}-recheck`, RECHECK_DELAY_MS),
      },
    );
  return { deduplicated };
}
