/** Exposes the Tryton client's and cache's counters to Prometheus, read at scrape time. */
import { Gauge, type Registry } from 'prom-client';
import type { TrytonCache } from '../clients/tryton/tryton-cache.js';
import type { TrytonClient } from '../clients/tryton/tryton-client.js';
import type { MetricSource } from './metrics.js';

export function trytonMetrics(client: TrytonClient, cache?: TrytonCache): MetricSource {
  return {
    register(registry: Registry) {
      new Gauge({
        name: 'erp_bridge_tryton_calls',
        help: 'Tryton calls since start, by outcome (ok or the error code)',
        labelNames: ['outcome'] as const,
        registers: [registry],
        collect() {
          this.reset();
          for (const [outcome, n] of Object.entries(client.stats().calls)) this.set({ outcome }, n);
        },
      });
      new Gauge({
        name: 'erp_bridge_tryton_session_events',
        help: 'Tryton logins, failed logins, rejected sessions and retries since start',
        labelNames: ['event'] as const,
        registers: [registry],
        collect() {
          const { calls: _calls, ...events } = client.stats();
          this.reset();
          for (const [event, n] of Object.entries(events)) this.set({ event }, n);
        },
      });
      if (cache) {
        new Gauge({
          name: 'erp_bridge_tryton_cache',
          help: 'Tryton cache lookups since start (hits, of which localHits in-process, misses, errors, writes) and the in-process level now (localEntries, localBytes)',
          labelNames: ['result'] as const,
          registers: [registry],
          collect() {
            this.reset();
            for (const [result, n] of Object.entries(cache.stats()) as [string, number][]) {
              this.set({ result }, n);
            }
          },
        });
      }
    },
  };
}
