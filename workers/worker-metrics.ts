/**
 * The worker process's Prometheus registry (the composition root adds the queue counts the API
 * also shows, from src/queues/queue-metrics.ts): what only a worker sees as it happens — each Odoo call's latency, bytes, retries and errors by code, the
 * call budget's waits and pauses and its choice of calls in flight, the
 * records its jobs created, updated, archived, restored and deleted, and how long runs took, by
 * record family (an Odoo call's family is its job's: job-family.ts).
 * A series with a `family` label (the family's key, `acme.bcs`, which dashboards and alert rules
 * read as they always have) has a `source` label too: the source the family is copied from.
 * Counters start at zero with the process; Prometheus' `rate()` and `increase()` handle restarts.
 */
import type { Job } from 'bullmq';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { OdooCallObserver } from '../src/clients/odoo/index.js';
import type { CallBudgetObserver } from '../src/odoo-budget/call-budget.js';
import type { Db } from '../src/db/create-db.js';
import type { ScheduledFamily } from '../src/queues/schedules.js';
import type { RunCounts } from '../src/sync/run-counts.js';
import { listFailures } from '../src/sync/sync-failures.js';
import { readSyncState } from '../src/sync/sync-state.js';
import { readUnfitValues } from '../src/sync/unfit-values.js';
import { scrapeReading } from '../src/lib/scrape-reading.js';
import { readUnsettledWebhooks } from '../src/sync/webhook-inbox.js';
import { currentFamily } from './job-family.js';
import { splitFamilyKey } from '../src/sources/family-key.js';

export interface WorkerMetrics {
  readonly registry: Registry;
  /** Hand it to a source's Odoo client: it times every attempt, a job's or not. */
  odooOf(source: string): OdooCallObserver;
  /** Hand it to a source's call budget: it counts waits and pauses. */
  budgetOf(source: string): CallBudgetObserver;
  /** Counts what a completed job wrote, and for a run or a reconcile how long it took. */
  jobCompleted(job: Job, result: unknown): void;
}

/** The record counters of a run's counts, by the `action` label they get. */
const RECORD_ACTIONS = {
  created: 'created',
  updated: 'updated',
  archived: 'archived',
  restored: 'restored',
  childrenDeleted: 'children_deleted',
  // A verify's writes of what differed from Odoo.
  healed: 'drift',
} as const satisfies Partial<Record<keyof RunCounts, string>>;

/** What stands for the family where there is none (job-family.ts, a job without one): no source either. */
const NO_FAMILY = new Set(['none', 'unknown']);

/** The `source` label of a series of `family` (a family's key). */
const sourceOf = (family: string) =>
  NO_FAMILY.has(family) ? family : splitFamilyKey(family).source;

