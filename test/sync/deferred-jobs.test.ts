/**
 * A reconcile or a full resync someone asked for (the daily cron, an admin's 202) must happen:
 * when the lease is busy or Odoo is away it is put off and runs later, never dropped until
 * tomorrow's cron.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { syncState } from '../../src/db/schema/index.js';
import { BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

describe('jobs that must run once asked for', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({ sandbox: { orders: 20, linesPerOrder: 2 } });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  const holdLease = (owner: string | null) =>
    h.db.db
      .update(syncState)
      .set(
        owner
          ? { isSyncing: true, leaseOwner: owner, leaseExpiresAt: sql`now() + interval '1 hour'` }
          : { isSyncing: false, leaseOwner: null, leaseExpiresAt: null },
      )
      .where(eq(syncState.key, bcsFamily.name));

  it.each([
    ['a reconcile', 'reconcile', {}],
    ['a full resync', 'sync-run', { full: true }],
  ] as const)(
    '%s that finds the lease busy waits, and runs once it is free',
    async (_what, name, extra) => {
      await holdLease('run-a-long-one');
      const job = await h.add(name, { trigger: 'test', ...extra });
      await vi.waitFor(async () => expect(await job.getState()).toBe('delayed'), {
        timeout: 10_000,
        interval: 50,
      });
      await holdLease(null);
      await expect(h.wait(job)).resolves.toMatchObject({ status: 'succeeded' });
    },
  );

  it.each([
    ['a reconcile', 'reconcile', {}],
    ['a full resync', 'sync-run', { full: true }],
  ] as const)(
    '%s that meets Odoo away waits, and runs once Odoo answers',
    async (_what, name, extra) => {
      const c = h.sandbox.control;
      c.write(BC_MODEL, c.ids(BC_MODEL)[0]!, { origin: `changed before the ${name}` });
      // Every attempt of the client's first scan call meets the proxy's 502 page.
      const outage = c.injectFault({ kind: 'html', status: 502, method: 'search_read', times: 3 });
      const job = await h.add(name, { trigger: 'test', ...extra });
      await expect(h.wait(job)).resolves.toMatchObject({ status: 'succeeded' });
      expect(outage.triggered).toBe(3);
      expect((await h.runs())[1]).toMatchObject({ status: 'failed' });
      expect(await h.diffWithSandbox()).toEqual([]);
    },
  );
});
