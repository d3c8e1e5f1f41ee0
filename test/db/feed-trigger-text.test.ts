/**
 * The change feed's trigger function as it stands after every migration is kept whole in one
 * file, `src/db/sql/sync-feed-append.sql`, as PostgreSQL prints it: a reader finds it there, not
 * pieced together from migrations 0023, 0024 and 0025. This test holds the file to the migrated
 * database; a migration that changes the function changes the file with it.
 */
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/sql-rows.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

describe("the feed trigger's text", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(() => db.dispose());

  it('is what src/db/sql/sync-feed-append.sql says', async () => {
    const [row] = rowsOf<{ definition: string }>(
      await db.db.execute(
        sql`select pg_get_functiondef('sync_feed_append'::regproc) as definition`,
      ),
    );
    const file = readFileSync('src/db/sql/sync-feed-append.sql', 'utf8');
    // The file's header comment apart.
    const text = file.replace(/^(--.*\n)+\n?/, '');
    expect(text.trimEnd()).toBe(row!.definition.trimEnd());
  });
});
