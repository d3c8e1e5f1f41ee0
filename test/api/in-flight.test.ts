/**
 * One key cannot hold the API. Twelve slow requests of one reader key (held here by a lock on the
 * table they read, which this test releases) once took every connection of the pool: another
 * key's read of one BC waited behind them and readiness answered 503. Now a key has at most
 * API_MAX_IN_FLIGHT_PER_KEY requests in flight (the rest are refused at once, 429 with
 * Retry-After), and readiness asks on a connection of its own.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type DbHandle } from '../../src/db/create-db.js';
import { applyLayouts } from '../../src/families/configured/apply-layouts.js';
import { buildApp, type App } from '../../src/http/app.js';
import { seedBcs } from '../helpers/seed-bcs.js';
import { bearer, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { schemaAnswers, storedField as field } from '../helpers/schema-answers.js';

const POOL = 10;
const SLOW = 12;
const MAX_IN_FLIGHT = 4;

const GADGETS = `
families:
  - name: gadgets
    model: x_gadget
    table: x_gadget
    api: { filter: [x_name], sort: [x_name] }
`;
const GADGET_FIELDS = {
  id: field('integer'),
  write_date: field('datetime'),
  x_name: field('char'),
};

describe('one key cannot hold the API', () => {
  let testDb: TestDb;
  let apiDb: DbHandle;
  let dir: string;
  let app: App;
  beforeAll(async () => {
    testDb = await createTestDb();
    await seedBcs(testDb.db, [1, 2, 3]);
    dir = mkdtempSync(join(tmpdir(), 'erp-bridge-in-flight-'));
    writeFileSync(join(dir, 'families.yaml'), GADGETS);
    const config = testConfig({
      SYNC_FAMILIES_FILE: join(dir, 'families.yaml'),
      SYNC_FAMILIES: 'bcs,gadgets',
      API_MAX_IN_FLIGHT_PER_KEY: String(MAX_IN_FLIGHT),
    });
    await applyLayouts(
      testDb.db,
      schemaAnswers(GADGET_FIELDS, false),
      config.sync.families.configured,
    );
    await testDb.sql!`insert into x_gadget (odoo_id, odoo_write_date, data, x_name)
      select n, now(), '{}', 'gadget ' || n from generate_series(1, 100) as n`;
    // The API's own handle, as production builds it: a pool of ten. A statement waiting for a
    // lock gives up after 15 s: without the limit, the test fails then instead of hanging.
    apiDb = await createDb({
      url: testDb.url,
      poolMax: POOL,
      planEachCall: true,
      sessionLimits: { lockTimeoutMs: 15_000, idleInTransactionTimeoutMs: 60_000 },
    });
    app = await buildApp({ config, logger: memoryLogger('fatal').logger, db: apiDb });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await apiDb.close();
    await testDb.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Sessions of the API waiting for the lock on x_gadget. */
  const lockWaiters = async () =>
    (
      await testDb.sql!<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock'
          and query like '%x_gadget%'`
    )[0]!.n;

  it("another key's read of one record answers while twelve slow requests of one key are in flight, and readiness stays 200", async () => {
    // Holds the slow requests' table until this test lets go.
    const locker = postgres(testDb.url, { max: 1, onnotice: () => undefined });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holding = locker.begin(async (tx) => {
      await tx`lock table x_gadget in access exclusive mode`;
      locked();
      await released;
    });
    try {
      await isLocked;
      let refused = 0;
      let served = 0;
      const slow = Array.from({ length: SLOW }, () =>
        app
          .inject({
            url: '/api/models/x_gadget/records?xName.contains=gad',
            headers: bearer('reader'),
          })
          .then((response) => {
            if (response.statusCode === 429) refused += 1;
            else served += 1;
            return response;
          }),
      );
      // Every slow request is either refused or holds a connection waiting for the lock (the
      // key's slots are fewer than the pool's connections): counting fewer let the test go on
      // while a request let in had not reached the lock yet.
      while (refused + (await lockWaiters()) < SLOW)
        await new Promise((resolve) => setImmediate(resolve));

      const detail = await app.inject({ url: '/api/bcs/1', headers: bearer('operator') });
      // Answered while every slow request let in still waits (not once they gave up).
      expect({ status: detail.statusCode, slowServedBefore: served }).toEqual({
        status: 200,
        slowServedBefore: 0,
      });
      expect(detail.json()).toMatchObject({ odooId: 1 });

      const ready = await app.inject({ url: '/health/ready' });
      expect(ready.statusCode, ready.body).toBe(200);
      // The slow ones are still waiting for the lock.
      expect(await lockWaiters()).toBe(MAX_IN_FLIGHT);

      release();
      await holding;
      const answers = await Promise.all(slow);
      const statuses = answers.map((answer) => answer.statusCode).sort();
      expect(statuses).toEqual([
        ...Array<number>(MAX_IN_FLIGHT).fill(200),
        ...Array<number>(SLOW - MAX_IN_FLIGHT).fill(429),
      ]);
      for (const answer of answers.filter((a) => a.statusCode === 429)) {
        expect(answer.headers['retry-after']).toBe('1');
        expect(answer.json()).toMatchObject({ error: 'TOO_MANY_IN_FLIGHT' });
      }
    } finally {
      release();
      await holding.catch(() => undefined);
      await locker.end();
    }
  });

  it('gives every slot back: after errors and answers, a key has all of its slots again', async () => {
    for (let i = 0; i < 3 * MAX_IN_FLIGHT; i += 1) {
      const bad = await app.inject({
        url: '/api/models/x_gadget/records?xName.contains=a',
        headers: bearer('reader'),
      });
      expect(bad.statusCode).toBe(400);
    }
    const at = await Promise.all(
      Array.from({ length: MAX_IN_FLIGHT }, () =>
        app.inject({ url: '/api/bcs?limit=1', headers: bearer('reader') }),
      ),
    );
    expect(at.map((answer) => answer.statusCode)).toEqual(Array(MAX_IN_FLIGHT).fill(200));
  });
});
