/**
 * The Prometheus registry of one API process (never the global default registry, so tests and
 * several apps in one process do not collide). Sync figures come from the run log at scrape time,
 * since the workers, not the API, do the syncing — one reading shared by the scrapes of a few
 * seconds, and a scrape left whole while PostgreSQL is away (src/lib/scrape-reading.ts); queue
 * counts from BullMQ.
 */
import { sql } from 'drizzle-orm';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../db/create-db.js';
import { syncLog } from '../db/schema/index.js';
import { splitFamilyKey } from '../sources/family-key.js';
import { scrapedGauge } from '../lib/scraped-gauge.js';
import { scrapeReading } from '../lib/scrape-reading.js';
import { registerQueueMetrics } from '../queues/queue-metrics.js';
import type { Queues } from '../queues/queues.js';

export interface MetricSource {
  /** Registers further metrics (e.g. the Tryton client's counters) on the registry. */
  register(registry: Registry): void;
}

export interface AppMetrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
}

export function createMetrics(input: {
  db: Db;
  queues?: Queues;
  sources?: readonly MetricSource[];
}): AppMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'erp_bridge_' });
  const httpDuration = new Histogram({
    name: 'erp_bridge_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  registerRunLogMetrics(registry, input.db);
  if (input.queues) registerQueueMetrics(registry, input.queues);
  for (const source of input.sources ?? []) source.register(registry);
  return { registry, httpDuration };
}

/** The run log's figures the API shows: runs by kind and status, records by family and action. */
async function readRunLog(db: Db) {
  const [runs, records, [last]] = await Promise.all([
    db
      .select({ kind: syncLog.kind, status: syncLog.status, n: sql<number>`count(*)::int` })
      .from(syncLog)
      .groupBy(syncLog.kind, syncLog.status),
    db
      .select({
        family: syncLog.family,
        created: sql<number>`coalesce(sum(${syncLog.created}), 0)::int`,
        updated: sql<number>`coalesce(sum(${syncLog.updated}), 0)::int`,
        archived: sql<number>`coalesce(sum(${syncLog.archived}), 0)::int`,
        restored: sql<number>`coalesce(sum(${syncLog.restored}), 0)::int`,
        childrenDeleted: sql<number>`coalesce(sum(${syncLog.childrenDeleted}), 0)::int`,
        failed: sql<number>`coalesce(sum(${syncLog.failed}), 0)::int`,
      })
      .from(syncLog)
      .groupBy(syncLog.family),
    db
      .select({
        seconds: sql<
          number | null
        >`extract(epoch from ${syncLog.finishedAt} - ${syncLog.startedAt})::float8`,
      })
      .from(syncLog)
      .where(
        sql`${syncLog.kind} = 'sync' and ${syncLog.finishedAt} is not null and ${syncLog.status} <> 'skipped'`,
      )
      .orderBy(sql`${syncLog.id} desc`)
      .limit(1),
  ]);
  return { runs, records, lastRunSeconds: last?.seconds ?? 0 };
}

function registerRunLogMetrics(registry: Registry, db: Db): void {
  const runLog = scrapeReading(registry, 'run-log', () => readRunLog(db));
  scrapedGauge(
    registry,
    {
      name: 'erp_bridge_sync_runs',
      help: 'Sync and reconcile runs recorded in the run log, by kind and status',
      labelNames: ['kind', 'status'],
    },
    async () =>
      ((await runLog())?.runs ?? []).map(
        (row) => [{ kind: row.kind, status: row.status }, row.n] as const,
      ),
  );
  scrapedGauge(
    registry,
    {
      name: 'erp_bridge_sync_records',
      help: 'Root records changed by all runs of the run log, by family (its key), action and source',
      labelNames: ['family', 'action', 'source'],
    },
    async () =>
      ((await runLog())?.records ?? []).flatMap(({ family, ...counts }) => {
        const { source } = splitFamilyKey(family);
        return Object.entries(counts).map(
          ([action, value]) => [{ family, action, source }, value] as const,
        );
      }),
  );
  scrapedGauge(
    registry,
    {
      name: 'erp_bridge_sync_last_run_duration_seconds',
      help: 'Duration of the last finished sync run',
      labelNames: [],
    },
    async () => {
      const reading = await runLog();
      return reading ? [[{}, reading.lastRunSeconds] as const] : [];
    },
  );
}
