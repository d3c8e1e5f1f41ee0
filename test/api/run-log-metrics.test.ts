/**
 * The API's figures from the run log (src/http/metrics.ts) are read at scrape time: while
 * PostgreSQL is away a scrape still answers whole — the process's own figures, the run log's
 * series empty, the failure counted — as the worker's do (src/lib/scrape-reading.ts). A scrape
 * that failed whole would read as the API down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/http/metrics.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

describe("the API's run log figures", () => {
  let away: TestDb;
  beforeAll(async () => {
    away = await createTestDb();
    await away.dispose();
  });
  afterAll(async () => {
    await away.dispose();
  });

  it('leave a scrape whole while PostgreSQL is away: their series empty, the failure counted', async () => {
    const { registry, httpDuration } = createMetrics({ db: away.db });
    httpDuration.observe({ method: 'GET', route: '/api/bcs', status: '200' }, 0.01);

    const text = await registry.metrics();
    expect(text).toMatch(/^erp_bridge_http_request_duration_seconds_count\{.*\} 1$/m);
    expect(text).not.toMatch(/^erp_bridge_sync_runs\{/m);
    // Counted as the scrape reads: the next one shows it.
    expect(await registry.metrics()).toContain(
      'erp_bridge_metrics_read_failures_total{reading="run-log"} 1',
    );
  });
});
