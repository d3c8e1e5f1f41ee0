/**
 * The change feed's subscriptions (`sync_feed_subscription`): a receiver's URL, its signing
 * secret, what it wants (families, models) and its cursor — every change up to the cursor was
 * delivered. The only module that writes the table.
 *
 * A subscription starts at the head unless told otherwise: a first copy of a million records
 * made after it subscribed is what it asked for, but the history before it never floods it.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import {
  syncFeedSubscription,
  type DeadLetter,
  type SubscriptionStatus,
  type SyncFeedSubscriptionRow,
} from '../db/schema/index.js';
import { AppError, type SafeError } from '../lib/errors.js';
import { decodePosition, positionOf, type FeedPosition } from './position.js';
import { readHead, readHorizon, refusePastHead, type FeedFilter } from './read-changes.js';
import type { SubscriptionSecrets } from './secret.js';

/** Where a new subscription starts: now (the head), the oldest change kept, or a position. */
export type SubscriptionStart = 'now' | 'oldest' | { readonly position: string };

export interface SubscriptionInput {
  readonly name: string;
  readonly url: string;
  readonly secret: string;
  readonly families: readonly string[];
  readonly models: readonly string[];
}

export class SubscriptionError extends AppError {
  constructor(code: 'FEED_SUBSCRIPTION_EXISTS' | 'FEED_SUBSCRIPTION_FROM_FILE', message: string) {
    super(code, message, { retryable: false });
  }
}

export const cursorOf = (row: SyncFeedSubscriptionRow): FeedPosition =>
  positionOf(row.cursorXid, row.cursorId);

export const filterOf = (row: SyncFeedSubscriptionRow): FeedFilter => ({
  families: row.families,
  models: row.models,
});

/** @throws FeedPositionError for a position the feed never gave (past its head included) */
export async function startPosition(db: Db, start: SubscriptionStart): Promise<FeedPosition> {
  if (start === 'now') return readHead(db);
  if (start === 'oldest') return readHorizon(db);
  const position = decodePosition(start.position);
  await refusePastHead(db, position);
  return position;
}

export const cursorValues = (position: FeedPosition) => ({
  cursorXid: position.xid.toString(),
  cursorId: Number(position.id),
});

/**
 * @throws SubscriptionError when the name is taken
 * @throws AppError `FEED_SECRET_KEY_MISSING` when no key seals its secret
 */
export async function createSubscription(
  db: Db,
  input: SubscriptionInput,
  start: SubscriptionStart,
  secrets: SubscriptionSecrets,
): Promise<SyncFeedSubscriptionRow> {
  const secret = secrets.seal(input.secret);
  const from = await startPosition(db, start);
  const [row] = await db
    .insert(syncFeedSubscription)
    .values({
      ...input,
      secret,
      families: [...input.families],
      models: [...input.models],
      source: 'api',
      ...cursorValues(from),
    })
    .onConflictDoNothing({ target: syncFeedSubscription.name })
    .returning();
  if (!row)
    throw new SubscriptionError(
      'FEED_SUBSCRIPTION_EXISTS',
      `a subscription named "${input.name}" exists`,
    );
  return row;
}

export function listSubscriptions(db: Db): Promise<SyncFeedSubscriptionRow[]> {
  return db.select().from(syncFeedSubscription).orderBy(asc(syncFeedSubscription.name));
}

export async function readSubscription(
  db: Db,
  by: { name: string } | { id: number },
): Promise<SyncFeedSubscriptionRow | undefined> {
  const [row] = await db
    .select()
    .from(syncFeedSubscription)
    .where(
      'name' in by ? eq(syncFeedSubscription.name, by.name) : eq(syncFeedSubscription.id, by.id),
    );
  return row;
}

/** Ids of the subscriptions that deliver. */
export async function activeSubscriptionIds(db: Db): Promise<number[]> {
  const rows = await db
    .select({ id: syncFeedSubscription.id })
    .from(syncFeedSubscription)
    .where(eq(syncFeedSubscription.status, 'active'));
  return rows.map((row) => row.id);
}

/**
 * Deletes an API subscription; one from FEED_SUBSCRIPTIONS_FILE is the file's to remove.
 * @returns whether it existed
 * @throws SubscriptionError when it comes from the file
 */
export async function deleteSubscription(db: Db, name: string): Promise<boolean> {
  const row = await readSubscription(db, { name });
  if (!row) return false;
  if (row.source === 'file')
    throw new SubscriptionError(
      'FEED_SUBSCRIPTION_FROM_FILE',
      `"${name}" is declared in FEED_SUBSCRIPTIONS_FILE: remove it there`,
    );
  await db.delete(syncFeedSubscription).where(eq(syncFeedSubscription.id, row.id));
  return true;
}

/**
 * Delivers again from `start` (a dead letter's position, a position a receiver asks for, the
 * oldest change kept): the subscription is active again, its failures and dead letter cleared.
 */
