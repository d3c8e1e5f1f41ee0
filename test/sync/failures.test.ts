import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desc } from 'drizzle-orm';
import { syncFailure, syncLog, syncState } from '../../src/db/schema/index.js';
import { BC_MODEL } from '../../src/families/bcs/family.js';
import { bcsFamily } from '../../src/families/bcs/family.js';
import { writeRootBatches } from '../../src/sync/write-records.js';
import { mapBc, writeBcs } from '../helpers/seed-bcs.js';
import { createSyncHarness, ODOO_PROTOCOLS, type SyncHarness } from '../helpers/sync-harness.js';

describe.each(ODOO_PROTOCOLS)('sync failures over %s', (protocol) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({
      protocol,
      sandbox: { orders: 120, linesPerOrder: 3 },
      pageSize: 40,
    });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  const lastRun = async () =>
    (await h.db.db.select().from(syncLog).orderBy(desc(syncLog.id)).limit(1))[0]!;

  it('one BC that keeps failing: the others succeed, the run is partial, the BC waits in sync_failure as a failed job', async () => {
    const c = h.sandbox.control;
    const ids = c.ids(BC_MODEL);
    const poisoned = ids[7]!;
    for (const id of ids.slice(0, 15)) c.write(BC_MODEL, id, { origin: `batch ${id}` });
    const fault = c.injectFault({
      kind: 'fault',
      faultCode: 2,
      message: 'Broken computed field',
      method: 'read',
      recordId: poisoned,
      times: Infinity,
    });

    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'partial',
      counts: expect.objectContaining({ failed: 1 }),
    });
    const failures = await h.db.db.select().from(syncFailure);
    expect(failures.map((f) => f.odooId)).toEqual([poisoned]);
    expect(failures[0]!.error).toContain('Broken computed field');
    const failedJobs = await h.runtime.queues.byName['sync-record'].getFailed();
    expect(failedJobs.map((job) => (job.data as { odooId: number }).odooId)).toContain(poisoned);
    const copy = await h.bcRows();
    for (const id of ids.slice(0, 15).filter((id) => id !== poisoned)) {
      expect(copy.find((bc) => bc.odooId === id)!.origin).toBe(`batch ${id}`);
    }
    expect(copy.find((bc) => bc.odooId === poisoned)!.origin).not.toBe(`batch ${poisoned}`);
    // The watermark moved anyway: one poisoned BC must not freeze the sync.
    const [state] = await h.db.db.select().from(syncState);
    expect(state!.lastRunStatus).toBe('partial');

    // Still broken: the next run retries it first and it fails again, nothing else is lost.
    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'partial',
    });
    expect((await h.db.db.select().from(syncFailure))[0]!.attempts).toBe(2);

    fault.remove();
    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
    expect(await h.db.db.select().from(syncFailure)).toEqual([]);
    expect((await h.bcRows()).find((bc) => bc.odooId === poisoned)!.origin).toBe(
      `batch ${poisoned}`,
    );
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('resync fixes a failed BC and clears its failure', async () => {
    const c = h.sandbox.control;
    const target = c.ids(BC_MODEL)[20]!;
    c.write(BC_MODEL, target, { origin: 'needs a resync' });
    const fault = c.injectFault({
      kind: 'fault',
      faultCode: 4,
      message: 'Access rule',
      method: 'read',
      recordId: target,
      times: Infinity,
    });
    await h.run('sync-run', { trigger: 'test' });
    expect((await h.db.db.select().from(syncFailure)).map((f) => f.odooId)).toEqual([target]);
    fault.remove();
    await expect(
      h.run('resync-record', { odooId: target, trigger: 'test' }),
    ).resolves.toMatchObject({
      action: 'updated',
    });
    expect(await h.db.db.select().from(syncFailure)).toEqual([]);
    expect((await h.bcRows()).find((bc) => bc.odooId === target)!.origin).toBe('needs a resync');
  });

  it('stale data written after newer data (a slow page, a replayed job) leaves the newer data', async () => {
    const c = h.sandbox.control;
    const [target, neighbour] = [c.ids(BC_MODEL)[30]!, c.ids(BC_MODEL)[31]!];
    const [old, oldNeighbour] = c.records(BC_MODEL, { ids: [target, neighbour] });
    const oldLines = c
      .records('dimagaz.bc.line')
      .filter((line) => (line.bc_id as [number, string])[0] === target);
    c.write(BC_MODEL, target, { origin: 'newer' });
    await h.run('sync-run', { trigger: 'test' });

    // A page that fetched before the change writes after it: its stale BC is skipped, the rest written.
    const written = await writeRootBatches(
      h.db.db,
      bcsFamily,
      [
        mapBc({ bc: old!, lines: oldLines }),
        mapBc({ bc: { ...oldNeighbour!, origin: 'same version, new value' }, lines: [] }),
      ],
      { runId: null, lease: null },
      h.logger,
    );
    expect(written.outcomes.map((o) => o.action)).toEqual(['stale', 'updated']);
    expect(written.failed).toEqual([]);
    const [replay] = await writeBcs(h.db.db, [mapBc({ bc: old!, lines: [] })], {
      runId: null,
      lease: null,
    });
    expect(replay!.action).toBe('stale');

    // A BC job replayed late reads fresh data, so it can only confirm the newer version.
    await expect(
      h.run('resync-record', { odooId: target, trigger: 'replay' }),
    ).resolves.toMatchObject({
      action: 'unchanged',
    });
    const row = (await h.bcRows()).find((bc) => bc.odooId === target)!;
    expect(row.origin).toBe('newer');
    expect((await h.lineRows()).filter((l) => l.bcOdooId === target)).toHaveLength(oldLines.length);
  });

  it('Odoo answering HTML 502: the run fails with a readable reason, the watermark stays, the lease is released, the next run recovers', async () => {
    const before = await h.watermark();
    const fault = h.sandbox.control.injectFault({ kind: 'html', status: 502, times: Infinity });
    await expect(h.run('sync-run', { trigger: 'test' })).rejects.toThrow(/502/);
    const run = await lastRun();
    expect(run.status).toBe('failed');
    expect(run.errors[0]!.message).toMatch(/HTTP 502 \(HTML page\)/);
    const after = await h.state();
    expect(await h.watermark()).toEqual(before);
    expect(after).toMatchObject({ isSyncing: false, leaseOwner: null, lastRunStatus: 'failed' });

    fault.remove();
    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
  });

  it('Odoo unreachable: the run fails with a network error and the next run recovers', async () => {
    const fault = h.sandbox.control.injectFault({ kind: 'reset', times: Infinity });
    await expect(h.run('sync-run', { trigger: 'test' })).rejects.toThrow(/ODOO_NETWORK/);
    expect((await lastRun()).status).toBe('failed');
    fault.remove();
    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
  });

  it('bad credentials stop the run at once with an auth error, without a retry storm', async () => {
    const c = h.sandbox.control;
    const goodPassword = h.sandbox.password;
    c.setPassword('rotated-elsewhere');
    c.resetCalls();
    await expect(h.run('sync-run', { trigger: 'test' })).rejects.toThrow(/ODOO_AUTH/);
    expect((await lastRun()).errors[0]!.code).toBe('ODOO_AUTH');
    // JSON-2 has no login: its first call, context_get, is the one that meets the revoked key.
    expect(
      c.countCalls({ method: 'authenticate' }) + c.countCalls({ method: 'context_get' }),
    ).toBeLessThanOrEqual(1);
    expect(c.countCalls()).toBeLessThanOrEqual(3);
    c.setPassword(goodPassword);
  });
});
