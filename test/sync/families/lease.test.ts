/**
 * The lease of a family other than BCs (test/sync/lease.test.ts for BCs): one run of the family at
 * a time, a dead worker's lease blocks the family's runs until it expires — and only that
 * family's: each family has its own lease.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { syncLog, syncState } from '../../../src/db/schema/index.js';
import { bcsFamily } from '../../../src/families/bcs/family.js';
import { MOVES_CASE } from '../../helpers/family-cases.js';
import { copyRows } from '../../helpers/family-copy.js';
import { createSyncHarness, type SyncHarness } from '../../helpers/sync-harness.js';

const c = MOVES_CASE;

describe('the moves lease', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({
      families: [c.family, bcsFamily],
      sandbox: { ...c.sandbox({ roots: 300, childrenPerRoot: 3 }), orders: 40, linesPerOrder: 2 },
      pageSize: 50,
    });
  });
  afterAll(async () => {
    await h.dispose();
  });

  const runsOf = (family: string) =>
    h.db.db.select().from(syncLog).where(eq(syncLog.family, family));

  it('two runs triggered at once: one runs, the other is logged as skipped', async () => {
    const [a, b] = await Promise.all([
      h.add('sync-run', { trigger: 'a' }),
      h.add('sync-run', { trigger: 'b' }),
    ]);
    const results = await Promise.all([h.wait(a), h.wait(b)]);
    expect(results.map((r) => r.status).sort()).toEqual(['skipped', 'succeeded']);
    const runs = await runsOf(c.family.name);
    expect(runs.map((r) => r.status).sort()).toEqual(['skipped', 'succeeded']);
    expect(runs.find((r) => r.status === 'skipped')!.errors[0]!.code).toBe('SYNC_LEASE_HELD');
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it("a lease left by a dead worker blocks the family's runs until it expires, and no other family's", async () => {
    const control = h.sandbox.control;
    for (const id of control.ids(c.rootModel).slice(0, 20))
      control.write(c.rootModel, id, { [c.rootText]: `after crash ${id}` });
    // A worker died mid-run: its lease is still there, with time left.
    const moves = eq(syncState.key, c.family.name);
    await h.db.db
      .update(syncState)
      .set({
        isSyncing: true,
        leaseOwner: 'run-dead-worker',
        leaseExpiresAt: sql`now() + interval '1 hour'`,
      })
      .where(moves);
    expect(await h.run('sync-run', { trigger: 'test' })).toMatchObject({
      status: 'skipped',
      heldBy: 'run-dead-worker',
    });
    // The BC family's lease is its own: its run goes on meanwhile.
    await expect(
      h.run('sync-run', { family: bcsFamily.name, trigger: 'test' }),
    ).resolves.toMatchObject({ status: 'succeeded' });
    expect(await h.diffWithSandbox(bcsFamily)).toEqual([]);
    expect(await h.diffWithSandbox()).not.toEqual([]);

    await h.db.db
      .update(syncState)
      .set({ leaseExpiresAt: sql`now() - interval '1 second'` })
      .where(moves);
    expect(await h.run('sync-run', { trigger: 'test' })).toMatchObject({ status: 'succeeded' });
    expect(await h.diffWithSandbox()).toEqual([]);
    const rows = await copyRows(h.db.db, c.family.root);
    expect(new Set(rows.map((row) => row.odoo_id)).size).toBe(rows.length);
    for (const family of [c.family.name, bcsFamily.name]) {
      const [state] = await h.db.db.select().from(syncState).where(eq(syncState.key, family));
      expect(state, family).toMatchObject({ isSyncing: false, leaseOwner: null });
    }
    const last = (await runsOf(c.family.name)).sort((a, b) => b.id - a.id)[0];
    expect(last!.status).toBe('succeeded');
  });
});
