/**
 * The API keys' expiry as Prometheus sees it, per process and per source (each source's Odoo has
 * its key, docs/sources.md), read at each scrape from the last check:
 * `erp_bridge_odoo_api_key_expiry_seconds` (seconds until it lapses: negative once lapsed, +Inf
 * for a persistent key, NaN when unknown) and `erp_bridge_odoo_api_key_expiring` (1 within
 * ODOO_API_KEY_WARN_DAYS or lapsed): alert on the second.
 */
import type { Registry } from 'prom-client';
import { scrapedGauge } from '../lib/scraped-gauge.js';
import type { ApiKeyStatus } from './link-status.js';

/** A source's key as its lifecycle last checked it. */
export interface SourceKeyStatus {
  readonly source: string;
  readonly status: ApiKeyStatus;
}

export function registerApiKeyMetrics(
  registry: Registry,
  statuses: () => readonly SourceKeyStatus[],
): void {
  const gauge = (name: string, help: string, value: (status: ApiKeyStatus) => number) =>
    scrapedGauge(registry, { name, help, labelNames: ['source'] }, () =>
      statuses().map(({ source, status }) => [{ source }, value(status)] as const),
    );
  gauge(
    'erp_bridge_odoo_api_key_expiry_seconds',
    "Seconds until a source's Odoo API key lapses, as this process last checked it (+Inf: never; NaN: unknown)",
    (status) => (status.state === 'never' ? Infinity : (status.secondsLeft ?? Number.NaN)),
  );
  gauge(
    'erp_bridge_odoo_api_key_expiring',
    "1 when a source's Odoo API key lapses within ODOO_API_KEY_WARN_DAYS or has lapsed, else 0",
    (status) => (status.state === 'expiring' || status.state === 'lapsed' ? 1 : 0),
  );
}
