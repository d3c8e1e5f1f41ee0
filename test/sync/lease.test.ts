import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desc, eq, sql } from 'drizzle-orm';
import { syncLog, syncState } from '../../src/db/schema/index.js';
import { bcsFamily } from '../../src/families/bcs/family.js';
import { createSyncHarness, ODOO_PROTOCOLS, type SyncHarness } from '../helpers/sync-harness.js';

describe.each(ODOO_PROTOCOLS)('the sync lease over %s', (protocol) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({
      protocol,
      sandbox: { orders: 300, linesPerOrder: 3 },
      pageSize: 50,
    });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('two runs triggered at once: one runs, the other is logged as skipped', async () => {
    const [a, b] = await Promise.all([
      h.add('sync-run', { trigger: 'a' }),
      h.add('sync-run', { trigger: 'b' }),
    ]);
    const results = await Promise.all([h.wait(a), h.wait(b)]);
    expect(results.map((r) => r.status).sort()).toEqual(['skipped', 'succeeded']);
    const runs = await h.db.db.select().from(syncLog);
    expect(runs.map((r) => r.status).sort()).toEqual(['skipped', 'succeeded']);
    expect(runs.find((r) => r.status === 'skipped')!.errors[0]!.code).toBe('SYNC_LEASE_HELD');
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('a lease left by a dead worker blocks runs until it expires, then the next run takes over', async () => {
    const c = h.sandbox.control;
    for (const id of c.ids('dimagaz.bc').slice(0, 20))
      c.write('dimagaz.bc', id, { origin: `after crash ${id}` });
    // A worker died mid-run: its lease is still there, with time left.
    await h.db.db
      .update(syncState)
      .set({
        isSyncing: true,
        leaseOwner: 'run-dead-worker',
        leaseExpiresAt: sql`now() + interval '1 hour'`,
      })
      .where(eq(syncState.key, bcsFamily.name));
    expect(await h.run('sync-run', { trigger: 'test' })).toMatchObject({
      status: 'skipped',
      heldBy: 'run-dead-worker',
    });

    await h.db.db
      .update(syncState)
      .set({ leaseExpiresAt: sql`now() - interval '1 second'` })
      .where(eq(syncState.key, bcsFamily.name));
    expect(await h.run('sync-run', { trigger: 'test' })).toMatchObject({ status: 'succeeded' });
    expect(await h.diffWithSandbox()).toEqual([]);
    const bcs = await h.bcRows();
    expect(new Set(bcs.map((bc) => bc.odooId)).size).toBe(bcs.length);
    const [state] = await h.db.db.select().from(syncState);
    expect(state).toMatchObject({ isSyncing: false, leaseOwner: null });
    const [last] = await h.db.db.select().from(syncLog).orderBy(desc(syncLog.id)).limit(1);
    expect(last!.status).toBe('succeeded');
  });
});
