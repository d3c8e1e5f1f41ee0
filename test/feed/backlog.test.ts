/**
 * How far behind a subscription is, read within a bound whatever its filter: a subscription to a
 * sliver of the feed, far behind, looks at `bound` changes, not at the whole feed (a status read
 * and each metrics scrape of the worker's port ran such a scan).
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBacklog, readHorizon } from '../../src/feed/read-changes.js';
import { feedCaughtUp } from '../helpers/feed-visible.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

describe('a subscription behind', () => {
  let db: TestDb;
  const audit = (family: string, count: number) =>
    db.db.execute(sql`
      insert into sync_audit (family, model, odoo_id, root_odoo_id, action, trigger)
      select ${family}, ${`x_${family}`}, n, n, 'created', 'test' from generate_series(1, ${count}) n`);

  beforeAll(async () => {
    db = await createTestDb();
    await audit('busy', 50);
    await audit('quiet', 3);
    await feedCaughtUp(db.db);
  });
  afterAll(() => db.dispose());

  it('counts among the next changes of the feed, however few pass its filter', async () => {
    const from = await readHorizon(db.db);
    const quiet = { families: ['quiet'], models: [] };
    expect(await readBacklog(db.db, from, quiet, 10)).toMatchObject({ changes: 0, more: true });
    expect(await readBacklog(db.db, from, quiet, 100)).toMatchObject({ changes: 3, more: false });
    const all = await readBacklog(db.db, from, { families: [], models: [] }, 10);
    expect(all).toMatchObject({ changes: 10, more: true });
    expect(all.oldestAt).toBeInstanceOf(Date);
  });

  it('gives the age of the oldest change it has not passed, found or not by its filter', async () => {
    const from = await readHorizon(db.db);
    const backlog = await readBacklog(db.db, from, { families: ['quiet'], models: [] }, 10);
    expect(backlog.oldestAt).toBeInstanceOf(Date);
  });
});
