/**
 * The worker's schedule gauges (workers/worker-metrics.ts, registerFamilyMetrics), which the
 * alert rules in deploy/prometheus/ read: each family's interval, when its last run and reconcile
 * went through, its pause and its pending failures, from a real PostgreSQL, and read at most once
 * every few seconds however often the port is scraped; a reading that fails leaves the scrape
 * whole.
 */
import { sql } from 'drizzle-orm';
import { Gauge, Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { recordFailures } from '../../src/sync/sync-failures.js';
import { setPaused } from '../../src/sync/sync-state.js';
import { registerFeedMetrics } from '../../src/feed/feed-metrics.js';
import { registerFamilyMetrics, registerUnfitMetrics } from '../../workers/worker-metrics.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

let db: TestDb;

beforeAll(async () => {
  db = await createTestDb();
});
afterAll(async () => {
  await db.dispose();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Each gauge's value by family, as a scrape reads it. */
async function scrape(registry: Registry): Promise<Record<string, Record<string, number>>> {
  const names = [
    'erp_bridge_sync_every_seconds',
    'erp_bridge_sync_last_success_timestamp_seconds',
    'erp_bridge_sync_last_reconcile_timestamp_seconds',
    'erp_bridge_sync_paused',
    'erp_bridge_sync_pending_failures',
  ];
  const entries = await Promise.all(
    names.map(async (name) => {
      const { values } = await registry.getSingleMetric(name)!.get();
      return [
        name,
        Object.fromEntries(values.map((value) => [String(value.labels.family), value.value])),
      ] as const;
    }),
  );
  return Object.fromEntries(entries);
}

describe("the worker's schedule gauges", () => {
  it('show each family from PostgreSQL, read once per five seconds', async () => {
    // Only Date: PostgreSQL's own timers run as they do.
    vi.useFakeTimers({ toFake: ['Date'] });
    const registry = new Registry();
    registerFamilyMetrics(
      registry,
      db.db,
      [
        { name: 'bcs', schedule: {} },
        { name: 'partners', schedule: { everyMs: 60_000 } },
      ],
      300_000,
    );

    // Never run yet: no state row at all.
    expect(await scrape(registry)).toEqual({
      erp_bridge_sync_every_seconds: { bcs: 300, partners: 60 },
      erp_bridge_sync_last_success_timestamp_seconds: { bcs: 0, partners: 0 },
      erp_bridge_sync_last_reconcile_timestamp_seconds: { bcs: 0, partners: 0 },
      erp_bridge_sync_paused: { bcs: 0, partners: 0 },
      erp_bridge_sync_pending_failures: { bcs: 0, partners: 0 },
    });

    await setPaused(db.db, 'bcs', 'test');
    await db.db.execute(sql`
      update sync_state set last_success_at = '2026-11-24T10:00:00Z',
        last_reconcile_at = '2026-11-24T03:17:00Z'
      where key = 'bcs'`);
    await recordFailures(
      db.db,
      'partners',
      [7, 8, 9].map((odooId) => ({
        odooId,
        error: { code: 'SYNC_BAD_RECORD', message: 'no write_date' },
        runId: null,
        jobId: `rec-partners-${odooId}`,
      })),
      60_000,
    );

    // A scrape within five seconds of the last read reuses it: no query.
    vi.setSystemTime(Date.now() + 4_000);
    expect((await scrape(registry)).erp_bridge_sync_paused).toEqual({ bcs: 0, partners: 0 });

    vi.setSystemTime(Date.now() + 2_000);
    expect(await scrape(registry)).toEqual({
      erp_bridge_sync_every_seconds: { bcs: 300, partners: 60 },
      erp_bridge_sync_last_success_timestamp_seconds: {
        bcs: Date.parse('2026-11-24T10:00:00Z') / 1_000,
        partners: 0,
      },
      erp_bridge_sync_last_reconcile_timestamp_seconds: {
        bcs: Date.parse('2026-11-24T03:17:00Z') / 1_000,
        partners: 0,
      },
      erp_bridge_sync_paused: { bcs: 1, partners: 0 },
      erp_bridge_sync_pending_failures: { bcs: 0, partners: 3 },
    });
  });

  it("label each family's series with its source, keeping its key in family", async () => {
    const registry = new Registry();
    registerFamilyMetrics(
      registry,
      db.db,
      [
        { name: 'moves', schedule: {} },
        { name: 'acme.moves', schedule: {} },
      ],
      300_000,
    );
    await setPaused(db.db, 'acme.moves', 'test');
    const text = await registry.metrics();
    for (const name of ['erp_bridge_sync_every_seconds', 'erp_bridge_sync_paused'])
      expect(text).toMatch(
        new RegExp(
          `^${name}\\{family="moves",source="default"\\} .*\\n${name}\\{family="acme\\.moves",source="acme"\\} `,
          'm',
        ),
      );
    expect(text).toContain('erp_bridge_sync_paused{family="acme.moves",source="acme"} 1');
  });

  it('leave a scrape whole while PostgreSQL is away: their series empty, the failure counted', async () => {
    const away = await createTestDb();
    await away.dispose();
    const registry = new Registry();
    registerFamilyMetrics(registry, away.db, [{ name: 'bcs', schedule: {} }], 300_000);
    registerUnfitMetrics(registry, away.db);
    registerFeedMetrics(registry, away.db);
    new Gauge({ name: 'erp_bridge_own_figure', help: 'the process', registers: [registry] }).set(7);

    const text = await registry.metrics();
    expect(text).toContain('erp_bridge_own_figure 7');
    // The failures are counted as the scrape reads: the next one shows them.
    const next = await registry.metrics();
    expect(text).toContain('erp_bridge_sync_every_seconds{family="bcs",source="default"} 300');
    expect(text).not.toMatch(/^erp_bridge_sync_paused\{/m);
    expect(text).not.toMatch(/^erp_bridge_feed_lag_seconds\{/m);
    for (const reading of ['families', 'unfit', 'feed'])
      expect(next).toContain(`erp_bridge_metrics_read_failures_total{reading="${reading}"} 1`);
  });
});
