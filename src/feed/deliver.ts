/**
 * Delivering a subscription's changes to its receiver, in position order, one message at a time:
 * read the changes after its cursor, send them as one signed message, move the cursor on once the
 * receiver acknowledged them (2xx), and again until none is left or this turn's budget is spent.
 * One message in flight per subscription: a record's changes reach the receiver in the order the
 * copy committed them, and so does everything else.
 *
 * At least once: the cursor moves after the receiver's 2xx, so a crash between the two sends the
 * message again, under the same `webhook-id`. A failed message is sent again, exactly as it was
 * (`pending`), backing off up to FEED_DELIVERY_BACKOFF_MAX_MS, for FEED_DELIVERY_GIVE_UP_HOURS
 * from its first failure; then it is a dead letter and the subscription stops there (`failing`)
 * until it is replayed: nothing after it is delivered out of order. A receiver that answers 410
 * ends its subscription. A subscription whose cursor fell behind the feed's retention is
 * `expired`: it must resync.
 *
 * Plain code over the database and a sender: the worker's processor decides what a BullMQ job
 * does with each outcome.
 */
import type { Db } from '../db/create-db.js';
import type { DeadLetter } from '../db/schema/index.js';
import type { Logger } from '../lib/logger.js';
import { toSafeError } from '../lib/errors.js';
import { FeedDeliveryError, FeedPositionGoneError } from './feed-errors.js';
import type { FeedSender } from './feed-sender.js';
import { comparePositions, decodePosition, encodePosition, type FeedPosition } from './position.js';
import type { SubscriptionSecrets } from './secret.js';
import { readChanges, type FeedChange } from './read-changes.js';
import {
  advanceCursor,
  cursorOf,
  filterOf,
  readSubscription,
  recordDeliveryFailure,
  stopSubscription,
} from './subscriptions.js';
import { buildMessage, createSigner, signMessage, type WebhookMessage } from './webhook-message.js';

export interface FeedDeliverySettings {
  /** FEED_DELIVERY_TIMEOUT_MS: one POST, connection to the end of the answer. */
  readonly timeoutMs: number;
  /** FEED_DELIVERY_BATCH_MAX: changes per message when the receiver is behind. */
  readonly batchMax: number;
  /** The first retry's delay; each retry doubles it. */
  readonly backoffBaseMs: number;
  /** FEED_DELIVERY_BACKOFF_MAX_MS. */
  readonly backoffMaxMs: number;
  /** FEED_DELIVERY_GIVE_UP_HOURS: how long a message is retried before it is a dead letter. */
  readonly giveUpMs: number;
  /** How long one turn delivers before it lets other subscriptions' turns run. */
  readonly turnMs: number;
}

/** The first retry of a failed message waits this long; each next one twice as long. */
export const FIRST_RETRY_MS = 1_000;

/** How long one delivery turn runs before it lets other subscriptions' turns run. */
export const DELIVERY_TURN_MS = 10_000;

export interface FeedDeliveryDeps {
  readonly db: Db;
  readonly sender: FeedSender;
  readonly logger: Logger;
  readonly settings: FeedDeliverySettings;
  /** Opens each subscription's secret (sealed at rest). */
  readonly secrets: SubscriptionSecrets;
  /** The clock of backoffs and give-ups (tests move it); signatures take the wall clock. */
  readonly now?: () => number;
}

/** A message that failed, to be sent again as it was: the changes after `from` up to `through`. */
export interface PendingMessage {
  readonly from: string;
  readonly through: string;
  readonly attempts: number;
  /** Epoch ms of its first failure. */
  readonly firstFailedAtMs: number;
}

export interface DeliveryReport {
  readonly subscription: string | null;
  readonly messages: number;
  readonly changes: number;
}

export type DeliveryOutcome =
  /** Nothing left to deliver now. */
  | { readonly kind: 'idle'; readonly report: DeliveryReport }
  /** More to deliver, this turn's budget spent. */
  | { readonly kind: 'more'; readonly report: DeliveryReport }
  /** Changes committed but held back behind a transaction still running: read again shortly. */
  | { readonly kind: 'held-back'; readonly report: DeliveryReport }
  /** The receiver failed: send `pending` again after `delayMs`. */
  | {
      readonly kind: 'retry';
      readonly delayMs: number;
      readonly pending: PendingMessage;
      readonly error: FeedDeliveryError;
      readonly report: DeliveryReport;
    }
  /** The subscription does not deliver (any more): gone, ended, expired, or stopped here. */
  | {
      readonly kind: 'stopped';
      readonly why: 'gone' | 'inactive' | 'ended' | 'expired' | 'dead-letter';
      readonly report: DeliveryReport;
    };

/** How long the jittered backoff of attempt `attempts` (1 for the first retry) lasts. */
export function backoffMs(settings: FeedDeliverySettings, attempts: number, random = Math.random) {
  const base = Math.min(settings.backoffMaxMs, settings.backoffBaseMs * 2 ** (attempts - 1));
  // ±20 %: receivers that came back are not hit by every subscription at once.
  return Math.round(base * (0.8 + 0.4 * random()));
}

