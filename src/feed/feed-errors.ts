/** The errors the change feed raises on purpose, each with a stable code. */
import { AppError } from '../lib/errors.js';
import { encodePosition, type FeedPosition } from './position.js';

/**
 * The changes after a position were pruned (older than FEED_RETENTION_DAYS): a consumer there
 * must resync (read the copy again from `head`, then follow the feed from it).
 */
export class FeedPositionGoneError extends AppError {
  /** The oldest position the feed still answers from: every change after it is kept. */
  readonly oldest: FeedPosition;
  /** The position to follow the feed from once the consumer has read the copy again. */
  readonly head: FeedPosition;

  constructor(oldest: FeedPosition, head: FeedPosition) {
    super(
      'FEED_POSITION_GONE',
      `changes before position ${encodePosition(oldest)} are no longer kept (FEED_RETENTION_DAYS): read the copy again, then follow the feed from ${encodePosition(head)}`,
      { retryable: false },
    );
    this.oldest = oldest;
    this.head = head;
  }
}

/** What a receiver's answer (or its absence) was, when it was not a 2xx. */
export type DeliveryFailureCode =
  | 'FEED_RECEIVER_STATUS'
  | 'FEED_RECEIVER_TIMEOUT'
  | 'FEED_RECEIVER_NETWORK'
  /** Its address is not one deliveries may reach (receiver-address.ts): never connected to. */
  | 'FEED_RECEIVER_REFUSED';

/** A delivery that failed: retried with backoff until FEED_DELIVERY_GIVE_UP_HOURS. */
export class FeedDeliveryError extends AppError {
  /** The receiver's status, when it answered. */
  readonly status: number | undefined;

  constructor(
    code: DeliveryFailureCode,
    message: string,
    options: { cause?: unknown; status?: number } = {},
  ) {
    super(code, message, { cause: options.cause, retryable: true });
    this.status = options.status;
  }
}
