/**
 * The rules that keep FEED_SUBSCRIPTIONS_FILE's subscriptions in the table
 * (applyDeclaredSubscriptions): a file updates what it names and keeps each cursor unless its
 * `from` changed to one behind the cursor, once; it deletes only what it lists under `removed`;
 * one no process declared for a day goes; copies of the file that disagree are said.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncFeedSubscription } from '../../src/db/schema/index.js';
import { generateSecret } from '../../src/feed/secret.js';

import { encodePosition } from '../../src/feed/position.js';
import { readHead } from '../../src/feed/read-changes.js';
import { viewSubscription } from '../../src/feed/subscription-status.js';
import {
  applyDeclaredSubscriptions,
  keepDeclaredSubscriptions,
  readSubscription,
  type DeclaredSubscription,
} from '../../src/feed/subscriptions.js';
import { TEST_FEED_SECRETS } from '../helpers/sync-harness.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { DEFAULT_SOURCE } from '../../src/sources/family-key.js';

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

  it("gives a new one that names no source the unnamed sources, and keeps a known one's unless it names them", async () => {
    const apply = (subscription: DeclaredSubscription) =>
      applyDeclaredSubscriptions(
        db.db,
        { subscriptions: [subscription], removed: [], unnamedSources: [DEFAULT_SOURCE] },
        TEST_FEED_SECRETS,
      );
    const sourcesOf = async (name: string) => (await readSubscription(db.db, { name }))?.sources;
    await apply(declared('lake'));
    expect(await sourcesOf('lake')).toEqual([DEFAULT_SOURCE]);
    // As migrated: made after a second source, it takes both.
    await db.db
      .update(syncFeedSubscription)
      .set({ sources: [DEFAULT_SOURCE, 'acme'] })
      .where(eq(syncFeedSubscription.name, 'lake'));
    expect((await apply(declared('lake'))).notices).toEqual([]);
    expect(await sourcesOf('lake')).toEqual([DEFAULT_SOURCE, 'acme']);
    const named = await apply(declared('lake', { sources: ['*'] }));
    expect(named.notices).toEqual([
      expect.objectContaining({ code: 'FEED_DECLARATION_DIFFERS', subscription: 'lake' }),
    ]);
    expect(await sourcesOf('lake')).toEqual(['*']);
    await db.db.delete(syncFeedSubscription).where(eq(syncFeedSubscription.name, 'lake'));
  });

  it('keeps the cursor of one it updates, and of one it does not name', async () => {
    await applyDeclaredSubscriptions(
      db.db,
      {
        subscriptions: [declared('portal'), declared('audit')],
        removed: [],
        unnamedSources: [DEFAULT_SOURCE],
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
        unnamedSources: [DEFAULT_SOURCE],
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
        unnamedSources: [DEFAULT_SOURCE],
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
        unnamedSources: [DEFAULT_SOURCE],
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
        unnamedSources: [DEFAULT_SOURCE],
      },
      TEST_FEED_SECRETS,
    );
    await db.db.execute(
      sql`update sync_feed_subscription set declared_at = now() - interval '25 hours'`,
    );
    await keepDeclaredSubscriptions(db.db, [declared('portal', { start: 'oldest' })]);
    expect(await readSubscription(db.db, { name: 'portal' })).toBeDefined();
    expect(await readSubscription(db.db, { name: 'stale' })).toBeUndefined();
  });

  describe('two copies of the file that differ in a from', () => {
    const file = (from: DeclaredSubscription['start']) => ({
      subscriptions: [declared('replayed', { start: from, secret: 'whsec_' + 'A'.repeat(32) })],
      removed: [],
      unnamedSources: [DEFAULT_SOURCE],
    });
    const apply = (from: DeclaredSubscription['start']) =>
      applyDeclaredSubscriptions(db.db, file(from), TEST_FEED_SECRETS);
    /** Deliveries moved the cursor to 7/42, behind the head: changes wait to be delivered. */
    const deliveredSome = () => moveCursor('replayed');

    it('moves a cursor back once for a from behind it, and never forward', async () => {
      await apply('now');
      await deliveredSome();
      // The newer copy asks for a replay from the oldest change kept.
      const replay = await apply('oldest');
      expect(await cursorOf('replayed')).toBe('0/0');
      expect(replay.notices).toContainEqual(
        expect.objectContaining({ subscription: 'replayed', code: 'FEED_FROM_REPLAYED' }),
      );
      await deliveredSome();
      // An older copy (from: now) on a worker that restarts: the changes after 7/42 are not
      // skipped, and it says that its file differs.
      const older = await apply('now');
      expect(await cursorOf('replayed')).toBe('7/42');
      expect(older.notices.map((notice) => notice.code)).toEqual(['FEED_DECLARATION_DIFFERS']);
      // The newer copy again: its replay was applied once, and is not applied again.
      await apply('oldest');
      expect(await cursorOf('replayed')).toBe('7/42');
      // A from never declared before, past the cursor: not applied, and said.
      const ahead = await apply({ position: encodePosition(await readHead(db.db)) });
      expect(await cursorOf('replayed')).toBe('7/42');
      expect(ahead.notices.map((notice) => notice.code)).toContain('FEED_FROM_AHEAD');
      await apply('now');
      expect(await cursorOf('replayed')).toBe('7/42');
    });

    it('marks a subscription whose copies disagree, for its metric and status', async () => {
      const view = async () =>
        viewSubscription(db.db, (await readSubscription(db.db, { name: 'replayed' }))!);
      // The last worker to start had from: now; a worker with from: oldest notes what it declares.
      const found = await keepDeclaredSubscriptions(db.db, file('oldest').subscriptions);
      expect(found).toEqual([expect.objectContaining({ code: 'FEED_DECLARATION_DIFFERS' })]);
      expect(found[0]!.message).toContain('from');
      expect((await view()).declarationsDiffer).toBe(true);
      // Copies that agree (their check finds nothing) leave it so until the mark is old.
      expect(await keepDeclaredSubscriptions(db.db, file('now').subscriptions)).toEqual([]);
      await db.db.execute(
        sql`update sync_feed_subscription set declaration_differs_at = now() - interval '31 minutes'`,
      );
      expect((await view()).declarationsDiffer).toBe(false);
    });
  });
});