/** Jobs whose result carries the counts of what they wrote themselves (a run only adds them up). */
const WRITING_JOBS = new Set([
  'sync-page',
  'sync-record',
  'resync-record',
  'webhook-record',
  'reconcile',
  'verify',
]);

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'erp_bridge_' });

  const odooDuration = new Histogram({
    name: 'erp_bridge_odoo_call_duration_seconds',
    help: "Odoo call attempts by family (its job's; none outside jobs) and its source, call (model.method) and outcome (ok or the error code): _count the calls, _sum the time spent in Odoo",
    labelNames: ['family', 'call', 'outcome', 'source'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const odooBytes = new Counter({
    name: 'erp_bridge_odoo_call_bytes_total',
    help: 'Bytes of the bodies of Odoo call attempts, by family, source and direction (sent, received)',
    labelNames: ['family', 'direction', 'source'] as const,
    registers: [registry],
  });
  const odooRetries = new Counter({
    name: 'erp_bridge_odoo_call_retries_total',
    help: 'Odoo call attempts retried, by family, source, call and the error code that caused the retry',
    labelNames: ['family', 'call', 'code', 'source'] as const,
    registers: [registry],
  });
  const odooErrors = new Counter({
    name: 'erp_bridge_odoo_call_errors_total',
    help: 'Odoo call attempts that failed, by family, source, call and error code',
    labelNames: ['family', 'call', 'code', 'source'] as const,
    registers: [registry],
  });
  const budgetWait = new Histogram({
    name: 'erp_bridge_odoo_budget_wait_seconds',
    help: "Odoo call attempts that waited for the fleet's call budget, by family, source and what held them first (concurrency, rate, pause): _count the waits, _sum the time waited",
    labelNames: ['family', 'reason', 'source'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const budgetPauses = new Counter({
    name: 'erp_bridge_odoo_budget_pauses_total',
    help: "Pauses of every Odoo call of the fleet to a source's Odoo this process started, by source and the status Odoo answered (429, 503)",
    labelNames: ['status', 'source'] as const,
    registers: [registry],
  });
  const callsInFlightLimit = new Gauge({
    name: 'erp_bridge_odoo_calls_in_flight_limit',
    help: "With ODOO_ADAPTIVE_CONCURRENCY: the Odoo calls this process lets in at once, by source, as its measure or the fleet's chose (1: Odoo serves them one at a time; absent until a choice)",
    labelNames: ['source'] as const,
    registers: [registry],
  });
  const budgetPausedSeconds = new Counter({
    name: 'erp_bridge_odoo_budget_paused_seconds_total',
    help: 'Length of the pauses this process started, in seconds, by source',
    labelNames: ['source'] as const,
    registers: [registry],
  });
  const records = new Counter({
    name: 'erp_bridge_sync_records_written_total',
    help: 'Root records created, updated, archived and restored, and children deleted, by the jobs of this worker, by family and source',
    labelNames: ['family', 'action', 'source'] as const,
    registers: [registry],
  });
  const runDuration = new Histogram({
    name: 'erp_bridge_sync_run_duration_seconds',
    help: 'Duration of finished sync runs and reconciles, by family, source, kind and status',
    labelNames: ['family', 'kind', 'status', 'source'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1_800, 3_600],
    registers: [registry],
  });

  const futureStamped = new Counter({
    name: 'erp_bridge_sync_future_stamped_records_total',
    help: "Records the runs' scans saw stamped later than Odoo's clock (read, never a watermark), by family and source",
    labelNames: ['family', 'source'] as const,
    registers: [registry],
  });

  const drifted = new Counter({
    name: 'erp_bridge_sync_drifted_records_total',
    help: 'Root records a verify found different from Odoo by content (children and links included), by family and source',
    labelNames: ['family', 'source'] as const,
    registers: [registry],
  });

  const webhookLag = new Histogram({
    name: 'erp_bridge_webhook_lag_seconds',
    help: "From an Odoo webhook's arrival to its record's committed copy in PostgreSQL, by family and source",
    labelNames: ['family', 'source'] as const,
    buckets: [0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30],
    registers: [registry],
  });

  return {
    registry,
    // A call's source is its client's: a call outside any job (the API key's checks) has one too.
    odooOf: (source) => ({
      attempt(call, durationMs, outcome, bytes) {
        const family = currentFamily();
        odooDuration.observe({ family, call, outcome, source }, durationMs / 1_000);
        if (bytes.sentBytes > 0)
          odooBytes.inc({ family, direction: 'sent', source }, bytes.sentBytes);
        if (bytes.receivedBytes > 0)
          odooBytes.inc({ family, direction: 'received', source }, bytes.receivedBytes);
        if (outcome !== 'ok') odooErrors.inc({ family, call, code: outcome, source });
      },
      retry(call, code) {
        odooRetries.inc({ family: currentFamily(), call, code, source });
      },
    }),
    budgetOf: (source) => ({
      waited(reason, waitedMs) {
        budgetWait.observe({ family: currentFamily(), reason, source }, waitedMs / 1_000);
      },
      paused(status, pauseMs) {
        budgetPauses.inc({ status: String(status), source });
        budgetPausedSeconds.inc({ source }, pauseMs / 1_000);
      },
      chose(limit) {
        callsInFlightLimit.set({ source }, limit);
      },
    }),
    jobCompleted(job, result) {
      if (typeof result !== 'object' || result === null) return;
      const outcome = result as {
        status?: unknown;
        durationMs?: unknown;
        counts?: Partial<RunCounts>;
        committed?: unknown;
        action?: unknown;
      } & Partial<RunCounts>;
      const data = job.data as { family?: unknown; receivedAtMs?: unknown };
      const family = typeof data.family === 'string' ? data.family : 'unknown';
      const source = sourceOf(family);
      if (WRITING_JOBS.has(job.name)) {
        // Page and record jobs report `{ counts }`; a reconcile spreads its counts in its result.
        const counts = outcome.counts ?? outcome;
        for (const [field, action] of Object.entries(RECORD_ACTIONS)) {
          const n = counts[field as keyof RunCounts];
          if (typeof n === 'number' && n > 0) records.inc({ family, action, source }, n);
        }
      }
      // Once a read showed what the events announced: a read that did not is read again later,
      // and that one's lag counts from the same arrival.
      if (
        job.name === 'webhook-record' &&
        typeof data.receivedAtMs === 'number' &&
        outcome.committed === true &&
        outcome.action !== 'settled'
      )
        webhookLag.observe({ family, source }, (Date.now() - data.receivedAtMs) / 1_000);
      const future = outcome.counts?.futureStamped;
      if (job.name === 'sync-run' && typeof future === 'number' && future > 0)
        futureStamped.inc({ family, source }, future);
      if (job.name === 'verify' && typeof outcome.drifted === 'number')
        // Zero too: a family verified and found exact has its series.
        drifted.inc({ family, source }, outcome.drifted);
      if (typeof outcome.status !== 'string') return;
      if (job.name === 'sync-run' && typeof outcome.durationMs === 'number')
        runDuration.observe(
          { family, kind: 'sync', status: outcome.status, source },
          outcome.durationMs / 1_000,
        );
      // A reconcile or a verify is one job: its processing time is the run's.
      if ((job.name === 'reconcile' || job.name === 'verify') && job.processedOn !== undefined)
        runDuration.observe(
          { family, kind: job.name, status: outcome.status, source },
          (Date.now() - job.processedOn) / 1_000,
        );
    },
  };
}

/**
 * The fields whose values no longer fit their column (src/sync/unfit-values.ts), read from
 * PostgreSQL at scrape time: alert on any series.
 */
export function registerUnfitMetrics(registry: Registry, db: Db): void {
  const unfit = scrapeReading(registry, 'unfit', () => readUnfitValues(db));
  new Gauge({
    name: 'erp_bridge_sync_unfit_value_writes',
    help: "Writes of a record that left a field's value out of its column because it no longer fits (Odoo changed the field's type), by family, source, model and field",
    labelNames: ['family', 'model', 'field', 'source'] as const,
    registers: [registry],
    async collect() {
      const rows = await unfit();
      this.reset();
      for (const { family, model, field, writes } of rows ?? [])
        this.set({ family, model, field, source: sourceOf(family) }, writes);
    },
  });
}

/** Gauges by family over one reading of rows, one per family: a gauge per figure of a row. */
function familyGauges<Row extends { readonly family: string }>(
  registry: Registry,
  reading: () => Promise<readonly Row[] | undefined>,
) {
  return (name: string, help: string, value: (row: Row) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['family', 'source'] as const,
      registers: [registry],
      async collect() {
        const rows = await reading();
        this.reset();
        for (const row of rows ?? [])
          this.set({ family: row.family, source: sourceOf(row.family) }, value(row));
      },
    });
}

/**
 * The webhook inbox (src/sync/webhook-inbox.ts): events Odoo announced that no read has shown yet,
 * per family, and how old the oldest is. A few for seconds is the normal flow; an old one means
 * no worker takes its family's events. Returns the counter of the events settled unseen, which the
 * requeue passes count (workers/webhook-requeue.ts).
 */
export function registerWebhookInboxMetrics(
  registry: Registry,
  db: Db,
): Counter<'family' | 'source'> {
  const gauge = familyGauges(
    registry,
    scrapeReading(registry, 'webhook-inbox', () => readUnsettledWebhooks(db)),
  );
  gauge(
    'erp_bridge_webhook_inbox_events',
    "Odoo's webhook events kept and not yet settled by a read that showed their change, by family, counted up to 1,000 (a flood reads 1,000)",
    (row) => row.events,
  );
  gauge(
    'erp_bridge_webhook_inbox_oldest_seconds',
    'Age of the oldest webhook event not yet settled, by family',
    (row) => row.oldestSeconds,
  );
  return new Counter({
    name: 'erp_bridge_webhook_events_unseen_total',
    help: 'Webhook events settled though five reads of Odoo did not show their change (a transaction rolled back, or committed more than half an hour late), by family',
    labelNames: ['family', 'source'] as const,
    registers: [registry],
  });
}

/** What the schedule gauges show of one family, from `sync_state` and `sync_failure`. */
interface FamilyReading {
  readonly family: string;
  readonly lastSuccessAt: Date | null;
  readonly lastReconcileAt: Date | null;
  readonly paused: boolean;
  readonly pendingFailures: number;
}

async function readFamilies(
  db: Db,
  families: readonly ScheduledFamily[],
): Promise<FamilyReading[]> {
  return Promise.all(
    families.map(async ({ name }) => {
      const [state, failures] = await Promise.all([
        readSyncState(db, name),
        // The count alone (no row): one scan of the family's entries in its index.
        listFailures(db, { limit: 0, families: [name] }),
      ]);
      return {
        family: name,
        lastSuccessAt: state?.lastSuccessAt ?? null,
        lastReconcileAt: state?.lastReconcileAt ?? null,
        paused: Boolean(state?.pausedAt),
        pendingFailures: failures.total,
      };
    }),
  );
}

/** Unix seconds, as Prometheus' `time()` counts; 0 for never (alerts then see it as long ago). */
const unixSeconds = (at: Date | null) => (at ? at.getTime() / 1_000 : 0);

/**
 * Whether each family this worker copies keeps its schedule (deploy/prometheus/: a family
 * behind it, failures piling up): its interval, when its last run and reconcile went through, its
 * pause and its pending failures, read from PostgreSQL at scrape time, one read per family shared
 * by the gauges and the scrapes of a few seconds. Times are timestamps, not ages: a rule computes
 * the age as it evaluates (`time() - …`), and the workers' readings combine with `max`.
 */
export function registerFamilyMetrics(
  registry: Registry,
  db: Db,
  families: readonly ScheduledFamily[],
  defaultEveryMs: number,
): void {
  const every = new Gauge({
    name: 'erp_bridge_sync_every_seconds',
    help: "Each family's incremental sync interval (its declaration's schedule, or SYNC_EVERY), in seconds",
    labelNames: ['family', 'source'] as const,
    registers: [registry],
  });
  for (const family of families)
    every.set(
      { family: family.name, source: sourceOf(family.name) },
      (family.schedule.everyMs ?? defaultEveryMs) / 1_000,
    );

  const gauge = familyGauges(
    registry,
    scrapeReading(registry, 'families', () => readFamilies(db, families)),
  );
  gauge(
    'erp_bridge_sync_last_success_timestamp_seconds',
    "When a family's last sync run that moved its watermarks (succeeded, or partial) ended, in Unix seconds (0: never)",
    (row) => unixSeconds(row.lastSuccessAt),
  );
  gauge(
    'erp_bridge_sync_last_reconcile_timestamp_seconds',
    "When a family's last reconcile went through (succeeded, or partial), in Unix seconds (0: never)",
    (row) => unixSeconds(row.lastReconcileAt),
  );
  gauge(
    'erp_bridge_sync_paused',
    "1 while a family's scheduled runs and reconciles are paused (npm run sync -- pause), else 0",
    (row) => (row.paused ? 1 : 0),
  );
  gauge(
    'erp_bridge_sync_pending_failures',
    'Root records of a family whose last attempt failed for good, waiting for a later run to retry them',
    (row) => row.pendingFailures,
  );
}
