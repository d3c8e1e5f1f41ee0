/**
 * A subscription's signing secret is sealed at rest (FEED_SECRET_KEY): what the table holds is
 * no secret a reader of the database could sign with; a secret an earlier version stored in the
 * clear is sealed by a worker's start and still signs meanwhile; a key that changes opens what
 * the previous one sealed (FEED_SECRET_KEY_PREVIOUS) until everything is sealed anew; without a
 * key, no subscription is made.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncFeedSubscription } from '../../src/db/schema/index.js';
import { createSubscriptionSecrets, generateSecret } from '../../src/feed/secret.js';
import {
  createSubscription,
  readSubscription,
  resealSecrets,
} from '../../src/feed/subscriptions.js';
import type { App } from '../../src/http/app.js';
import { bearer, createTestApp, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { DEFAULT_SOURCE } from '../../src/sources/family-key.js';

const OLD_KEY = { secret: 'the-key-the-subscriptions-were-first-sealed-under' };
const NEW_KEY = { secret: 'the-key-that-replaces-it-after-a-rotation-of-keys' };

describe("the subscriptions' secrets at rest", () => {
  let db: TestDb;
  let app: App;
  beforeAll(async () => {
    db = await createTestDb();
    app = await createTestApp(db);
  });
  afterAll(async () => {
    await app.close();
    await db.dispose();
  });

  const stored = async (name: string) => (await readSubscription(db.db, { name }))!.secret;

  it('are sealed when the API makes one: the table holds no secret to sign with', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/changes/subscriptions',
      headers: bearer('admin'),
      payload: { name: 'portal', url: 'https://portal.example.com/hooks' },
    });
    expect(created.statusCode).toBe(201);
    const { secret } = created.json<{ secret: string }>();
    expect(secret).toMatch(/^whsec_/);
    const kept = await stored('portal');
    expect(kept).toMatch(/^v1\./);
    expect(kept).not.toContain(secret.slice(6));
    const everything = JSON.stringify(
      await db.db
        .select()
        .from(syncFeedSubscription)
        .where(eq(syncFeedSubscription.name, 'portal')),
    );
    expect(everything).not.toContain(secret.slice(6));
  });

  it('are refused without FEED_SECRET_KEY: no subscription is made', async () => {
    const keyless = await createTestApp(db, { config: testConfig({ FEED_SECRET_KEY: '' }) });
    try {
      const refused = await keyless.inject({
        method: 'POST',
        url: '/api/changes/subscriptions',
        headers: bearer('admin'),
        payload: { name: 'keyless', url: 'https://portal.example.com/hooks' },
      });
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toMatchObject({ error: 'FEED_SECRET_KEY_MISSING' });
      expect(await readSubscription(db.db, { name: 'keyless' })).toBeUndefined();
    } finally {
      await keyless.close();
    }
    expect(() => testConfig({ FEED_SECRET_KEY: '', FEED_SUBSCRIPTIONS_FILE: '' })).not.toThrow();
  });

  it('an earlier version kept in the clear: it still opens, and a worker seals it', async () => {
    const plain = generateSecret();
    await db.db.execute(sql`
      insert into sync_feed_subscription (name, url, secret, sources, source, cursor_xid, cursor_id)
      values ('legacy', 'https://legacy.example.com/in', ${plain}, '{default}', 'api', '0', 0)`);
    const secrets = createSubscriptionSecrets(OLD_KEY);
    expect(secrets.open(await stored('legacy'))).toBe(plain);
    // The API's, sealed under another key, is named, not lost.
    expect(await resealSecrets(db.db, secrets)).toEqual(['portal']);
    const sealed = await stored('legacy');
    expect(sealed).toMatch(/^v1\./);
    expect(secrets.open(sealed)).toBe(plain);
  });

  it('a key that changes opens what the previous one sealed, until all is sealed anew', async () => {
    const plain = generateSecret();
    await createSubscription(
      db.db,
      {
        name: 'rotated',
        url: 'https://rotated.example.com/in',
        secret: plain,
        sources: [DEFAULT_SOURCE],
        families: [],
        models: [],
      },
      'now',
      createSubscriptionSecrets(OLD_KEY),
    );
    const before = await stored('rotated');
    expect(() => createSubscriptionSecrets(NEW_KEY).open(before)).toThrow(
      expect.objectContaining({ code: 'FEED_SECRET_UNREADABLE' }),
    );
    const rotating = createSubscriptionSecrets({ ...NEW_KEY, previous: OLD_KEY.secret });
    expect(rotating.open(before)).toBe(plain);
    expect(await resealSecrets(db.db, rotating)).toEqual(['portal']);
    expect(createSubscriptionSecrets(NEW_KEY).open(await stored('rotated'))).toBe(plain);
  });
});
