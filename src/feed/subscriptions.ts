/**
 * The change feed's subscriptions (`sync_feed_subscription`): a receiver's URL, its signing
 * secret, what it wants (families, models) and its cursor — every change up to the cursor was
 * delivered. The only module that writes the table.
 *
 * A subscription starts at the head unless told otherwise: a first copy of a million records
 * made after it subscribed is what it asked for, but the history before it never floods it.
 */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import {
  syncFeedSubscription,
  type DeadLetter,
  type SubscriptionStatus,
  type SyncFeedSubscriptionRow,
} from '../db/schema/index.js';
import { textArray } from '../db/sql-rows.js';
import { EVERY_SOURCE } from '../sources/family-key.js';
import { AppError, type SafeError } from '../lib/errors.js';
import { decodePosition, encodePosition, positionOf, type FeedPosition } from './position.js';
import { readHead, readHorizon, refusePastHead, type FeedFilter } from './read-changes.js';
import type { SubscriptionSecrets } from './secret.js';

/** Where a new subscription starts: now (the head), the oldest change kept, or a position. */
export type SubscriptionStart = 'now' | 'oldest' | { readonly position: string };

export interface SubscriptionInput {
  readonly name: string;
  readonly url: string;
  readonly secret: string;
  /**
   * The sources whose changes it takes (`*`: every source, those added later too); its families
   * and models narrow them.
   */
  readonly sources: readonly string[];
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
  sources: row.sources.includes(EVERY_SOURCE) ? undefined : row.sources,
  families: row.families,
  models: row.models,
});

/** @throws FeedPositionError for a position the feed never gave (past its head included) */
async function startPosition(db: Db, start: SubscriptionStart): Promise<FeedPosition> {
  if (start === 'now') return readHead(db);
  if (start === 'oldest') return readHorizon(db);
  const position = decodePosition(start.position);
  await refusePastHead(db, position);
  return position;
}

