/**
 * How each subscription stands — its cursor, how far behind it is, what it delivered, its
 * failures and dead letter — for `npm run sync -- status`, the admin routes and the metrics. Its
 * secret never appears; its URL with any credentials masked.
 */
import type { Db } from '../db/create-db.js';
import type {
  DeadLetter,
  SubscriptionStatus,
  SyncFeedSubscriptionRow,
} from '../db/schema/index.js';
import { redactUrl } from '../lib/redact-url.js';
import { encodePosition } from './position.js';
import { readBacklog } from './read-changes.js';
import {
  cursorOf,
  DECLARATIONS_DIFFER_FOR_MS,
  filterOf,
  listSubscriptions,
} from './subscriptions.js';

export interface SubscriptionView {
  readonly name: string;
  readonly url: string;
  /** The Odoo sources it takes (`*`: every one). */
  readonly sources: readonly string[];
  readonly families: readonly string[];
  readonly models: readonly string[];
  readonly source: 'file' | 'api';
  readonly status: SubscriptionStatus;
  readonly statusReason: string | null;
  readonly cursor: string;
  /** Changes after the cursor it takes, counted up to 10,000 (`lagMore` past it). */
  readonly lagChanges: number;
  readonly lagMore: boolean;
  /** Age of the oldest change it has not received; 0 when caught up. */
  readonly lagSeconds: number;
  readonly deliveredChanges: number;
  readonly deliveredMessages: number;
  readonly failedAttempts: number;
  readonly consecutiveFailures: number;
  readonly lastError: string | null;
  readonly lastFailureAt: Date | null;
  readonly lastDeliveredAt: Date | null;
  readonly deadLetter: DeadLetter | null;
  /**
   * A subscription of the file: whether a worker found, in the last half hour, that its copy of
   * FEED_SUBSCRIPTIONS_FILE gives it another URL, filters or `from` (the copies disagree).
   */
  readonly declarationsDiffer: boolean;
  readonly createdAt: Date;
}

export async function viewSubscription(
  db: Db,
  row: SyncFeedSubscriptionRow,
  nowMs = Date.now(),
): Promise<SubscriptionView> {
  const backlog = await readBacklog(db, cursorOf(row), filterOf(row));
  return {
    name: row.name,
    url: redactUrl(row.url),
    sources: row.sources,
    families: row.families,
    models: row.models,
    source: row.source,
    status: row.status,
    statusReason: row.statusReason,
    cursor: encodePosition(cursorOf(row)),
    lagChanges: backlog.changes,
    lagMore: backlog.more,
    lagSeconds: backlog.oldestAt
      ? Math.max(0, Math.round((nowMs - backlog.oldestAt.getTime()) / 1_000))
      : 0,
    deliveredChanges: row.deliveredChanges,
    deliveredMessages: row.deliveredMessages,
    failedAttempts: row.failedAttempts,
    consecutiveFailures: row.consecutiveFailures,
    lastError: row.lastError,
    lastFailureAt: row.lastFailureAt,
    lastDeliveredAt: row.lastDeliveredAt,
    deadLetter: row.deadLetter,
    declarationsDiffer:
      row.declarationDiffersAt !== null &&
      nowMs - row.declarationDiffersAt.getTime() < DECLARATIONS_DIFFER_FOR_MS,
    createdAt: row.createdAt,
  };
}

export async function viewSubscriptions(db: Db): Promise<SubscriptionView[]> {
  const views: SubscriptionView[] = [];
  // One at a time: a caller holds one connection at a time.
  for (const row of await listSubscriptions(db)) views.push(await viewSubscription(db, row));
  return views;
}

/** The status lines of `npm run sync -- status`. */
export function describeSubscriptionLines(views: readonly SubscriptionView[]): string[] {
  if (views.length === 0) return ['change feed: no subscription'];
  return [
    'change feed subscriptions',
    ...views.flatMap((view) => [
      `  ${view.name} → ${view.url} (${view.source}; ${view.families.length > 0 ? view.families.join(', ') : 'every family'}${view.models.length > 0 ? `; ${view.models.join(', ')}` : ''})`,
      `    status:      ${view.status}${view.statusReason ? ` — ${view.statusReason}` : ''}`,
      `    behind:      ${view.lagChanges}${view.lagMore ? '+' : ''} changes, ${view.lagSeconds} s (cursor ${view.cursor})`,
      `    delivered:   ${view.deliveredChanges} changes in ${view.deliveredMessages} messages, last ${view.lastDeliveredAt?.toISOString() ?? 'never'}`,
      `    failures:    ${view.failedAttempts} attempts, ${view.consecutiveFailures} in a row${view.lastError ? `; last: ${view.lastError} at ${view.lastFailureAt?.toISOString() ?? '?'}` : ''}`,
      ...(view.declarationsDiffer
        ? [
            `    declared:    differently by the copies of FEED_SUBSCRIPTIONS_FILE (URL, filters or from; the workers' logs say which): give every worker the same file`,
          ]
        : []),
      ...(view.deadLetter
        ? [
            `    dead letter: ${view.deadLetter.webhookId} (${view.deadLetter.changes} changes after ${view.deadLetter.from}): ${view.deadLetter.code} — replay it: POST /api/changes/subscriptions/${view.name}/replay`,
          ]
        : []),
    ]),
  ];
}
