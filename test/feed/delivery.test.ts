/**
 * Push delivery end to end, on the real workers against the Odoo sandbox: a storm of edits,
 * webhooks, resyncs, line deletions, archives and restores by the reconcile, and drift healed by
 * the verify, delivered to a receiver that answers 500 to a third of the deliveries at random and
 * is down for a while (OUTAGE_MS stands for the minute, or the day, of a real outage). It ends
 * with every change, each verified by the Standard Webhooks library, first received in commit
 * order, and replaying each record's changes yields what the copy holds.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inject } from 'vitest';
import { startFeedReceiver, type FeedReceiver } from '../../dev/services/feed-receiver.js';
import { mulberry32 } from '../../dev/sandbox/sandbox-faults.js';
import { BC_LINE_MODEL, BC_MODEL } from '../../src/families/bcs/family.js';
import type { ChangeBody } from '../../src/feed/change-body.js';
import { postgresFeedListen } from '../../src/feed/feed-signal.js';
import { generateSecret } from '../../src/feed/secret.js';
import { viewSubscription } from '../../src/feed/subscription-status.js';
import { readSubscription } from '../../src/feed/subscriptions.js';
import { createNudgeFlags, nudgeDeliveries } from '../../src/queues/feed-nudge.js';
import { upsertFeedSchedules } from '../../src/queues/feed-schedules.js';
import { startFeedWake, type FeedWake } from '../../workers/feed-wake.js';
import { feedCaughtUp } from '../helpers/feed-visible.js';
import {
  createSyncHarness,
  LOOPBACK_RECEIVERS,
  TEST_FEED_SECRET_KEY,
  subscribeFromNow,
  type SyncHarness,
} from '../helpers/sync-harness.js';

/** How long the receiver is down: a real outage's minute (or day), shortened. */
const OUTAGE_MS = 3_000;

interface Replayed {
  exists: boolean;
  archived: boolean;
  writeDate: string | null;
}

/** Each record's state after its changes, applied in the order they first arrived. */
function replay(changes: readonly ChangeBody[]): Map<string, Replayed> {
  const records = new Map<string, Replayed>();
  for (const change of changes) {
    const key = `${change.model} ${change.odooId}`;
    const state = records.get(key) ?? { exists: true, archived: false, writeDate: null };
    if (change.action === 'deleted') state.exists = false;
    else if (change.action === 'archived') state.archived = true;
    else Object.assign(state, { exists: true, archived: false });
    state.writeDate = change.odooWriteDate;
    records.set(key, state);
  }
  return records;
}