const cursorValues = (position: FeedPosition) => ({
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
      sources: [...input.sources],
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
export interface DeclaredSubscription extends Omit<SubscriptionInput, 'sources'> {
  /**
   * Where it starts when it is new (default now); a later, different one moves its cursor back
   * there once, never forward (applyDeclaredSubscriptions).
   */
  readonly start: SubscriptionStart;
  /**
   * The sources the file names; none: a new subscription takes the deployment's unnamed sources,
   * a known one keeps its own (a file never widens or narrows what it was made for unasked).
   */
  readonly sources?: readonly string[] | undefined;
}

/** What FEED_SUBSCRIPTIONS_FILE says: its subscriptions, and those it removes. */
export interface DeclaredSubscriptions {
  readonly subscriptions: readonly DeclaredSubscription[];
  /** Names the file deletes (`removed:`): the only way a file deletes one at once. */
  readonly removed: readonly string[];
  /** What a new subscription that names no source takes (source-family.ts, unnamedSources). */
  readonly unnamedSources: readonly string[];
}

/*
 * The subscriptions of FEED_SUBSCRIPTIONS_FILE, as each process that has the file sees it
 * (docs/feed.md, "Subscriptions of the file"). Workers need not all have the file, nor the same
 * copy of it (a rolling update, a Deployment of its own): so a subscription the file does not name
 * is kept, a cursor never moves forward because a file says so, and a copy that disagrees with
 * the subscription (its URL, filters or `from`) is said, not silently obeyed for ever after.
 */

/** A subscription of the file no process has declared for this long is deleted. */
const UNDECLARED_FOR = sql`interval '1 day'`;

/**
 * How long a subscription counts as declared differently once a worker found its file other than
 * the subscription: three of the workers' ten-minute checks (FAMILIES_SEEN_EVERY_MS), so that
 * copies that still disagree keep it so between two checks.
 */
export const DECLARATIONS_DIFFER_FOR_MS = 30 * 60_000;

const startText = (start: SubscriptionStart) =>
  typeof start === 'string' ? start : start.position;

/** What a process with the file did, or found, on a subscription of it: a line for its log. */
export interface DeclarationNotice {
  readonly subscription: string;
  readonly code: 'FEED_FROM_REPLAYED' | 'FEED_FROM_AHEAD' | 'FEED_DECLARATION_DIFFERS';
  readonly message: string;
}

/** The settings of `declared` that differ from the subscription's, by name. */
function differences(row: SyncFeedSubscriptionRow, declared: DeclaredSubscription): string[] {
  const sameSet = (a: readonly string[], b: readonly string[]) =>
    [...new Set(a)].sort().join('\n') === [...new Set(b)].sort().join('\n');
  return [
    ...(row.url === declared.url ? [] : ['url']),
    ...(declared.sources === undefined || sameSet(row.sources, declared.sources)
      ? []
      : ['sources']),
    ...(sameSet(row.families, declared.families) ? [] : ['families']),
    ...(sameSet(row.models, declared.models) ? [] : ['models']),
    // A row from before `declared_from` was kept has no `from` to differ from.
    ...(row.declaredFrom === null || row.declaredFrom === startText(declared.start)
      ? []
      : ['from']),
  ];
}

/**
 * Keeps the file's subscriptions in the table: a new one starts where it says; a known one takes
 * the file's URL, secret and filters and keeps its cursor. A `from` is weighed once, the first
 * time a process declares it for the subscription: behind the cursor, the cursor moves back there
 * (a replay, active again); at or past it, the cursor stays, since moving it would skip changes
 * not delivered yet. So an older copy of the file, declaring a `from` weighed before, neither
 * replays again nor undoes a replay. A subscription this file does not name is left as it is, and
 * deleted only when a file lists it under `removed`, or once no process has declared it for a
 * day. Every worker applies it at start.
 * @returns the subscriptions of a file that this one does not name, and what this file changed
 * or could not change (a worker warns of each)
 * @throws SubscriptionError when the file names a subscription made through the API
 */
export async function applyDeclaredSubscriptions(
  db: Db,
  declared: DeclaredSubscriptions,
  secrets: SubscriptionSecrets,
): Promise<{ undeclared: string[]; notices: DeclarationNotice[] }> {
  const names = declared.subscriptions.map((subscription) => subscription.name);
  const taken =
    names.length === 0
      ? []
      : await db
          .select({ name: syncFeedSubscription.name })
          .from(syncFeedSubscription)
          .where(
            and(inArray(syncFeedSubscription.name, names), eq(syncFeedSubscription.source, 'api')),
          );
  if (taken.length > 0)
    throw new SubscriptionError(
      'FEED_SUBSCRIPTION_EXISTS',
      `FEED_SUBSCRIPTIONS_FILE names ${taken.map((row) => `"${row.name}"`).join(', ')}, made through the API: name it otherwise, or delete the API's`,
    );
  const notices: DeclarationNotice[] = [];
  for (const subscription of declared.subscriptions)
    notices.push(
      ...(await applyOne(
        db,
        subscription,
        await startPosition(db, subscription.start),
        secrets,
        declared.unnamedSources,
      )),
    );
  if (declared.removed.length > 0)
    await db
      .delete(syncFeedSubscription)
      .where(
        and(
          eq(syncFeedSubscription.source, 'file'),
          inArray(syncFeedSubscription.name, [...declared.removed]),
        ),
      );
  await deleteUndeclared(db);
  const others = await db
    .select({ name: syncFeedSubscription.name })
    .from(syncFeedSubscription)
    .where(
      and(
        eq(syncFeedSubscription.source, 'file'),
        names.length === 0
          ? sql`true`
          : sql`not (${syncFeedSubscription.name} = any(${textArray(names)}::text[]))`,
      ),
    )
    .orderBy(asc(syncFeedSubscription.name));
  return { undeclared: others.map((row) => row.name), notices };
}

async function applyOne(
  db: Db,
  subscription: DeclaredSubscription,
  from: FeedPosition,
  secrets: SubscriptionSecrets,
  unnamed: readonly string[],
): Promise<DeclarationNotice[]> {
  const { name } = subscription;
  const declaredFrom = startText(subscription.start);
  const settings = {
    url: subscription.url,
    secret: secrets.seal(subscription.secret),
    ...(subscription.sources === undefined ? {} : { sources: [...subscription.sources] }),
    families: [...subscription.families],
    models: [...subscription.models],
    declaredAt: sql`now()`,
    declaredFrom,
  };
  return db.transaction(async (tx) => {
    const created = await tx
      .insert(syncFeedSubscription)
      .values({
        name,
        sources: [...unnamed],
        ...settings,
        source: 'file',
        ...cursorValues(from),
        seenFroms: [declaredFrom],
      })
      .onConflictDoNothing({ target: syncFeedSubscription.name })
      .returning({ id: syncFeedSubscription.id });
    if (created.length > 0) return [];
    // Locked: two workers starting together weigh a `from` once between them.
    const [row] = await tx
      .select()
      .from(syncFeedSubscription)
      .where(eq(syncFeedSubscription.name, name))
      .for('update');
    if (row?.source !== 'file')
      throw new SubscriptionError(
        'FEED_SUBSCRIPTION_EXISTS',
        `FEED_SUBSCRIPTIONS_FILE names "${name}", made through the API meanwhile: name it otherwise, or delete the API's`,
      );
    const notices: DeclarationNotice[] = [];
    const differ = differences(row, subscription);
    if (differ.length > 0)
      notices.push({
        subscription: name,
        code: 'FEED_DECLARATION_DIFFERS',
        message: `subscription ${name}: this worker's FEED_SUBSCRIPTIONS_FILE gives another ${differ.join(', ')} than the process that declared it last (an edited file, or another copy of it): this file's apply`,
      });
    // A row from before `declared_from` was kept has its cursor kept: its `from` is unknown.
    const weighed = row.declaredFrom === null || row.seenFroms.includes(declaredFrom);
    const cursor = encodePosition(cursorOf(row));
    const replay = !weighed && encodePosition(from) < cursor;
    if (replay)
      notices.push({
        subscription: name,
        code: 'FEED_FROM_REPLAYED',
        message: `subscription ${name}: its from changed to ${declaredFrom}, behind its cursor ${cursor}: it delivers again from there, once (a from already weighed is never applied again)`,
      });
    else if (!weighed && encodePosition(from) > cursor)
      notices.push({
        subscription: name,
        code: 'FEED_FROM_AHEAD',
        message: `subscription ${name}: its from changed to ${declaredFrom}, past its cursor ${cursor}: the cursor stays, since a from never skips changes not delivered (a from moves a cursor back only; POST /api/changes/subscriptions/${name}/replay moves it anywhere)`,
      });
    await tx
      .update(syncFeedSubscription)
      .set({
        ...settings,
        seenFroms: row.seenFroms.includes(declaredFrom)
          ? row.seenFroms
          : [...row.seenFroms, declaredFrom],
        ...(replay
          ? { ...cursorValues(from), status: 'active', statusReason: null, deadLetter: null }
          : {}),
        updatedAt: sql`now()`,
      })
      .where(eq(syncFeedSubscription.id, row.id));
    return notices;
  });
}

/**
 * Notes that a process with the file still declares these subscriptions (a worker does every ten
 * minutes), and deletes those no process has declared for a day. One whose URL, filters or `from`
 * differ from this process's file is marked so (declaration_differs_at, a metric while it lasts).
 * @returns what differs, a line for each (a worker warns of each)
 */
export async function keepDeclaredSubscriptions(
  db: Db,
  declared: readonly DeclaredSubscription[],
): Promise<DeclarationNotice[]> {
  const notices: DeclarationNotice[] = [];
  const names = declared.map((subscription) => subscription.name);
  if (names.length > 0) {
    const rows = await db
      .select()
      .from(syncFeedSubscription)
      .where(
        and(eq(syncFeedSubscription.source, 'file'), inArray(syncFeedSubscription.name, names)),
      );
    const differing: string[] = [];
    for (const row of rows) {
      const differ = differences(
        row,
        declared.find((one) => one.name === row.name)!,
      );
      if (differ.length === 0) continue;
      differing.push(row.name);
      notices.push({
        subscription: row.name,
        code: 'FEED_DECLARATION_DIFFERS',
        message: `subscription ${row.name}: another process declared another ${differ.join(', ')} than this worker's FEED_SUBSCRIPTIONS_FILE gives; the copies of the file disagree, and the last worker to start applies its own: give every worker the same file`,
      });
    }
    await db
      .update(syncFeedSubscription)
      .set({
        declaredAt: sql`now()`,
        ...(differing.length > 0
          ? {
              declarationDiffersAt: sql`case when ${syncFeedSubscription.name} = any(${textArray(differing)}::text[]) then now() else ${syncFeedSubscription.declarationDiffersAt} end`,
            }
          : {}),
      })
      .where(
        and(eq(syncFeedSubscription.source, 'file'), inArray(syncFeedSubscription.name, names)),
      );
  }
  await deleteUndeclared(db);
  return notices;
}

async function deleteUndeclared(db: Db): Promise<void> {
  await db
    .delete(syncFeedSubscription)
    .where(
      and(
        eq(syncFeedSubscription.source, 'file'),
        sql`${syncFeedSubscription.declaredAt} < now() - ${UNDECLARED_FOR}`,
      ),
    );
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
