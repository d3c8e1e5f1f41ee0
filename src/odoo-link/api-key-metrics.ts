/**
 * The API key's expiry as Prometheus sees it, per process, read at each scrape from the last
 * check: `erp_bridge_odoo_api_key_expiry_seconds` (seconds until it lapses: negative once
 * lapsed, +Inf for a persistent key, NaN when unknown) and `erp_bridge_odoo_api_key_expiring`
 * (1 within ODOO_API_KEY_WARN_DAYS or lapsed): alert on the second.
 */
import { Gauge, type Registry } from 'prom-client';
import type { ApiKeyStatus } from './link-status.js';

export function registerApiKeyMetrics(registry: Registry, status: () => ApiKeyStatus): void {
  new Gauge({
    name: 'erp_bridge_odoo_api_key_expiry_seconds',
    help: 'Seconds until the Odoo API key in use lapses, as this process last checked it (+Inf: never; NaN: unknown)',
    registers: [registry],
    collect() {
      const { state, secondsLeft } = status();
      this.set(state === 'never' ? Infinity : (secondsLeft ?? Number.NaN));
    },
  });
  new Gauge({
    name: 'erp_bridge_odoo_api_key_expiring',
    help: '1 when the Odoo API key lapses within ODOO_API_KEY_WARN_DAYS or has lapsed, else 0',
    registers: [registry],
    collect() {
      const { state } = status();
      this.set(state === 'expiring' || state === 'lapsed' ? 1 : 0);
    },
  });
}
