/**
 * A position in the change feed: (xid, id), the writing transaction's id (or its root's last, see
 * drizzle/0020_change_feed.sql) and the audit row's. Clients get it as an opaque string: 32 hex
 * digits, the xid's 16 then the id's 16, so two positions also compare as strings.
 *
 * The head, "everything that has committed up to now", is (xmin, 0) for a snapshot's xmin: every
 * change below it is readable, and every change still to come sits at or above it.
 */
import { AppError } from '../lib/errors.js';

export interface FeedPosition {
  readonly xid: bigint;
  readonly id: bigint;
}

const HEX_DIGITS = 16;
/**
 * Both halves below 2^63: the id is a PostgreSQL bigint (signed), and no transaction id comes
 * near 2^63 (64-bit xids count wraparounds of the 32-bit one from 0). A position past either is
 * no position this feed gave, and is refused with the request's other bad values (400).
 */
export const POSITION_PATTERN = /^[0-7][0-9a-f]{15}[0-7][0-9a-f]{15}$/;

export class FeedPositionError extends AppError {
  constructor(message: string) {
    super('FEED_BAD_POSITION', message, { retryable: false });
  }
}

export function encodePosition(position: FeedPosition): string {
  return (
    position.xid.toString(16).padStart(HEX_DIGITS, '0') +
    position.id.toString(16).padStart(HEX_DIGITS, '0')
  );
}

/** @throws FeedPositionError when `text` is not a position this feed gave */
export function decodePosition(text: string): FeedPosition {
  if (!POSITION_PATTERN.test(text))
    throw new FeedPositionError('a position is 32 hex digits, as the feed gave it');
  return {
    xid: BigInt(`0x${text.slice(0, HEX_DIGITS)}`),
    id: BigInt(`0x${text.slice(HEX_DIGITS)}`),
  };
}

export function comparePositions(a: FeedPosition, b: FeedPosition): number {
  if (a.xid !== b.xid) return a.xid < b.xid ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}

export function laterPosition(a: FeedPosition, b: FeedPosition): FeedPosition {
  return comparePositions(a, b) >= 0 ? a : b;
}

/** From the text PostgreSQL gives an xid8 and a bigint. */
export function positionOf(
  xid: string | number | bigint,
  id: string | number | bigint,
): FeedPosition {
  return { xid: BigInt(xid), id: BigInt(id) };
}
