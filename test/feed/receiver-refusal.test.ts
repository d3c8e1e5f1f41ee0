/**
 * A delivery never reaches an address it may not: a receiver on loopback, by its address or by a
 * name that resolves to it, is refused before any connection — the receiver sees nothing — and
 * the subscription's status says "refused", not what a socket or the host answered; allowed
 * explicitly (FEED_ALLOWED_HOSTS), the same receiver gets the change. Traffic goes to 127.0.0.1
 * only.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFeedReceiver, type FeedReceiver } from '../../dev/services/feed-receiver.js';
import { deliverChanges, type FeedDeliveryDeps } from '../../src/feed/deliver.js';
import { FeedDeliveryError } from '../../src/feed/feed-errors.js';
import { createFeedSender } from '../../src/feed/feed-sender.js';
import { parseAllowedHosts } from '../../src/feed/receiver-address.js';
import { generateSecret } from '../../src/feed/secret.js';
import { readSubscription } from '../../src/feed/subscriptions.js';
import { fakeBc, mapBc, writeBcs } from '../helpers/seed-bcs.js';
import { feedCaughtUp } from '../helpers/feed-visible.js';
import { subscribeFromNow, TEST_FEED_SECRETS } from '../helpers/sync-harness.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const send = (sender: ReturnType<typeof createFeedSender>, url: string) =>
  sender.send(url, { 'content-type': 'application/json' }, '{}', {
    signal: new AbortController().signal,
    timeoutMs: 2_000,
  });

describe('a receiver at an address deliveries may not reach', () => {
  let db: TestDb;
  let receiver: FeedReceiver;
  const secret = generateSecret();
  const refusing = createFeedSender();
  const allowing = createFeedSender({ allowed: parseAllowedHosts(['127.0.0.1']).rules });
  const byName = createFeedSender({ allowed: parseAllowedHosts(['localhost']).rules });

  beforeAll(async () => {
    db = await createTestDb();
    receiver = await startFeedReceiver({ secret });
  });
  afterAll(async () => {
    await Promise.all([refusing.close(), allowing.close(), byName.close()]);
    await receiver.close();
    await db.dispose();
  });

  it('is refused before any connection, by its address and by a name that resolves to it', async () => {
    const port = new URL(receiver.url).port;
    for (const url of [
      receiver.url,
      `http://localhost:${port}/`,
      `http://[::ffff:127.0.0.1]:${port}/`,
    ]) {
      const error = await send(refusing, url).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error, url).toBeInstanceOf(FeedDeliveryError);
      expect((error as FeedDeliveryError).code).toBe('FEED_RECEIVER_REFUSED');
    }
    expect(receiver.attempts).toEqual([]);
    expect(receiver.badSignatures).toEqual([]);
  });

  it('is reached once FEED_ALLOWED_HOSTS allows its address, or its name', async () => {
    await expect(send(allowing, receiver.url)).rejects.toMatchObject({
      // The receiver verifies a signature this bare body lacks: it answered, so it was reached.
      code: 'FEED_RECEIVER_STATUS',
    });
    const port = new URL(receiver.url).port;
    await expect(send(byName, `http://localhost:${port}/`)).rejects.toMatchObject({
      code: 'FEED_RECEIVER_STATUS',
    });
  });

  it("shows the subscription as refused, with nothing of the host's answer", async () => {
    await subscribeFromNow(db.db, { name: 'inside', url: receiver.url, secret });
    await writeBcs(db.db, [mapBc({ bc: fakeBc(1), lines: [] })], {
      runId: null,
      lease: null,
      trigger: 'test',
    });
    await feedCaughtUp(db.db);
    const deps: FeedDeliveryDeps = {
      db: db.db,
      sender: refusing,
      logger: pino({ level: 'silent' }),
      settings: {
        timeoutMs: 2_000,
        batchMax: 10,
        backoffBaseMs: 10,
        backoffMaxMs: 100,
        giveUpMs: 60_000,
        turnMs: 1_000,
      },
      secrets: TEST_FEED_SECRETS,
    };
    const subscription = (await readSubscription(db.db, { name: 'inside' }))!;
    await deliverChanges(
      deps,
      { subscriptionId: subscription.id },
      new AbortController().signal,
    ).catch(() => undefined);
    const after = (await readSubscription(db.db, { name: 'inside' }))!;
    expect(after.lastError).toMatch(/^FEED_RECEIVER_REFUSED: the receiver's address is not one/);
    expect(after.lastError).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|\d{3}/);
    expect(receiver.attempts).toEqual([]);
  });
});
