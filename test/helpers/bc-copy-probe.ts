/**
 * What the tests that fail a store under a running deployment (a Redis Cluster node, a
 * PostgreSQL crash) ask of it: a run of the BC family and its outcome, Odoo's webhooks reaching
 * the copy, and that all is healed after the failure.
 */
import { asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../src/db/create-db.js';
import { syncAudit } from '../../src/db/schema/index.js';
import { BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import type { OwnedQueueEvents } from '../../src/queues/queue-events.js';
import type { Queues } from '../../src/queues/queues.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import { withDeadline } from '../../src/lib/deadline.js';
import { expect, vi } from 'vitest';
import type { OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import type { FeedReceiver } from '../../dev/services/feed-receiver.js';
import { diffCopyWithSandbox } from './copy-diff.js';

/** How long the healed copy's changes may take to reach the receiver (a worker restarted first). */
const HEALED_DELIVERY_WAIT_MS = 180_000;

export function bcCopyProbe(db: Db, queues: Queues, events: OwnedQueueEvents) {
  /** Every change of the BC copy, as the feed numbers them. */
  const changeIds = async (): Promise<string[]> =>
    (
      await db
        .select({ id: syncAudit.id })
        .from(syncAudit)
        .where(eq(syncAudit.family, bcsFamily.name))
        .orderBy(asc(syncAudit.id))
    ).map((row) => `chg_${row.id}`);
  const run = async (full = false): Promise<{ status: string; reason?: string }> => {
    const job = await queues.add('sync-run', { family: bcsFamily.name, trigger: 'test', full });
    return (await events.waitFor(job).catch((error: Error) => ({
      status: 'failed',
      reason: error.message,
    }))) as { status: string; reason?: string };
  };
  const nameOf = async (id: number): Promise<string | undefined> =>
    rowsOf<{ name: string }>(
      await db.execute(sql`select name from scrap_dimagaz_bc where odoo_id = ${id}`),
    )[0]?.name;
  return {
    /** A run queued now; its failure, or its job lost, as `{ status: 'failed', reason }`. */
    run,
    /** Odoo's webhook rule posts to `webhookUrl`: five BCs edited reach the copy without a run. */
    expectWebhooksCopied: async (sandbox: OdooSandbox, webhookUrl: string): Promise<void> => {
      sandbox.control.setWebhook({ url: webhookUrl, models: [BC_MODEL], fields: ['write_date'] });
      const hooked = sandbox.control.ids(BC_MODEL).slice(0, 5);
      for (const id of hooked) sandbox.control.write(BC_MODEL, id, { name: `by webhook ${id}` });
      await sandbox.control.settled();
      await vi.waitFor(
        async () => {
          for (const id of hooked) expect(await nameOf(id)).toBe(`by webhook ${id}`);
        },
        // Only waits: an event whose job read Odoo too early, on a loaded machine, stays in the
        // inbox and is queued again when it is due, a minute after it came.
        { timeout: 150_000, interval: 100 },
      );
      sandbox.control.setWebhook(undefined);
    },
    /**
     * After the store's failure: one more run succeeds (runs are skipped while a lost run's lease
     * lasts), the copy then equals Odoo, and the receiver got every change, once.
     */
    expectHealed: async (sandbox: OdooSandbox, receiver: FeedReceiver): Promise<void> => {
      await vi.waitFor(async () => expect((await run()).status).toBe('succeeded'), {
        timeout: 90_000,
        interval: 1_000,
      });
      expect(await diffCopyWithSandbox(db, sandbox.control, bcsFamily)).toEqual([]);
      const expected = await changeIds();
      expect(expected.length).toBeGreaterThan(900);
      // Only waits: a queue whose job loop the store's failure left parked delivers again once
      // the worker's liveness check ended it and its supervisor started it again.
      await withDeadline(
        receiver.until(() => receiver.changes.some((change) => change.id === expected.at(-1))),
        HEALED_DELIVERY_WAIT_MS,
        () => {
          const got = new Set(receiver.changes.map((change) => change.id));
          const missing = expected.filter((id) => !got.has(id));
          return new Error(
            `the receiver still lacks ${missing.length} of ${expected.length} changes after ${HEALED_DELIVERY_WAIT_MS / 1_000} s: ${missing.slice(0, 10).join(', ')}`,
          );
        },
      ).catch(async (error: Error) => {
        // Where the deliveries stand says which of the feed's wake-ups was missing.
        const feed = queues.byName.feed;
        const [counts, schedulers] = await Promise.all([
          feed.getJobCounts(),
          feed.getJobSchedulers(),
        ]);
        throw new Error(
          `${error.message}; the feed queue: ${JSON.stringify(counts)}, schedulers ${schedulers.map((scheduler) => scheduler.key).join(', ') || 'none'}`,
        );
      });
      expect(receiver.changes.map((change) => change.id).sort()).toEqual([...expected].sort());
      expect(receiver.badSignatures).toEqual([]);
    },
  };
}
