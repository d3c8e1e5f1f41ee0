/**
 * The alert rules and the dashboard of deploy/ (README, "Alerts and dashboard"), held to the
 * code: promtool checks the rules and runs their unit tests, in which every alert fires once and
 * stays quiet once; every alert says how bad it is and what to do first; the dashboard's queries
 * are PromQL that promtool accepts; and every metric the rules and the dashboard read is one that
 * a real API's and a real worker's /metrics print. promtool is Debian's `prometheus` package:
 * without it these tests fail, they never skip.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { bcsFamily } from '../../src/families/bcs/family.js';
import { setPaused } from '../../src/sync/sync-state.js';
import { KEYS, bearer } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { startWorkerProcess, workerEnv, type WorkerProcess } from '../helpers/worker-process.js';
import { startApiProcess, type ApiProcess } from '../helpers/api-process.js';

const run = promisify(execFile);

const RULES = 'deploy/prometheus/erp-bridge-rules.yaml';
const RULE_TESTS = 'deploy/prometheus/erp-bridge-rules.test.yaml';
const DASHBOARD = 'deploy/grafana/erp-bridge.json';

/** Series Prometheus makes itself, not the code: a target's scrape. */
const PROMETHEUS_SERIES = new Set(['up']);

/**
 * promtool runs every rule's unit tests, seconds of CPU: on a loaded machine (two cores kept busy)
 * it took past the suite's 60 s. A test of it waits for its answer, which will come.
 */
const PROMTOOL_TIMEOUT_MS = 300_000;