export async function replaySubscription(
  db: Db,
  name: string,
  start: SubscriptionStart,
): Promise<SyncFeedSubscriptionRow | undefined> {
  const from = await startPosition(db, start);
  const [row] = await db
    .update(syncFeedSubscription)
    .set({
      ...cursorValues(from),
      status: 'active',
      statusReason: null,
      deadLetter: null,
      consecutiveFailures: 0,
      updatedAt: sql`now()`,
    })
    .where(eq(syncFeedSubscription.name, name))
    .returning();
  return row;
}

/**
 * Moves the cursor from `from` to `to` after a delivery, only if no one moved it meanwhile (a
 * replay, a second execution of the delivery job). Returns whether it moved.
 */
export async function advanceCursor(
  db: Db,
  id: number,
  from: FeedPosition,
  to: FeedPosition,
  delivered: { changes: number; messages: number },
): Promise<boolean> {
  const rows = await db
    .update(syncFeedSubscription)
    .set({
      ...cursorValues(to),
      deliveredChanges: sql`${syncFeedSubscription.deliveredChanges} + ${delivered.changes}`,
      deliveredMessages: sql`${syncFeedSubscription.deliveredMessages} + ${delivered.messages}`,
      ...(delivered.messages > 0 ? { consecutiveFailures: 0, lastDeliveredAt: sql`now()` } : {}),
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(syncFeedSubscription.id, id),
        eq(syncFeedSubscription.status, 'active'),
        sql`${syncFeedSubscription.cursorXid} = ${from.xid.toString()}::xid8`,
        eq(syncFeedSubscription.cursorId, Number(from.id)),
      ),
    )
    .returning({ id: syncFeedSubscription.id });
  return rows.length > 0;
}

export async function recordDeliveryFailure(db: Db, id: number, error: SafeError): Promise<void> {
  await db
    .update(syncFeedSubscription)
    .set({
      failedAttempts: sql`${syncFeedSubscription.failedAttempts} + 1`,
      consecutiveFailures: sql`${syncFeedSubscription.consecutiveFailures} + 1`,
      lastError: `${error.code}: ${error.message}`,
      lastFailureAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(eq(syncFeedSubscription.id, id));
}

/** A subscription stopped on a dead letter delivers again from where it stopped. */
export async function resumeFailedSubscription(db: Db, id: number): Promise<void> {
  await db
    .update(syncFeedSubscription)
    .set({
      status: 'active',
      statusReason: null,
      deadLetter: null,
      consecutiveFailures: 0,
      updatedAt: sql`now()`,
    })
    .where(and(eq(syncFeedSubscription.id, id), eq(syncFeedSubscription.status, 'failing')));
}

/** Stops an active subscription: a dead letter, its receiver's 410, a cursor behind retention. */
export async function stopSubscription(
  db: Db,
  id: number,
  status: Exclude<SubscriptionStatus, 'active'>,
  reason: string,
  deadLetter?: DeadLetter,
): Promise<void> {
  await db
    .update(syncFeedSubscription)
    .set({ status, statusReason: reason, deadLetter: deadLetter ?? null, updatedAt: sql`now()` })
    .where(and(eq(syncFeedSubscription.id, id), eq(syncFeedSubscription.status, 'active')));
}

/** A subscription as FEED_SUBSCRIPTIONS_FILE declares it. */
export interface DeclaredSubscription extends SubscriptionInput {
  /**
   * Where it starts when it is new (default now); a later, different one moves its cursor back
   * there once, never forward (src/feed/declared-subscriptions.ts).
   */
  readonly start: SubscriptionStart;
}

/** What FEED_SUBSCRIPTIONS_FILE says: its subscriptions, and those it removes. */
export interface DeclaredSubscriptions {
  readonly subscriptions: readonly DeclaredSubscription[];
  /** Names the file deletes (`removed:`): the only way a file deletes one at once. */
  readonly removed: readonly string[];
}

/**
 * Seals every subscription's secret anew under FEED_SECRET_KEY: one an earlier version stored in
 * the clear, one sealed under FEED_SECRET_KEY_PREVIOUS. A worker does it at start.
 * @returns the subscriptions whose secret opens with no key given (a worker warns of each: their
 * deliveries fail until FEED_SECRET_KEY_PREVIOUS names the key that sealed them)
 */
export async function resealSecrets(db: Db, secrets: SubscriptionSecrets): Promise<string[]> {
  if (!secrets.canSeal) return [];
  const rows = await db
    .select({
      id: syncFeedSubscription.id,
      name: syncFeedSubscription.name,
      secret: syncFeedSubscription.secret,
    })
    .from(syncFeedSubscription);
  const unreadable: string[] = [];
  for (const row of rows) {
    let plain: string;
    try {
      plain = secrets.open(row.secret);
    } catch {
      unreadable.push(row.name);
      continue;
    }
    await db
      .update(syncFeedSubscription)
      .set({ secret: secrets.seal(plain) })
      // Only the value read: a subscription made or replaced meanwhile keeps its own.
      .where(and(eq(syncFeedSubscription.id, row.id), eq(syncFeedSubscription.secret, row.secret)));
  }
  return unreadable;
}