describe('push: a storm of changes delivered to a flaky receiver', () => {
  let h: SyncHarness;
  let receiver: FeedReceiver;
  let redis: Redis;
  let wake: FeedWake;
  const secret = generateSecret();

  beforeAll(async () => {
    h = await createSyncHarness({
      sandbox: { orders: 40, linesPerOrder: 3 },
      pageSize: 10,
      feed: {
        retentionDays: 7,
        allowedHosts: LOOPBACK_RECEIVERS,
        secretKey: TEST_FEED_SECRET_KEY,
        delivery: {
          timeoutMs: 2_000,
          batchMax: 5,
          backoffBaseMs: 20,
          backoffMaxMs: 300,
          giveUpMs: 600_000,
          turnMs: 1_000,
        },
      },
    });
    // The first copy comes before the subscription, which starts now: it never receives it (once
    // no other transaction holds it back).
    await h.run('sync-run', { trigger: 'test' });
    await feedCaughtUp(h.db.db);
    receiver = await startFeedReceiver({ secret, random: mulberry32(42) });
    await subscribeFromNow(h.db.db, {
      name: 'portal',
      url: receiver.url,
      secret,
      families: ['bcs'],
    });
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    wake = await startFeedWake({
      listen: postgresFeedListen(h.db.sql!),
      nudge: () =>
        nudgeDeliveries({
          db: h.db.db,
          queues: h.runtime.queues,
          flags: createNudgeFlags({ kind: 'redis', redis, prefix: h.prefix }),
        }),
      logger: h.logger,
    });
    await upsertFeedSchedules(h.runtime.queues, 500);
  });
  afterAll(async () => {
    await wake.stop();
    await receiver.close();
    await h.dispose();
    await redis.quit();
  });

  it('ends with every change, signed, in commit order, and the records as the copy holds them', async () => {
    const c = h.sandbox.control;
    const bcs = c.ids(BC_MODEL);
    const subscription = (await readSubscription(h.db.db, { name: 'portal' }))!;
    const fromAuditId = Math.max(0, ...(await h.auditRows()).map((row) => row.id));

    // The receiver fails a third of the deliveries from the start; changes are delivered while
    // others are written.
    receiver.setFailureRate(1 / 3);
    const pick = mulberry32(7);
    const some = (ids: readonly number[], n: number) =>
      Array.from({ length: n }, () => ids[Math.floor(pick() * ids.length)]!);
    const editRound = async (round: number) => {
      const edited = [...new Set(some(bcs.slice(0, 40), 10))];
      for (const id of edited) c.write(BC_MODEL, id, { origin: `round ${round} of ${id}` });
      for (const line of some(c.ids(BC_LINE_MODEL), 4))
        c.write(BC_LINE_MODEL, line, { product_qty: round * 10 + (line % 7) });
      // Webhooks push some of them while a run reads the same BCs.
      await Promise.all([
        h.run('sync-run', { trigger: 'test' }),
        ...edited
          .slice(0, 4)
          .map((recordId) =>
            h.run('webhook-record', { model: BC_MODEL, recordId, receivedAtMs: Date.now() }),
          ),
      ]);
    };
    for (let round = 1; round <= 3; round += 1) await editRound(round);

    // Then the receiver goes down (OUTAGE_MS), in the middle of the storm.
    await receiver.down();
    const outage = new Promise<void>((resolve) => setTimeout(resolve, OUTAGE_MS));
    for (let round = 4; round <= 6; round += 1) await editRound(round);
    // Lines deleted in Odoo, a BC archived there, one resynced by hand.
    const lines = c.ids(BC_LINE_MODEL);
    c.unlink(BC_LINE_MODEL, [lines[0]!, lines[7]!, lines[20]!]);
    c.archive(BC_MODEL, bcs[9]!);
    await h.run('sync-run', { trigger: 'test' });
    c.write(BC_MODEL, bcs[12]!, { origin: 'resynced' });
    await h.run('resync-record', { odooId: bcs[12]!, trigger: 'test' });
    // Deleted in Odoo, and hidden then back: archived, then restored, by reconciles.
    c.unlink(BC_MODEL, [bcs[20]!, bcs[21]!]);
    c.hide(BC_MODEL, bcs[22]!);
    await h.run('reconcile', { trigger: 'test' });
    c.unhide(BC_MODEL, bcs[22]!);
    await h.run('reconcile', { trigger: 'test' });
    // Changed in Odoo without a stamp: only the verify sees it, and heals it as drift.
    c.corrupt(BC_MODEL, bcs[30]!, { origin: 'no stamp moved' });
    c.corrupt(BC_MODEL, bcs[31]!, { origin: 'no stamp moved either' });
    await h.run('verify', { trigger: 'test', all: true });
    await editRound(7);

    await outage;
    await receiver.up();
    const expected = (await h.auditRows()).filter((row) => row.id > fromAuditId);
    const expectedIds = new Set(expected.map((row) => `chg_${row.id}`));
    expect(new Set(expected.map((row) => row.action))).toEqual(
      new Set(['updated', 'deleted', 'archived', 'restored', 'drift']),
    );
    const received = () => new Set(receiver.changes.map((change) => change.id));
    await receiver.until(() => [...expectedIds].every((id) => received().has(id)));

    // Every change, nothing else, each verified by the Standard Webhooks library.
    expect(receiver.badSignatures).toEqual([]);
    expect(received()).toEqual(expectedIds);
    // First arrivals in position order: commit order, per record and across them.
    const positions = receiver.changes.map((change) => change.position);
    expect(positions).toEqual([...positions].sort());
    // Replaying each record's changes gives what the copy holds.
    const bcRows = new Map((await h.bcRows()).map((row) => [row.odooId, row]));
    const lineRows = new Map((await h.lineRows()).map((row) => [row.odooId, row]));
    for (const [key, state] of replay(receiver.changes)) {
      const [model, id] = key.split(' ') as [string, string];
      const row = (model === BC_MODEL ? bcRows : lineRows).get(Number(id));
      expect({ key, exists: row !== undefined }).toEqual({ key, exists: state.exists });
      if (!row) continue;
      expect({ key, writeDate: row.odooWriteDate.toISOString() }).toEqual({
        key,
        writeDate: state.writeDate,
      });
      if (model === BC_MODEL)
        expect({ key, archived: 'archivedAt' in row && row.archivedAt !== null }).toEqual({
          key,
          archived: state.archived,
        });
    }
    // Failures retried, batches when behind, and the subscription caught up.
    expect(receiver.failedOnPurpose).toBeGreaterThan(0);
    expect(receiver.messages.some((message) => message.changes.length > 1)).toBe(true);
    // The receiver has the last batch once it answered; the worker then moves the cursor.
    const view = await vi.waitFor(
      async () => {
        const now = await viewSubscription(
          h.db.db,
          (await readSubscription(h.db.db, { id: subscription.id }))!,
        );
        expect(now.lagChanges).toBe(0);
        return now;
      },
      { timeout: 30_000, interval: 50 },
    );
    expect(view).toMatchObject({ status: 'active', lagChanges: 0, deadLetter: null });
    // Refused while the receiver was down, answered 500 after: both retried.
    expect(view.failedAttempts).toBeGreaterThan(receiver.failedOnPurpose);
  }, 120_000);
});
