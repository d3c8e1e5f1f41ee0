import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { runForFamily } from './job-family.js';
import { createWorkerMetrics } from './worker-metrics.js';

describe("the worker's metrics", () => {
  it('label what a family costs and writes with its source, its key staying the family label', async () => {
    const metrics = createWorkerMetrics();
    const bytes = { sentBytes: 10, receivedBytes: 20 };
    const acme = metrics.odooOf('acme');
    runForFamily('acme.bcs', () => acme.attempt('dimagaz.bc.read', 5, 'ok', bytes));
    runForFamily('bcs', () =>
      metrics.odooOf('default').attempt('dimagaz.bc.read', 5, 'ODOO_NETWORK', bytes),
    );
    // Outside any job (the API key's checks): no family, the source of the client that called.
    acme.attempt('res.users.read', 5, 'ok', bytes);
    metrics.budgetOf('acme').paused(429, 2_000);
    metrics.budgetOf('acme').chose?.(1);
    const job = (family: string) =>
      ({ name: 'sync-page', data: { family } }) as unknown as Job<unknown, unknown, string>;
    metrics.jobCompleted(job('acme.bcs'), { counts: { created: 3 } });
    metrics.jobCompleted(job('bcs'), { counts: { updated: 2 } });

    const text = await metrics.registry.metrics();
    expect(text).toMatch(
      /^erp_bridge_odoo_call_duration_seconds_count\{family="acme\.bcs",call="dimagaz\.bc\.read",outcome="ok",source="acme"\} 1$/m,
    );
    expect(text).toMatch(
      /^erp_bridge_odoo_call_errors_total\{family="bcs",call="dimagaz\.bc\.read",code="ODOO_NETWORK",source="default"\} 1$/m,
    );
    expect(text).toMatch(
      /^erp_bridge_odoo_call_duration_seconds_count\{family="none",call="res\.users\.read",outcome="ok",source="acme"\} 1$/m,
    );
    expect(text).toMatch(/^erp_bridge_odoo_budget_pauses_total\{status="429",source="acme"\} 1$/m);
    expect(text).toMatch(/^erp_bridge_odoo_budget_paused_seconds_total\{source="acme"\} 2$/m);
    expect(text).toMatch(/^erp_bridge_odoo_calls_in_flight_limit\{source="acme"\} 1$/m);
    expect(text).not.toMatch(/^erp_bridge_odoo_calls_in_flight_limit\{source="default"\}/m);
    expect(text).toMatch(
      /^erp_bridge_odoo_call_bytes_total\{family="acme\.bcs",direction="received",source="acme"\} 20$/m,
    );
    expect(text).toMatch(
      /^erp_bridge_sync_records_written_total\{family="acme\.bcs",action="created",source="acme"\} 3$/m,
    );
    expect(text).toMatch(
      /^erp_bridge_sync_records_written_total\{family="bcs",action="updated",source="default"\} 2$/m,
    );
  });
});
