/**
 * What stops a subscription, and what starts it again: a message retried past
 * FEED_DELIVERY_GIVE_UP_HOURS is a dead letter (the subscription stops there, nothing after it is
 * delivered), replayed from its position once the receiver is fixed;
 * a receiver's 410 ends its subscription; a cursor behind the retention expires it. The delivery
 * step is driven directly, its clock in the test's hands.
 */
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFeedReceiver, type FeedReceiver } from '../../dev/services/feed-receiver.js';
import { deliverChanges, type FeedDeliveryDeps } from '../../src/feed/deliver.js';
import { createFeedSender } from '../../src/feed/feed-sender.js';
import { pruneFeed } from '../../src/feed/prune.js';
import { generateSecret } from '../../src/feed/secret.js';
import { describeSubscriptionLines, viewSubscription } from '../../src/feed/subscription-status.js';
import { readSubscription, replaySubscription } from '../../src/feed/subscriptions.js';
import { fakeBc, fakeLine, mapBc, writeBcs } from '../helpers/seed-bcs.js';
import { feedCaughtUp } from '../helpers/feed-visible.js';
import {
  LOOPBACK_RECEIVERS,
  subscribeFromNow,
  TEST_FEED_SECRETS,
} from '../helpers/sync-harness.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const HOUR_MS = 3_600_000;

describe('change feed subscriptions that stop', () => {
  let db: TestDb;
  let receiver: FeedReceiver;
  let nowMs = Date.parse('2026-05-01T08:00:00Z');
  const sender = createFeedSender({ allowed: LOOPBACK_RECEIVERS });
  const secret = generateSecret();
  const deps = (): FeedDeliveryDeps => ({
    db: db.db,
    sender,
    logger: pino({ level: 'silent' }),
    settings: {
      timeoutMs: 2_000,
      batchMax: 10,
      backoffBaseMs: 1_000,
      backoffMaxMs: 60_000,
      giveUpMs: 72 * HOUR_MS,
      turnMs: 60_000,
    },
    secrets: TEST_FEED_SECRETS,
    now: () => nowMs,
  });
  const never = new AbortController().signal;
  let nextBc = 0;
  const writeBc = async () => {
    nextBc += 1;
    await writeBcs(db.db, [mapBc({ bc: fakeBc(nextBc), lines: [fakeLine(nextBc, 1)] })], {
      runId: null,
      lease: null,
    });
    await feedCaughtUp(db.db);
  };
  const subscribe = async (name: string) =>
    subscribeFromNow(db.db, { name, url: receiver.url, secret });

  beforeAll(async () => {
    db = await createTestDb();
    receiver = await startFeedReceiver({ secret });
  });
  afterAll(async () => {
    await receiver.close();
    await sender.close();
    await db.dispose();
  });

  it('stops on a dead letter, says so, and delivers from it once replayed', async () => {
    const { id } = await subscribe('dead-letters');
    await writeBc();
    receiver.setFailureRate(1);
    const first = await deliverChanges(deps(), { subscriptionId: id }, never);
    expect(first).toMatchObject({ kind: 'retry', pending: { attempts: 1 } });
    if (first.kind !== 'retry') return;
    // Retried, backing off, for 72 hours: the same message each time.
    let pending = first.pending;
    for (let attempt = 2; attempt <= 3; attempt += 1) {
      nowMs += 40 * HOUR_MS;
      const again = await deliverChanges(deps(), { subscriptionId: id, pending }, never);
      if (attempt < 3) {
        expect(again).toMatchObject({ kind: 'retry', pending: { attempts: attempt } });
        if (again.kind === 'retry') pending = again.pending;
      } else expect(again).toMatchObject({ kind: 'stopped', why: 'dead-letter' });
    }
    // Stopped: later changes wait behind the dead letter.
    await writeBc();
    receiver.setFailureRate(0);
    expect(await deliverChanges(deps(), { subscriptionId: id }, never)).toMatchObject({
      kind: 'stopped',
      why: 'inactive',
    });
    expect(receiver.messages).toEqual([]);
    // Each attempt sent the same message, under the same webhook-id.
    expect(receiver.attempts).toEqual(['chgs_1_2', 'chgs_1_2', 'chgs_1_2']);
    const row = (await readSubscription(db.db, { id }))!;
    expect(row).toMatchObject({
      status: 'failing',
      failedAttempts: 3,
      deadLetter: { webhookId: 'chgs_1_2', changes: 2, code: 'FEED_RECEIVER_STATUS' },
    });
    const view = await viewSubscription(db.db, row, nowMs);
    expect(view.lagChanges).toBe(4);
    expect(describeSubscriptionLines([view]).join('\n')).toMatch(
      /dead letter: chgs_1_2 \(2 changes after [0-9a-f]{32}\): FEED_RECEIVER_STATUS/,
    );

    await replaySubscription(db.db, 'dead-letters', { position: row.deadLetter!.from });
    expect(await deliverChanges(deps(), { subscriptionId: id }, never)).toMatchObject({
      kind: 'idle',
      report: { changes: 4 },
    });
    // The dead letter's changes, then what waited behind it; each under its own id.
    expect(receiver.changes.map((change) => change.id)).toEqual([
      'chg_1',
      'chg_2',
      'chg_3',
      'chg_4',
    ]);
    expect(await readSubscription(db.db, { id })).toMatchObject({
      status: 'active',
      deadLetter: null,
      deliveredChanges: 4,
    });
    expect(receiver.badSignatures).toEqual([]);
  });

  it('ends a subscription whose receiver answers 410 Gone', async () => {
    const { id } = await subscribe('gone-receiver');
    await writeBc();
    receiver.setFailureRate(1, 410);
    expect(await deliverChanges(deps(), { subscriptionId: id }, never)).toMatchObject({
      kind: 'stopped',
      why: 'ended',
    });
    expect(await readSubscription(db.db, { id })).toMatchObject({ status: 'ended' });
    receiver.setFailureRate(0);
  });

  it('expires a subscription whose cursor fell behind the retention', async () => {
    const { id } = await subscribe('far-behind');
    await writeBc();
    await db.db.execute(sql`update sync_feed set created_at = now() - interval '9 days'`);
    await writeBc();
    await feedCaughtUp(db.db);
    await pruneFeed(db.db, 7);
    expect(await deliverChanges(deps(), { subscriptionId: id }, never)).toMatchObject({
      kind: 'stopped',
      why: 'expired',
    });
    expect(await readSubscription(db.db, { id })).toMatchObject({ status: 'expired' });
  });
});
