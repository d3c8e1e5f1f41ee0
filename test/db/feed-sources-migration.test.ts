/**
 * Migration 0039 gives each subscription the sources it takes (docs/feed.md, "Whose records"),
 * keeping every subscription's deliveries as they were: one that names families follows those; one
 * that named none took every change, so it keeps the default source and every source that had run
 * before it was made, and no source added after it reaches it any more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../src/db/migrate.js';
import { migrationsBefore, type MigrationsFolder } from '../helpers/migrations.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

describe('migration 0039: the sources of each subscription', () => {
  let db: TestDb;
  let before: MigrationsFolder;
  beforeAll(async () => {
    db = await createTestDb({ migrated: false });
    before = migrationsBefore('0039_feed_subscription_sources');
  });
  afterAll(async () => {
    await db.dispose();
    before.remove();
  });

  it("keeps each subscription's deliveries: none gains a source added after it was made", async () => {
    await runMigrations(db, before.dir);
    const subscribe = (name: string, families: string[], daysAgo: number) =>
      db.sql!`
        insert into sync_feed_subscription (name, url, secret, families, source, cursor_xid,
          cursor_id, created_at)
        values (${name}, 'https://portal.example/hooks', 'sealed', ${families}, 'api', '1', 0,
          now() - ${daysAgo} * interval '1 day')`;
    const firstRun = (family: string, daysAgo: number) =>
      db.sql!`
        insert into sync_log (family, trigger, status, started_at)
        values (${family}, 'schedule', 'succeeded', now() - ${daysAgo} * interval '1 day')`;
    // acme copied from 20 days ago, globex from 5 days ago.
    await firstRun('bcs', 30);
    await firstRun('acme.bcs', 20);
    await firstRun('acme.partners', 19);
    await firstRun('globex.bcs', 5);
    await subscribe('before-any-source', [], 25);
    await subscribe('after-acme', [], 10);
    await subscribe('after-both', [], 1);
    await subscribe('acme-bcs-only', ['acme.bcs'], 25);
    await subscribe('bcs-only', ['bcs'], 1);

    await runMigrations(db);
    const rows = await db.sql!<{ name: string; sources: string[] }[]>`
      select name, sources from sync_feed_subscription order by name`;
    expect(rows.map((row) => ({ ...row, sources: [...row.sources].sort() }))).toEqual([
      { name: 'acme-bcs-only', sources: ['*'] },
      { name: 'after-acme', sources: ['acme', 'default'] },
      { name: 'after-both', sources: ['acme', 'default', 'globex'] },
      { name: 'bcs-only', sources: ['*'] },
      { name: 'before-any-source', sources: ['default'] },
    ]);
  });
});
