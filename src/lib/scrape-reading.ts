/**
 * A database reading behind Prometheus gauges collected at scrape time. The gauges of one scrape
 * and the scrapes of a few seconds share it, so however often the port is scraped the database
 * pays one small read. A reading that fails leaves its gauges empty for that scrape and counts
 * the failure (`erp_bridge_metrics_read_failures_total{reading}`); it never fails the scrape: a
 * scrape failed whole reads as the process down, and the process's own figures (its queues, its
 * memory) are what an operator needs while PostgreSQL is away.
 */
import { Counter, type Registry } from 'prom-client';

/** Gauges of one scrape, and the scrapes of a few seconds, share one reading. */
const READING_REUSED_MS = 5_000;

const FAILURES = 'erp_bridge_metrics_read_failures_total';

function failuresOf(registry: Registry): Counter<'reading'> {
  return (
    (registry.getSingleMetric(FAILURES) as Counter<'reading'> | undefined) ??
    new Counter({
      name: FAILURES,
      help: 'Scrapes whose database reading failed (PostgreSQL away or slow), by reading: its gauges were left empty',
      labelNames: ['reading'] as const,
      registers: [registry],
    })
  );
}

/**
 * @param name what is read, the failures' label (`feed`, `families`)
 * @returns the reading, shared for a few seconds; undefined when it failed
 */
export function scrapeReading<T>(
  registry: Registry,
  name: string,
  read: () => Promise<T>,
): () => Promise<T | undefined> {
  const failures = failuresOf(registry);
  failures.inc({ reading: name }, 0);
  let last: { at: number; value: Promise<T | undefined> } | undefined;
  return () => {
    if (!last || Date.now() - last.at > READING_REUSED_MS)
      last = {
        at: Date.now(),
        value: read().catch(() => {
          failures.inc({ reading: name });
          return undefined;
        }),
      };
    return last.value;
  };
}
