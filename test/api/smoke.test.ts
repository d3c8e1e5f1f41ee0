import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app.js';
import { bearer, createTestApp } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

describe('smoke', () => {
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
  it('works', async () => {
    const live = await app.inject({ url: '/health/live' });
    expect(live.json()).toEqual({ status: 'live' });
    const list = await app.inject({ url: '/api/bcs', headers: bearer('reader') });
    expect(list.statusCode, list.body).toBe(200);
    const docs = await app.inject({ url: '/docs/json' });
    expect(docs.statusCode, docs.body.slice(0, 300)).toBe(200);
    const metrics = await app.inject({ url: '/metrics', headers: bearer('operator') });
    expect(metrics.statusCode, metrics.body.slice(0, 300)).toBe(200);
  });
});
