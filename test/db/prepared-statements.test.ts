/**
 * drizzle's queries run as named prepared statements (one round trip once a connection has seen
 * the text), in transactions too, up to a bounded number of texts, and not at all when turned off.
 * Each handle has one connection, so `pg_prepared_statements` shows what that connection holds.
 */
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db, type DbHandle } from '../../src/db/create-db.js';
import { preparingStatements } from '../../src/db/prepared-statements.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

/** The texts of this test's statements the connection holds (not postgres.js's type lookup). */
async function preparedTexts(db: Db): Promise<string[]> {
  const rows = rowsOf<{ statement: string }>(
    await db.execute(sql`select statement from pg_prepared_statements order by prepare_time`),
  );
  return rows.map((row) => row.statement).filter((text) => text.startsWith('select $1::int'));
}

const answer = (db: Db, label: string, value: number) =>
  db.execute(sql`select ${value}::int as ${sql.raw(label)}`);

describe('prepared statements', () => {
  let testDb: TestDb;
  const handles: DbHandle[] = [];
  const open = async (preparedStatements?: boolean) => {
    const handle = await createDb({ url: testDb.url, poolMax: 1, preparedStatements });
    handles.push(handle);
    return handle.db;
  };

  beforeAll(async () => {
    testDb = await createTestDb();
  });
  afterAll(async () => {
    await Promise.all(handles.map((handle) => handle.close()));
    await testDb.dispose();
  });

  it('prepares a query once per connection and reuses it', async () => {
    const db = await open();
    const [first] = rowsOf<{ a: number }>(await answer(db, 'a', 1));
    const [second] = rowsOf<{ a: number }>(await answer(db, 'a', 2));
    expect([first?.a, second?.a]).toEqual([1, 2]);
    expect(await preparedTexts(db)).toEqual(['select $1::int as a']);
  });

  it('prepares the queries of a transaction', async () => {
    const db = await open();
    await db.transaction(async (tx) => {
      await answer(tx, 'inside', 3);
    });
    expect(await preparedTexts(db)).toContain('select $1::int as inside');
  });

  it('runs texts past the bound unprepared', async () => {
    const client = postgres(testDb.url, { max: 1, onnotice: () => undefined });
    try {
      const db = drizzle(preparingStatements(client, 2)) as unknown as Db;
      for (const label of ['one', 'two', 'three', 'three']) await answer(db, label, 4);
      expect(await preparedTexts(db)).toEqual(['select $1::int as one', 'select $1::int as two']);
    } finally {
      await client.end();
    }
  });

  it('plans each call for its parameters when asked (the API), else lets PostgreSQL choose', async () => {
    const planMode = async (db: Db) =>
      rowsOf<{ mode: string }>(
        await db.execute(sql`select current_setting('plan_cache_mode') as mode`),
      )[0]?.mode;
    const api = await createDb({ url: testDb.url, poolMax: 1, planEachCall: true });
    handles.push(api);
    expect(await planMode(api.db)).toBe('force_custom_plan');
    expect(await planMode(await open())).toBe('auto');
  });

  it('prepares nothing when turned off (PgBouncer in transaction mode)', async () => {
    const db = await open(false);
    await answer(db, 'off', 5);
    await answer(db, 'off', 6);
    expect(await preparedTexts(db)).toEqual([]);
  });
});