async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run('promtool', args);
    return stdout + stderr;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(
        "promtool is not installed: apt-get install -y prometheus (Debian's package; npm test installs it first)",
        { cause: error },
      );
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`, {
      cause: error,
    });
  }
}

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface RuleTest {
  name: string;
  alert_rule_test: { alertname: string; exp_alerts: unknown[] }[];
}

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string; datasource: { uid: string } }[];
}

interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
}

const groups = (
  parse(readFileSync(RULES, 'utf8')) as { groups: { name: string; rules: AlertRule[] }[] }
).groups;
const alerts = groups.flatMap((group) => group.rules);
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const panels = dashboard.panels.filter((panel) => panel.type !== 'row');

/**
 * The metric names a PromQL expression reads: what is left once strings, label matchers, ranges,
 * label lists and offsets are taken out, save functions (a name before a parenthesis) and
 * keywords.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+\S+/g, ' ');
  const keywords =
    /^(?:and|or|unless|by|without|on|ignoring|group_left|group_right|bool|inf|nan)$/i;
  return [...bare.matchAll(/(?<![\w:$.])([a-zA-Z_:][\w:]*)(?!\s*\(|[\w:])/g)]
    .map((match) => match[1]!)
    .filter((word) => !keywords.test(word));
}

/** The dashboard's queries as Prometheus gets them (Grafana's variables given a value). */
function dashboardQueries(): string[] {
  const variable = dashboard.templating.list.flatMap((entry) => {
    const query = typeof entry.query === 'string' ? entry.query : entry.query.query;
    const metric = /^label_values\(\s*([^,)]+)/.exec(query)?.[1];
    return entry.type === 'query' && metric ? [metric] : [];
  });
  return [
    ...variable,
    ...panels.flatMap((panel) =>
      (panel.targets ?? []).map((target) =>
        target.expr.replaceAll('$__rate_interval', '5m').replaceAll('$family', '.*'),
      ),
    ),
  ];
}

/** The names a /metrics text exposes, a histogram's series included. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\w+)$/gm)) {
    names.add(name!);
    const series =
      type === 'histogram'
        ? ['_bucket', '_sum', '_count']
        : type === 'summary'
          ? ['_sum', '_count']
          : [];
    for (const suffix of series) names.add(`${name!}${suffix}`);
  }
  return names;
}

describe('the alert rules', { timeout: PROMTOOL_TIMEOUT_MS }, () => {
  it('pass promtool check rules', async () => {
    expect(await promtool('check', 'rules', RULES)).toContain(
      `SUCCESS: ${alerts.length} rules found`,
    );
  });

  it('pass their unit tests (promtool test rules)', async () => {
    expect(await promtool('test', 'rules', RULE_TESTS)).toContain('SUCCESS');
  });

  it('have a test that fires each alert and one that does not', () => {
    const tests = (parse(readFileSync(RULE_TESTS, 'utf8')) as { tests: RuleTest[] }).tests;
    const cases = tests.flatMap((test) => test.alert_rule_test);
    const untested = alerts.flatMap(({ alert }) => {
      const mine = cases.filter((entry) => entry.alertname === alert);
      return [
        ...(mine.some((entry) => entry.exp_alerts.length > 0) ? [] : [`${alert}: none fires it`]),
        ...(mine.some((entry) => entry.exp_alerts.length === 0)
          ? []
          : [`${alert}: none where it stays quiet`]),
      ];
    });
    expect(untested).toEqual([]);
  });

  it('each say how bad, what happened and the first thing to do, after a while', () => {
    for (const rule of alerts) {
      expect(rule.for, rule.alert).toMatch(/^\d+[mh]$/);
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toMatch(/^erp-bridge: /);
      // A command to run or a page to read.
      expect(rule.annotations?.description, rule.alert).toMatch(/README, "|docs\/\w+\.md, "/);
    }
    expect(groups.map((group) => group.name)).toEqual([
      'erp-bridge-sync',
      'erp-bridge-feed',
      'erp-bridge-odoo-link',
      'erp-bridge-processes',
    ]);
  });
});

describe('the dashboard', { timeout: PROMTOOL_TIMEOUT_MS }, () => {
  it('has queries promtool accepts, each on the chosen Prometheus', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-dashboard-'));
    try {
      const file = join(dir, 'dashboard-queries.yaml');
      const rules = dashboardQueries().map((expr, i) => ({ record: `dashboard:query_${i}`, expr }));
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
      expect(await promtool('check', 'rules', file)).toContain(
        `SUCCESS: ${rules.length} rules found`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(new Set(panels.map((panel) => panel.id)).size).toBe(panels.length);
    for (const panel of panels) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      for (const target of panel.targets!)
        expect(target.datasource.uid, panel.title).toBe('${datasource}');
    }
  });

  it('shows every metric the alerts read', () => {
    const shown = new Set(dashboardQueries().flatMap(metricNames));
    const missing = [...new Set(alerts.flatMap((rule) => metricNames(rule.expr)))].filter(
      (name) => !shown.has(name),
    );
    expect(missing).toEqual([]);
  });
});

describe('the metric names of the rules and the dashboard', () => {
  it('are read out of PromQL', () => {
    expect(
      metricNames(
        'sum by (family) (rate(erp_bridge_a_total{code!="X",family=~"$family"}[$__rate_interval])) / on (family) group_left max(erp_bridge_b offset 1h) > bool 0.5e3 unless absent(up{job="x"}) or histogram_quantile(0.95, sum by (le) (rate(c_bucket[5m]))) and time() - d:rule',
      ),
    ).toEqual(['erp_bridge_a_total', 'erp_bridge_b', 'up', 'c_bucket', 'd:rule']);
  });

  describe('are ones a real API and a real worker expose', () => {
    let db: TestDb;
    let sandbox: OdooSandbox;
    let worker: WorkerProcess | undefined;
    let api: ApiProcess | undefined;
    let workerMetrics: string;
    let apiMetrics: string;

    beforeAll(async () => {
      db = await createTestDb();
      sandbox = createOdooSandbox({ orders: 2, linesPerOrder: 1, loginCooldown: false });
      await sandbox.start();
      // The scheduler fires at start: a paused schedule keeps the database still.
      await setPaused(db.db, bcsFamily.name, 'test');
      const prefix = `alerts-${randomBytes(4).toString('hex')}`;
      // With an API key, so that its expiry gauges are there; metrics on an address of their own.
      worker = await startWorkerProcess(
        workerEnv(
          { databaseUrl: db.url, prefix, odoo: sandbox },
          {
            HOST: '127.0.0.1',
            ODOO_API_KEY: sandbox.keys.add({ expiresAt: new Date(Date.now() + 10 * 86_400_000) }),
            WORKER_METRICS_HOST: '127.0.0.1',
            WORKER_METRICS_PORT: '0',
          },
        ),
      );
      workerMetrics = await (await fetch(`${worker.started.metrics as string}/metrics`)).text();

      api = await startApiProcess({
        DATABASE_URL: db.url,
        // The primary itself, read as a replica: its lag gauge is there, and reads 0.
        DATABASE_READ_URL: db.url,
        REDIS_URL: inject('redisUrl'),
        QUEUE_PREFIX: prefix,
        API_KEYS: KEYS.operator.entry,
      });
      apiMetrics = await (
        await fetch(`${api.address}/metrics`, { headers: bearer('operator') })
      ).text();
    }, 90_000);

    afterAll(async () => {
      const child = worker?.child;
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      await api?.stop();
      await sandbox.stop();
      await db.dispose();
    });

    it('every name the rules and the dashboard read is exposed', () => {
      const exposed = new Set([...exposedNames(workerMetrics), ...exposedNames(apiMetrics)]);
      const read = new Set([
        ...alerts.flatMap((rule) => metricNames(rule.expr)),
        ...dashboardQueries().flatMap(metricNames),
      ]);
      expect(read.size).toBeGreaterThan(30);
      expect(
        [...read].filter((name) => !exposed.has(name) && !PROMETHEUS_SERIES.has(name)),
      ).toEqual([]);
    });

    it("the worker's schedule gauges show its families", () => {
      expect(workerMetrics).toMatch(
        /^erp_bridge_sync_every_seconds\{family="bcs",source="default"\} 3600$/m,
      );
      expect(workerMetrics).toMatch(/^erp_bridge_sync_paused\{family="bcs",source="default"\} 1$/m);
      expect(workerMetrics).toMatch(
        /^erp_bridge_sync_pending_failures\{family="bcs",source="default"\} 0$/m,
      );
      expect(workerMetrics).toMatch(/^erp_bridge_odoo_api_key_expiring\{source="default"\} 1$/m);
    });

    it("the API's replica lag reads 0 on a server that is not a replica", () => {
      expect(apiMetrics).toMatch(/^erp_bridge_replica_lag_seconds 0$/m);
    });
  });
});
