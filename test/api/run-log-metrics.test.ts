/**
 * The API's figures from the run log (src/http/metrics.ts) are read at scrape time, each family's
 * with its source: while PostgreSQL is away a scrape still answers whole — the process's own
 * figures, the run log's series empty, the failure counted — as the worker's do
 * (src/lib/scrape-reading.ts). A scrape that failed whole would read as the API down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncLog } from '../../src/db/schema/index.js';
import { createMetrics } from '../../src/http/metrics.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

describe("the API's run log figures", () => {
  let db: TestDb;
  let away: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
    away = await createTestDb();
    await away.dispose();
  });
  afterAll(async () => {
    await db.dispose();
    await away.dispose();
  });

  it("label each family's records with its source, its key staying the family label", async () => {
    await db.db.insert(syncLog).values([
      { family: 'bcs', trigger: 'test', status: 'succeeded', created: 4 },
      { family: 'acme.bcs', trigger: 'test', status: 'succeeded', created: 7 },
    ]);
    const text = await createMetrics({ db: db.db }).registry.metrics();
    expect(text).toContain(
      'erp_bridge_sync_records{family="bcs",action="created",source="default"} 4',
    );
    expect(text).toContain(
      'erp_bridge_sync_records{family="acme.bcs",action="created",source="acme"} 7',
    );
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
