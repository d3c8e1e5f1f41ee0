/**
 * The change feed's subscriptions as Prometheus gauges, read from the database at scrape time (the
 * worker's registry): how far behind each is, in changes and seconds, what it delivered, its
 * failures, and whether it stopped on a dead letter. One reading shared by the gauges and the
 * scrapes of a few seconds (src/lib/scrape-reading.ts), each subscription's within a bound
 * (readBacklog): however often the port is scraped, and however far behind a subscription is, a
 * scrape costs the database little.
 */
import type { Registry } from 'prom-client';
import type { Db } from '../db/create-db.js';
import { SUBSCRIPTION_STATUSES } from '../db/schema/index.js';
import { scrapeReading } from '../lib/scrape-reading.js';
import { scrapedGauge } from '../lib/scraped-gauge.js';
import { viewSubscriptions, type SubscriptionView } from './subscription-status.js';

export function registerFeedMetrics(registry: Registry, db: Db): void {
  const views = scrapeReading(registry, 'feed', () => viewSubscriptions(db));
  const gauge = (name: string, help: string, value: (view: SubscriptionView) => number) =>
    scrapedGauge(registry, { name, help, labelNames: ['subscription'] }, async () =>
      ((await views()) ?? []).map((view) => [{ subscription: view.name }, value(view)] as const),
    );
  gauge(
    'erp_bridge_feed_lag_changes',
    'Changes committed to the copy that a subscription has not received yet, among the next 10,000 of the feed',
    (view) => view.lagChanges,
  );
  gauge(
    'erp_bridge_feed_lag_seconds',
    'Age of the oldest change a subscription has not received yet (0 when caught up)',
    (view) => view.lagSeconds,
  );
  gauge(
    'erp_bridge_feed_delivered_changes',
    'Changes a subscription delivered since it was created',
    (view) => view.deliveredChanges,
  );
  gauge(
    'erp_bridge_feed_failed_attempts',
    'Deliveries to a subscription that failed (a status, a timeout, a network error), since it was created',
    (view) => view.failedAttempts,
  );
  gauge(
    'erp_bridge_feed_dead_letters',
    'Whether a subscription stopped on a message that failed for good (1) until it is replayed',
    (view) => (view.deadLetter ? 1 : 0),
  );
  gauge(
    'erp_bridge_feed_subscription_declarations_differ',
    "Whether a worker found, in the last half hour, that its copy of FEED_SUBSCRIPTIONS_FILE gives a subscription another URL, filters or from (1): the workers' copies disagree",
    (view) => (view.declarationsDiffer ? 1 : 0),
  );
  scrapedGauge(
    registry,
    {
      name: 'erp_bridge_feed_subscription_status',
      help: "Each subscription's status: 1 for the one it is in (active, failing, ended, expired)",
      labelNames: ['subscription', 'status'],
    },
    async () =>
      ((await views()) ?? []).flatMap((view) =>
        SUBSCRIPTION_STATUSES.map(
          (status) =>
            [{ subscription: view.name, status }, view.status === status ? 1 : 0] as const,
        ),
      ),
  );
}
