/**
 * A delivery as the Standard Webhooks specification shapes it: a JSON body `{ type, timestamp,
 * data }`, and the headers `webhook-id`, `webhook-timestamp` and `webhook-signature`, signed by
 * the `standardwebhooks` library with the subscription's `whsec_` secret — never by hand.
 *
 * A message holds one change, or, when the receiver is behind, the next changes up to
 * FEED_DELIVERY_BATCH_MAX, in position order. Its `webhook-id` names exactly what it holds
 * (`chg_<id>` for one change, `chgs_<first>_<last>` for several): a retry sends the same message
 * under the same id, and every change inside carries its own stable `id` to deduplicate on.
 */
import { Webhook } from 'standardwebhooks';
import { changeId, toChangeBody } from './change-body.js';
import type { FeedChange } from './read-changes.js';

export const MESSAGE_TYPE = 'erp-bridge.changes';

export interface WebhookMessage {
  readonly webhookId: string;
  /** The JSON body, as signed and sent. */
  readonly body: string;
}

export function buildMessage(subscription: string, changes: readonly FeedChange[]): WebhookMessage {
  const first = changes[0];
  const last = changes[changes.length - 1];
  if (!first || !last) throw new Error('a message holds one change at least');
  const webhookId =
    changes.length === 1 ? changeId(first) : `chgs_${first.auditId}_${last.auditId}`;
  const body = JSON.stringify({
    type: MESSAGE_TYPE,
    // The event's time: the last change's. Stable, so that a retry sends the same body.
    timestamp: last.at.toISOString(),
    data: { subscription, changes: changes.map(toChangeBody) },
  });
  return { webhookId, body };
}

/** The headers of one attempt: signed at `now`, which the receiver checks against its clock. */
export function signMessage(
  signer: Webhook,
  message: WebhookMessage,
  now: Date,
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': message.webhookId,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1_000)),
    'webhook-signature': signer.sign(message.webhookId, now, message.body),
  };
}

/** The signer of a `whsec_…` secret (the library checks it decodes to a key). */
export function createSigner(secret: string): Webhook {
  return new Webhook(secret);
}
