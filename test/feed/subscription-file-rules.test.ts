/**
 * The rules that keep FEED_SUBSCRIPTIONS_FILE's subscriptions in the table
 * (applyDeclaredSubscriptions): a file updates what it names and keeps each cursor unless its
 * `from` changed; it deletes only what it lists under `removed`; one no process declared for a
 * day goes.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncFeedSubscription } from '../../src/db/schema/index.js';
import { generateSecret } from '../../src/feed/secret.js';
import {
  applyDeclaredSubscriptions,
  keepDeclaredSubscriptions,
  readSubscription,
  type DeclaredSubscription,
} from '../../src/feed/subscriptions.js';
import { TEST_FEED_SECRETS } from '../helpers/sync-harness.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const declared = (
  name: string,
  extra: Partial<DeclaredSubscription> = {},
): DeclaredSubscription => ({
  name,
  url: `http://127.0.0.1:9/${name}`,
  secret: generateSecret(),
  families: [],
  models: [],
  start: 'now',
  ...extra,
});

describe("the file's subscriptions", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(() => db.dispose());

  const cursorOf = async (name: string) => {
    const row = await readSubscription(db.db, { name });
    return row && `${row.cursorXid}/${row.cursorId}`;
  };
  const moveCursor = (name: string) =>
    db.db
      .update(syncFeedSubscription)
      .set({ cursorXid: '7', cursorId: 42 })
      .where(eq(syncFeedSubscription.name, name));

  it('keeps the cursor of one it updates, and of one it does not name', async () => {
    await applyDeclaredSubscriptions(
      db.db,
      {
        subscriptions: [declared('portal'), declared('audit')],
        removed: [],
      },
      TEST_FEED_SECRETS,
    );
    await moveCursor('portal');
    await moveCursor('audit');
    const answer = await applyDeclaredSubscriptions(
      db.db,
      {
        subscriptions: [declared('portal', { url: 'http://127.0.0.1:9/moved', families: ['bcs'] })],
        removed: [],
      },
      TEST_FEED_SECRETS,
    );
    expect(answer.undeclared).toEqual(['audit']);
    expect(await readSubscription(db.db, { name: 'portal' })).toMatchObject({
      url: 'http://127.0.0.1:9/moved',
      families: ['bcs'],
      cursorXid: '7',
      cursorId: 42,
    });
    expect(await cursorOf('audit')).toBe('7/42');
  });

  it('moves the cursor when the file gives another from, and makes it active again', async () => {
    await db.db
      .update(syncFeedSubscription)
      .set({ status: 'ended', statusReason: 'the receiver answered 410' })
      .where(eq(syncFeedSubscription.name, 'portal'));
    await applyDeclaredSubscriptions(
      db.db,
      {
        subscriptions: [declared('portal', { start: 'oldest' })],
        removed: [],
      },
      TEST_FEED_SECRETS,
    );
    expect(await readSubscription(db.db, { name: 'portal' })).toMatchObject({
      status: 'active',
      statusReason: null,
      cursorXid: '0',
      cursorId: 0,
    });
  });

  it('deletes one the file lists under removed', async () => {
    await applyDeclaredSubscriptions(
      db.db,
      {
        subscriptions: [declared('portal', { start: 'oldest' })],
        removed: ['audit'],
      },
      TEST_FEED_SECRETS,
    );
    expect(await readSubscription(db.db, { name: 'audit' })).toBeUndefined();
  });

  it('deletes one no process has declared for a day, and not one declared since', async () => {
    await applyDeclaredSubscriptions(
      db.db,
      {
        subscriptions: [declared('portal', { start: 'oldest' }), declared('stale')],
        removed: [],
      },
      TEST_FEED_SECRETS,
    );
    await db.db.execute(
      sql`update sync_feed_subscription set declared_at = now() - interval '25 hours'`,
    );
    await keepDeclaredSubscriptions(db.db, ['portal']);
    expect(await readSubscription(db.db, { name: 'portal' })).toBeDefined();
    expect(await readSubscription(db.db, { name: 'stale' })).toBeUndefined();
  });
});
