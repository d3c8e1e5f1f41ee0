/**
 * How the workers read Odoo's schema, as status shows it: over JSON-2 from `/doc-bearer`, or,
 * when Odoo refuses it to a sync user outside "Technical Documentation" (a 403, as a real 19.0.0
 * answers), from `fields_get` — and `npm run sync -- status` and `GET /api/sync/state` say why.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OdooConfig } from '../../src/config/odoo-config.js';
import { odooLink } from '../../src/db/schema/index.js';
import { linkStatusLines } from '../../src/odoo-link/link-status.js';
import { readLinkStatus } from '../../src/odoo-link/link-store.js';
import { createOdooLink, type OdooLink } from '../../src/odoo-link/odoo-link.js';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { bearer, createTestApp, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const KEY = 'feed'.repeat(10);
let db: TestDb;
let sandbox: OdooSandbox;
const links: OdooLink[] = [];

beforeAll(async () => {
  db = await createTestDb();
  sandbox = createOdooSandbox({ orders: 1, loginCooldown: false, apiKeys: [{ key: KEY }] });
  await sandbox.start();
});
afterEach(async () => {
  for (const link of links.splice(0)) await link.client.close();
});
afterAll(async () => {
  await sandbox.stop();
  await db.dispose();
});

function odoo(): OdooConfig {
  return {
    url: sandbox.url,
    database: sandbox.database,
    username: sandbox.username,
    password: KEY,
    apiKey: KEY,
    protocol: 'auto',
    readReplica: false,
    timeoutMs: 5_000,
    retries: 0,
    budget: { maxConcurrentCalls: 0, maxCallsPerSecond: 0, maxWaitMs: 60_000 },
    pageSize: 100,
    pageMaxBytes: 2 * 1024 * 1024,
    valueMaxBytes: 256 * 1024 * 1024,
    apiKeyLifecycle: {
      warnDays: 14,
      rotate: false,
      renewDays: 30,
      lifetimeDays: 89,
      source: 'default',
    },
  };
}

/** A worker reads a model's schema; resolves once what it learned is in the link's row. */
async function readSchema(): Promise<void> {
  const link = createOdooLink({ db: db.db, odoo: odoo(), logger: memoryLogger('warn').logger });
  links.push(link);
  await link.client.storedFields('dimagaz.bc');
  await expect.poll(async () => (await db.db.select().from(odooLink))[0]?.transport).toBe('json2');
}

describe("the schema's source in status", () => {
  it('says fields_get and why when /doc-bearer is refused, doc-bearer once it answers', async () => {
    sandbox.setDocAccess(false);
    await readSchema();
    await expect
      .poll(async () => (await readLinkStatus(db.db, odoo()))?.schema)
      .toEqual({
        source: 'fields_get',
        reason: expect.stringContaining('"Technical Documentation" (api_doc.group_allow_doc)'),
      });
    const status = (await readLinkStatus(db.db, odoo()))!;
    expect(linkStatusLines(status).join('\n')).toMatch(
      /schema: +fields_get \(\/doc-bearer\/<model>\.json refused: HTTP 403/,
    );
    const app = await createTestApp(db, {
      config: testConfig({
        ODOO_URL: sandbox.url,
        ODOO_DATABASE: sandbox.database,
        ODOO_USERNAME: sandbox.username,
      }),
    });
    try {
      const answer = await app.inject({ url: '/api/sync/state', headers: bearer('reader') });
      expect(answer.json<{ odoo: unknown }>().odoo).toMatchObject({
        schema: { source: 'fields_get', reason: expect.stringContaining('HTTP 403') },
      });
    } finally {
      await app.close();
    }

    // The sync user is put in the group: the next worker reads the documentation.
    sandbox.setDocAccess(true);
    await readSchema();
    await expect
      .poll(async () => (await readLinkStatus(db.db, odoo()))?.schema?.source)
      .toBe('doc-bearer');
  });
});
