/**
 * One source's webhooks cannot starve or flood another's (docs/sources.md, README "Changes pushed
 * by Odoo"): each source's tokens have a rate bucket of their own, each source's share of the
 * inbox is bounded (past it, a 429 that names the source, counted), and a stamp later than the
 * API's clock is kept as no stamp at all, so that no one can make a job wait for a stamp that
 * cannot come. Probed as a caller holding one source's token would, on 127.0.0.1.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/sql-rows.js';
import { BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import { createFamilies } from '../../src/families/registry.js';
import { buildApp, type App } from '../../src/http/app.js';
import { acmeBcs } from '../helpers/acme-source.js';
import { bearer, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe("one source's webhooks and another's", () => {
  let db: TestDb;
  const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-webhook-sources-'));
  const tokens = {
    default: randomBytes(32).toString('base64url'),
    acme: randomBytes(32).toString('base64url'),
  };
  const families = createFamilies([bcsFamily, acmeBcs]);
  const apps: App[] = [];

  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    rmSync(dir, { recursive: true, force: true });
    await db.dispose();
  });

  /** The API with acme declared as a deployment declares it, its own webhook token. */
  async function apiWith(env: Record<string, string>): Promise<App> {
    const file = join(dir, 'sources.yaml');
    writeFileSync(
      file,
      'sources:\n  - name: acme\n    odoo: { url: "http://127.0.0.1:1", database: acme_db, username: sync, password: { env: ACME_ODOO_PASSWORD } }\n    webhookTokens: { env: ACME_WEBHOOK_TOKENS }\n',
    );
    const app = await buildApp({
      config: testConfig({
        SYNC_SOURCES_FILE: file,
        ACME_ODOO_PASSWORD: 'unused',
        ODOO_WEBHOOK_TOKENS: sha256(tokens.default),
        ACME_WEBHOOK_TOKENS: sha256(tokens.acme),
        ...env,
      }),
      logger: memoryLogger('fatal').logger,
      db,
      families,
    });
    apps.push(app);
    return app;
  }
  const post = (app: App, source: keyof typeof tokens, fields: Record<string, unknown> = {}) =>
    app.inject({
      method: 'POST',
      url: `/hooks/odoo/${tokens[source]}`,
      payload: { _model: BC_MODEL, _id: 7, _action: 'write', id: 7, ...fields },
    });
  const kept = async () =>
    rowsOf<{ family: string; write_date: string | null }>(
      await db.db.execute(sql`select family, write_date from sync_webhook_inbox order by id`),
    );
  const metric = async (app: App, name: string) =>
    (await app.inject({ url: '/metrics', headers: bearer('operator') })).body
      .split('\n')
      .filter((line) => line.startsWith(name));
  const emptyInbox = () => db.db.execute(sql`delete from sync_webhook_inbox`);

  it("gives each source's tokens a rate bucket of their own", async () => {
    const app = await apiWith({ ODOO_WEBHOOK_RATE_LIMIT_PER_MINUTE: '3' });
    try {
      for (let i = 0; i < 3; i += 1) expect((await post(app, 'acme')).statusCode).toBe(202);
      const over = await post(app, 'acme');
      expect(over.statusCode).toBe(429);
      expect(over.json()).toMatchObject({ error: 'RATE_LIMITED' });
      // The default source's Odoo is not answered 429 for what acme's token sent.
      expect((await post(app, 'default')).statusCode).toBe(202);
    } finally {
      await emptyInbox();
    }
  });

  it("counts a token sent percent-encoded in its source's bucket, as the router reads it: never as an anonymous client", async () => {
    const app = await apiWith({
      ODOO_WEBHOOK_RATE_LIMIT_PER_MINUTE: '3',
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: '2',
    });
    // Every character escaped, and the route's own name too: the router decodes both.
    const encoded = (source: keyof typeof tokens) =>
      `/hooks/%6fdoo/${[...tokens[source]].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('')}`;
    const postEncoded = (source: keyof typeof tokens) =>
      app.inject({
        method: 'POST',
        url: encoded(source),
        payload: { _model: BC_MODEL, _id: 7, _action: 'write', id: 7 },
      });
    try {
      for (let i = 0; i < 3; i += 1) expect((await postEncoded('acme')).statusCode).toBe(202);
      expect((await postEncoded('acme')).json()).toMatchObject({ error: 'RATE_LIMITED' });
      // The anonymous bucket of the address is whole: none of the webhooks was counted in it.
      for (let i = 0; i < 2; i += 1)
        expect((await app.inject({ url: '/nowhere' })).statusCode).toBe(404);
      expect((await app.inject({ url: '/nowhere' })).statusCode).toBe(429);
      // The address is now refused before routing, but a webhook with a valid token is not.
      expect((await postEncoded('default')).statusCode).toBe(202);
    } finally {
      await emptyInbox();
    }
  });

  it("bounds each source's events in the inbox: past it, a 429 naming the source, counted, and another source's still kept", async () => {
    const app = await apiWith({ ODOO_WEBHOOK_INBOX_MAX_EVENTS: '2' });
    try {
      for (let i = 0; i < 2; i += 1) expect((await post(app, 'acme')).statusCode).toBe(202);
      const full = await post(app, 'acme');
      expect(full.statusCode).toBe(429);
      expect(full.json()).toEqual({
        error: 'WEBHOOK_INBOX_FULL',
        message:
          "the webhook inbox holds 2 events of source acme not yet read (ODOO_WEBHOOK_INBOX_MAX_EVENTS): this one is left to acme's next polling run",
      });
      expect((await post(app, 'default')).statusCode).toBe(202);
      expect((await kept()).map((event) => event.family)).toEqual(['acme.bcs', 'acme.bcs', 'bcs']);
      expect(await metric(app, 'erp_bridge_webhook_inbox_full_total')).toEqual([
        'erp_bridge_webhook_inbox_full_total{source="acme"} 1',
      ]);
    } finally {
      await emptyInbox();
    }
  });

  it("keeps a stamp later than the API's clock by more than a minute as none, and refuses one that is not Odoo's form or no instant", async () => {
    const app = await apiWith({});
    try {
      const odooForm = (at: number) => new Date(at).toISOString().slice(0, 19).replace('T', ' ');
      const hourAgo = odooForm(Date.now() - 3_600_000);
      expect((await post(app, 'acme', { write_date: hourAgo })).statusCode).toBe(202);
      const crafted = `${odooForm(Date.now() + 86_400_000)}.250000`;
      expect((await post(app, 'acme', { write_date: crafted })).statusCode).toBe(202);
      expect(await kept()).toEqual([
        { family: 'acme.bcs', write_date: hourAgo },
        { family: 'acme.bcs', write_date: null },
      ]);
      expect(await metric(app, 'erp_bridge_webhook_future_stamps_total')).toEqual([
        'erp_bridge_webhook_future_stamps_total{source="acme"} 1',
      ]);
      const garbled = await post(app, 'acme', { write_date: '9999-99-99T99:99:99Z' });
      expect(garbled.statusCode).toBe(400);
      // Odoo's form, and no instant: each would cost six reads and half an hour in the inbox.
      for (const impossible of [
        '9999-99-99 99:99:99',
        '2026-02-30 10:00:00',
        '2026-13-01 10:00:00',
        '2026-06-01 24:00:00',
        '2026-06-01 10:60:00',
      ]) {
        const refused = await post(app, 'acme', { write_date: impossible });
        expect(refused.statusCode, impossible).toBe(400);
        expect(refused.json<{ message: string }>().message).toContain(
          'write_date is no date and time of the calendar',
        );
      }
      expect(
        (await post(app, 'acme', { write_date: '2024-02-29 23:59:59.999999' })).statusCode,
      ).toBe(202);
      expect(await kept()).toHaveLength(3);
    } finally {
      await emptyInbox();
    }
  });
});
