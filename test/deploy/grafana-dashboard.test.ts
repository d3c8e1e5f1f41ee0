/**
 * The Grafana dashboard (deploy/grafana/erp-bridge.json) and the sources of a deployment
 * (docs/sources.md): a `source` variable before `family`, the families it offers those of the
 * chosen sources, every query of a metric that carries a `source` label filtered on it, and the
 * queue panels telling one source's queues from another's. The PromQL itself is checked by
 * promtool in alerts.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const DASHBOARD = 'deploy/grafana/erp-bridge.json';

/**
 * The metrics whose series carry `source` (workers/worker-metrics.ts, src/http/metrics.ts,
 * src/queues/queue-metrics.ts, src/odoo-link/api-key-metrics.ts): a histogram by its name, its `_bucket`, `_count` and `_sum` too.
 */
/**
 * Those of a source and no family: the queues, each source's API key and call budget pauses, its
 * webhook events refused or kept without their stamp.
 */
const SOURCE_ONLY = [
  'erp_bridge_queue_jobs',
  'erp_bridge_odoo_api_key_expiry_seconds',
  'erp_bridge_odoo_api_key_expiring',
  'erp_bridge_odoo_budget_pauses_total',
  'erp_bridge_odoo_budget_paused_seconds_total',
  'erp_bridge_webhook_inbox_full_total',
  'erp_bridge_webhook_future_stamps_total',
];

const WITH_SOURCE = [
  'erp_bridge_odoo_call_duration_seconds',
  'erp_bridge_odoo_call_bytes_total',
  'erp_bridge_odoo_call_retries_total',
  'erp_bridge_odoo_call_errors_total',
  'erp_bridge_odoo_budget_wait_seconds',
  'erp_bridge_sync_records_written_total',
  'erp_bridge_sync_run_duration_seconds',
  'erp_bridge_sync_future_stamped_records_total',
  'erp_bridge_sync_drifted_records_total',
  'erp_bridge_webhook_lag_seconds',
  'erp_bridge_sync_unfit_value_writes',
  'erp_bridge_webhook_inbox_events',
  'erp_bridge_webhook_inbox_oldest_seconds',
  'erp_bridge_webhook_events_unseen_total',
  'erp_bridge_sync_every_seconds',
  'erp_bridge_sync_last_success_timestamp_seconds',
  'erp_bridge_sync_last_reconcile_timestamp_seconds',
  'erp_bridge_sync_paused',
  'erp_bridge_sync_pending_failures',
  'erp_bridge_sync_records',
  ...SOURCE_ONLY,
];

/** The metrics the dashboard reads that carry no `source`: a new one must be put in a list. */
const WITHOUT_SOURCE = [
  'erp_bridge_sync_runs',
  'erp_bridge_sync_last_run_duration_seconds',
  'erp_bridge_webhook_events_total',
  'erp_bridge_feed_lag_seconds',
  'erp_bridge_feed_lag_changes',
  'erp_bridge_feed_delivered_changes',
  'erp_bridge_feed_failed_attempts',
  'erp_bridge_feed_subscription_status',
  'erp_bridge_feed_dead_letters',
  'erp_bridge_queue_reachable',
  'erp_bridge_process_resident_memory_bytes',
  'erp_bridge_nodejs_eventloop_lag_p99_seconds',
  'erp_bridge_metrics_read_failures_total',
  'erp_bridge_http_request_duration_seconds',
  'erp_bridge_http_refused_early_total',
  'erp_bridge_replica_lag_seconds',
];

interface Variable {
  name: string;
  type: string;
  query?: string | { query: string };
  definition?: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: { expr: string; legendFormat?: string }[];
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  templating: { list: Variable[] };
  panels: Panel[];
};
const variables = dashboard.templating.list;
const targets = dashboard.panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ panel: panel.title, ...target })),
);

const queryOf = (variable: Variable | undefined) =>
  typeof variable?.query === 'string' ? variable.query : variable?.query?.query;

/** A series' metric, a histogram's series read as the histogram. */
function metricOf(series: string): string {
  const histogram = /^(.*)_(?:bucket|count|sum)$/.exec(series)?.[1];
  return histogram && [...WITH_SOURCE, ...WITHOUT_SOURCE].includes(histogram) ? histogram : series;
}

/** Each selector of an erp-bridge metric in a PromQL expression: its metric and its matchers. */
function selectors(expr: string): { metric: string; matchers: string }[] {
  return [...expr.matchAll(/\b(erp_bridge_\w+)(?:\{([^}]*)\})?/g)].map((match) => ({
    metric: metricOf(match[1]!),
    matchers: match[2] ?? '',
  }));
}

describe('the dashboard and the sources', () => {
  it('has a source variable before family, of every source, several or all at once', () => {
    const names = variables.map((variable) => variable.name);
    expect(names).toContain('source');
    expect(names.indexOf('source')).toBeLessThan(names.indexOf('family'));
    const source = variables.find((variable) => variable.name === 'source')!;
    expect(source).toMatchObject({ type: 'query', multi: true, includeAll: true, allValue: '.*' });
    expect(queryOf(source)).toBe('label_values(erp_bridge_sync_every_seconds, source)');
    expect(source.definition).toBe(queryOf(source));
  });

  it('offers the families of the chosen sources', () => {
    const family = variables.find((variable) => variable.name === 'family');
    expect(queryOf(family)).toBe(
      'label_values(erp_bridge_sync_every_seconds{source=~"$source"}, family)',
    );
    expect(family?.definition).toBe(queryOf(family));
  });

  it('knows whether each metric it reads carries source', () => {
    const read = new Set(
      targets.flatMap(({ expr }) => selectors(expr).map(({ metric }) => metric)),
    );
    const unknown = [...read].filter(
      (metric) => !WITH_SOURCE.includes(metric) && !WITHOUT_SOURCE.includes(metric),
    );
    expect(unknown).toEqual([]);
  });

  it('filters every query of a metric that carries source on the chosen sources', () => {
    const unfiltered = targets.flatMap(({ panel, expr }) =>
      selectors(expr)
        .filter(({ metric }) => WITH_SOURCE.includes(metric))
        .filter(({ matchers }) => !matchers.includes('source=~"$source"'))
        .map(({ metric }) => `${panel}: ${metric}`),
    );
    expect(unfiltered).toEqual([]);
    // A panel of families still filters on family too.
    for (const { panel, expr } of targets)
      if (
        expr.includes('source=~"$source"') &&
        !SOURCE_ONLY.some((metric) => expr.includes(metric))
      )
        expect(expr, panel).toContain('family=~"$family"');
  });

  it("tells one source's queues from another's", () => {
    const queues = targets.filter(({ expr }) => expr.includes('erp_bridge_queue_jobs'));
    expect(queues.length).toBeGreaterThan(0);
    for (const { panel, expr, legendFormat } of queues) {
      const by = /\bby\s*\(([^)]*)\)/
        .exec(expr)?.[1]
        ?.split(',')
        .map((label) => label.trim());
      expect(by, panel).toEqual(expect.arrayContaining(['queue', 'source']));
      expect(legendFormat, panel).toContain('{{source}}');
    }
  });
});
