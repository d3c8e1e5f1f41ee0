/**
 * The lease of every family (test/helpers/family-cases.ts): one run of the family at a time, a
 * dead worker's lease blocks the family's runs until it expires — and only that family's: each
 * family has its own lease, copied here beside another.
 */
import { describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { syncLog, syncState } from '../../src/db/schema/index.js';
import {
  FAMILY_CASES,
  POSTGRES_QUEUE_CASES,
  type FamilyCase,
  neighbourOf,
  useCaseHarness,
} from '../helpers/family-cases.js';
import { copyRows } from '../helpers/family-copy.js';

function leaseOf(c: FamilyCase): void {
  const neighbour = neighbourOf(c);
  const h = useCaseHarness(c, {
    size: { roots: 150, childrenPerRoot: 2 },
    beside: [neighbour],
    besideSize: { roots: 40, childrenPerRoot: 2 },
    pageSize: 50,
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
    const runs = await runsOf(c.name);
    expect(runs.map((r) => r.status).sort()).toEqual(['skipped', 'succeeded']);
    expect(runs.find((r) => r.status === 'skipped')!.errors[0]!.code).toBe('SYNC_LEASE_HELD');
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it("a lease left by a dead worker blocks the family's runs until it expires, and no other family's", async () => {
    const control = h.sandbox.control;
    for (const id of c.standalone(control).slice(0, 20))
      control.write(c.rootModel, id, { [c.rootText]: `after crash ${id}` });
    // A worker died mid-run: its lease is still there, with time left.
    const own = eq(syncState.key, c.name);
    await h.db.db
      .update(syncState)
      .set({
        isSyncing: true,
        leaseOwner: 'run-dead-worker',
        leaseExpiresAt: sql`now() + interval '1 hour'`,
      })
      .where(own);
    expect(await h.run('sync-run', { trigger: 'test' })).toMatchObject({
      status: 'skipped',
      heldBy: 'run-dead-worker',
    });
    // The other family's lease is its own: its run goes on meanwhile.
    const other = h.runtime.sync.families.require(neighbour.name);
    await expect(h.run('sync-run', { family: other.name, trigger: 'test' })).resolves.toMatchObject(
      { status: 'succeeded' },
    );
    expect(await h.diffWithSandbox(other)).toEqual([]);
    expect(await h.diffWithSandbox()).not.toEqual([]);

    await h.db.db
      .update(syncState)
      .set({ leaseExpiresAt: sql`now() - interval '1 second'` })
      .where(own);
    expect(await h.run('sync-run', { trigger: 'test' })).toMatchObject({ status: 'succeeded' });
    expect(await h.diffWithSandbox()).toEqual([]);
    const rows = await copyRows(h.db.db, h.family.root);
    expect(new Set(rows.map((row) => row.odoo_id)).size).toBe(rows.length);
    for (const family of [c.name, other.name]) {
      const [state] = await h.db.db.select().from(syncState).where(eq(syncState.key, family));
      expect(state, family).toMatchObject({ isSyncing: false, leaseOwner: null });
    }
    const last = (await runsOf(c.name)).sort((a, b) => b.id - a.id)[0];
    expect(last!.status).toBe('succeeded');
  });
}

describe.each(FAMILY_CASES)('the $name lease', leaseOf);
describe.each(POSTGRES_QUEUE_CASES)('the $name lease, its queues in PostgreSQL', leaseOf);
