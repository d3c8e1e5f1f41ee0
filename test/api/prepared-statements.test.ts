/**
 * A request shapes a list's query (which filters, which sort), and a client can send thousands of
 * shapes: they are prepared within a budget of their own, so the product's fixed queries keep
 * being prepared whatever a client sends, and a connection never holds more than both budgets.
 * The API runs on one connection here, so `pg_prepared_statements` shows all it holds.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type DbHandle } from '../../src/db/create-db.js';
import { MAX_PREPARED_TEXTS, MAX_SHAPED_TEXTS } from '../../src/db/prepared-statements.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import { buildApp, type App } from '../../src/http/app.js';
import { SORT_FIELDS } from '../../src/http/routes/api/bcs/list-bcs.js';
import { seedBcs } from '../helpers/seed-bcs.js';
import { bearer, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

/** Optional filters of the BC list: each on or off makes another statement text. */
const FILTERS = [
  'state=draft',
  'partnerId=11',
  'orderedFrom=2026-01-01',
  'orderedTo=2027-01-01',
  'updatedSince=2020-01-01T00:00:00Z',
  'active=true',
  'q=P00',
  'includeArchived=true',
];

describe('prepared statements under distinct list shapes', () => {
  let testDb: TestDb;
  let apiDb: DbHandle;
  let app: App;
  beforeAll(async () => {
    testDb = await createTestDb();
    await seedBcs(testDb.db, [1, 2, 3]);
    apiDb = await createDb({ url: testDb.url, poolMax: 1, planEachCall: true });
    app = await buildApp({
      config: testConfig({ RATE_LIMIT_PER_MINUTE: '1000000' }),
      logger: memoryLogger('fatal').logger,
      db: apiDb,
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await apiDb.close();
    await testDb.dispose();
  });

  it('keeps preparing the fixed queries after 600 distinct list shapes', async () => {
    const shapes: string[] = [];
    for (let mask = 0; mask < 2 ** FILTERS.length && shapes.length < 600; mask += 1)
      for (const sort of SORT_FIELDS.flatMap((field) => [field, `-${field}`])) {
        const filters = FILTERS.filter((_, i) => (mask & (1 << i)) !== 0);
        shapes.push(`/api/bcs?${[...filters, `sort=${sort}`].join('&')}`);
      }
    for (const url of shapes.slice(0, 600)) {
      const response = await app.inject({ url, headers: bearer('reader') });
      expect(response.statusCode, url).toBe(200);
    }
    // Fixed queries this connection had not run yet.
    for (const url of ['/api/bcs/1/history', '/api/bcs/1/lines'])
      expect((await app.inject({ url, headers: bearer('reader') })).statusCode, url).toBe(200);

    const statements = rowsOf<{ statement: string }>(
      await apiDb.db.execute(sql`select statement from pg_prepared_statements`),
    ).map((row) => row.statement);
    expect(statements.some((text) => text.includes('from "sync_audit"'))).toBe(true);
    expect(statements.some((text) => text.includes('from "scrap_dimagaz_bc_line"'))).toBe(true);
    expect(statements.length).toBeLessThanOrEqual(MAX_PREPARED_TEXTS + MAX_SHAPED_TEXTS + 16);
  });
});