export async function deliverChanges(
  deps: FeedDeliveryDeps,
  input: { readonly subscriptionId: number; readonly pending?: PendingMessage },
  signal: AbortSignal,
): Promise<DeliveryOutcome> {
  const { db, settings } = deps;
  const now = deps.now ?? Date.now;
  const turnEndsAtMs = now() + settings.turnMs;
  const report = { subscription: null as string | null, messages: 0, changes: 0 };
  let pending = input.pending;

  for (;;) {
    signal.throwIfAborted();
    const subscription = await readSubscription(db, { id: input.subscriptionId });
    if (!subscription) return { kind: 'stopped', why: 'gone', report };
    report.subscription = subscription.name;
    if (subscription.status !== 'active') return { kind: 'stopped', why: 'inactive', report };
    const cursor = cursorOf(subscription);
    // A replay moved the cursor since the message failed: it is not the next message any more.
    if (pending && pending.from !== encodePosition(cursor)) pending = undefined;

    let page;
    try {
      page = await readChanges(db, cursor, filterOf(subscription), settings.batchMax);
    } catch (error) {
      if (!(error instanceof FeedPositionGoneError)) throw error;
      await stopSubscription(db, subscription.id, 'expired', error.message);
      deps.logger.warn(
        { subscription: subscription.name },
        'change feed subscription expired: its cursor is older than the changes kept',
      );
      return { kind: 'stopped', why: 'expired', report };
    }
    const through = pending ? decodePosition(pending.through) : undefined;
    const changes = through
      ? page.changes.filter((change) => comparePositions(change.position, through) <= 0)
      : page.changes;
    if (changes.length === 0) {
      // Past the changes the subscription does not take: the next read starts there.
      if (comparePositions(page.next, cursor) > 0)
        await advanceCursor(db, subscription.id, cursor, page.next, { changes: 0, messages: 0 });
      return { kind: page.heldBack ? 'held-back' : 'idle', report };
    }

    const message = buildMessage(subscription.name, changes);
    try {
      await deps.sender.send(
        subscription.url,
        // Signed with the wall clock: the receiver checks the timestamp against its own.
        signMessage(createSigner(deps.secrets.open(subscription.secret)), message, new Date()),
        message.body,
        { signal, timeoutMs: settings.timeoutMs },
      );
    } catch (error) {
      if (!(error instanceof FeedDeliveryError)) throw error;
      return failed(
        deps,
        { id: subscription.id, name: subscription.name },
        {
          cursor,
          changes,
          message,
          error,
          pending,
          report,
        },
      );
    }
    // Every change the page looked at is delivered or not the subscription's: move past all.
    const to = changes.length === page.changes.length ? page.next : changes.at(-1)!.position;
    const moved = await advanceCursor(db, subscription.id, cursor, to, {
      changes: changes.length,
      messages: 1,
    });
    pending = undefined;
    if (moved) {
      report.messages += 1;
      report.changes += changes.length;
    }
    if (now() >= turnEndsAtMs) return { kind: 'more', report };
  }
}

async function failed(
  deps: FeedDeliveryDeps,
  subscription: { id: number; name: string },
  attempt: {
    cursor: FeedPosition;
    changes: readonly FeedChange[];
    message: WebhookMessage;
    error: FeedDeliveryError;
    pending: PendingMessage | undefined;
    report: DeliveryReport;
  },
): Promise<DeliveryOutcome> {
  const { db, settings, logger } = deps;
  const nowMs = (deps.now ?? Date.now)();
  const { error, report } = attempt;
  if (error.status === 410) {
    await stopSubscription(db, subscription.id, 'ended', 'the receiver answered 410 Gone');
    logger.warn(
      { subscription: subscription.name },
      'change feed subscription ended by its receiver (410)',
    );
    return { kind: 'stopped', why: 'ended', report };
  }
  const safe = toSafeError(error);
  await recordDeliveryFailure(db, subscription.id, safe);
  const pending: PendingMessage = {
    from: encodePosition(attempt.cursor),
    through: encodePosition(attempt.changes.at(-1)!.position),
    attempts: (attempt.pending?.attempts ?? 0) + 1,
    firstFailedAtMs: attempt.pending?.firstFailedAtMs ?? nowMs,
  };
  if (nowMs - pending.firstFailedAtMs >= settings.giveUpMs) {
    const deadLetter: DeadLetter = {
      webhookId: attempt.message.webhookId,
      from: pending.from,
      through: pending.through,
      changes: attempt.changes.length,
      code: safe.code,
      message: safe.message,
      at: new Date(nowMs).toISOString(),
    };
    await stopSubscription(
      db,
      subscription.id,
      'failing',
      `message ${deadLetter.webhookId} failed for ${Math.round((nowMs - pending.firstFailedAtMs) / 3_600_000)} h (${pending.attempts} attempts): ${safe.message}; replay it once the receiver is fixed`,
      deadLetter,
    );
    logger.error(
      { subscription: subscription.name, webhookId: deadLetter.webhookId, err: error },
      'change feed message is a dead letter: its subscription stopped',
    );
    return { kind: 'stopped', why: 'dead-letter', report };
  }
  const delayMs = backoffMs(settings, pending.attempts);
  logger.warn(
    {
      subscription: subscription.name,
      webhookId: attempt.message.webhookId,
      attempts: pending.attempts,
      delayMs,
      code: safe.code,
    },
    `change feed delivery failed, sending again in ${Math.round(delayMs / 1_000)} s: ${safe.message}`,
  );
  return { kind: 'retry', delayMs, pending, error, report };
}
