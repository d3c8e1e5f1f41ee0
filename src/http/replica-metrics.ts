/**
 * `erp_bridge_replica_lag_seconds`: how stale the streaming replica the API reads from is
 * (src/db/replica.ts says how it is read). Empty while the replica does not answer, and the
 * failure counted as every scrape reading's is (src/lib/scrape-reading.ts).
 */
import { Gauge, type Registry } from 'prom-client';
import type postgres from 'postgres';
import { readReplicaLagSeconds } from '../db/replica.js';
import { scrapeReading } from '../lib/scrape-reading.js';
import type { MetricSource } from './metrics.js';

export function replicaMetrics(replica: postgres.Sql): MetricSource {
  return {
    register(registry: Registry) {
      const lag = scrapeReading(registry, 'replica', () => readReplicaLagSeconds(replica));
      new Gauge({
        name: 'erp_bridge_replica_lag_seconds',
        help: 'How far the replica the API reads from (DATABASE_READ_URL) is behind its primary: 0 while it has replayed all it received, else the age of the last transaction it replayed',
        registers: [registry],
        async collect() {
          const seconds = await lag();
          this.reset();
          if (seconds !== undefined && seconds !== null) this.set(seconds);
        },
      });
    },
  };
}
