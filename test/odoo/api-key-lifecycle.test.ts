/**
 * The API key's lifecycle against the sandbox playing Odoo 19 (keys that lapse, `generate` and
 * `revoke` as Odoo defines them) and a real PostgreSQL: the expiry learned from Odoo, a renewal
 * before the key lapses that every process picks up (one renewal for several workers), the old
 * key revoked only after the grace, a renewal Odoo refuses recorded for status, an operator's
 * new key obeyed at once, and without rotation the warning, the gauges and, once lapsed, a clear
 * refusal that is not retried.
 */
import postgres from 'postgres';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OdooConfig } from '../../src/config/odoo-config.js';
import { odooLink } from '../../src/db/schema/index.js';
import { registerApiKeyMetrics } from '../../src/odoo-link/api-key-metrics.js';
import { createOdooLink, type OdooLink } from '../../src/odoo-link/odoo-link.js';
import { readLinkStatus } from '../../src/odoo-link/link-store.js';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { bearer, createTestApp, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { rejectionOf } from './sandbox-harness.js';

const DAY = 86_400_000;
const SECRET = 'the-secret-the-fleet-shares-0123456789';

let db: TestDb;
let sandbox: OdooSandbox;
let links: OdooLink[] = [];
let initialKey: string;

beforeAll(async () => {
  db = await createTestDb();
});
afterAll(async () => {
  await db.dispose();
});
beforeEach(async () => {
  await db.db.delete(odooLink);
  sandbox = createOdooSandbox({ orders: 4, loginCooldown: false, apiKeyManagement: 'enabled' });
  await sandbox.start();
  initialKey = sandbox.keys.add({
    name: 'set by the operator',
    expiresAt: new Date(Date.now() + 10 * DAY),
  });
});
afterEach(async () => {
  for (const link of links) {
    link.lifecycle?.stop();
    await link.client.close();
  }
  links = [];
  await sandbox.stop();
});

function config(
  lifecycle: Partial<OdooConfig['apiKeyLifecycle']> = {},
  apiKey = initialKey,
): OdooConfig {
  return {
    url: sandbox.url,
    database: sandbox.database,
    username: sandbox.username,
    password: apiKey,
    apiKey,
    protocol: 'auto',
    readReplica: false,
    timeoutMs: 5_000,
    retries: 1,
    budget: { maxConcurrentCalls: 0, maxCallsPerSecond: 0, maxWaitMs: 60_000 },
    pageSize: 100,
    pageMaxBytes: 2 * 1024 * 1024,
    valueMaxBytes: 256 * 1024 * 1024,
    apiKeyLifecycle: {
      warnDays: 14,
      rotate: true,
      renewDays: 30,
      lifetimeDays: 89,
      source: 'default',
      secret: SECRET,
      ...lifecycle,
    },
  };
}

/** A process: its client and key lifecycle over the shared database. */
function processOf(odoo: OdooConfig, keyRefreshMs?: number) {
  const { lines, logger } = memoryLogger('info');
  const link = createOdooLink({
    db: db.db,
    odoo,
    logger,
    withLifecycle: true,
    ...(keyRefreshMs === undefined ? {} : { keyRefreshMs }),
  });
  links.push(link);
  return { link, lines };
}

const countBcs = (link: OdooLink) =>
  link.client.searchCount('dimagaz.bc', [], { context: { active_test: false } });

describe('with ODOO_API_KEY_ROTATE', () => {
  it("learns the key's expiry from Odoo and renews it before it lapses; every process switches", async () => {
    const a = processOf(config());
    // Reads the stored key before every call (production: at most every 5 s).
    const b = processOf(config(), 0);
    expect(await countBcs(b.link)).toBe(4);
    const status = await a.link.lifecycle!.check();
    expect(sandbox.control.countCalls({ method: 'generate' })).toBe(1);
    expect(status).toMatchObject({ state: 'ok', expirySource: 'renewal', renewalError: null });
    expect(status.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 88 * DAY);

    const keys = sandbox.keys.list();
    expect(keys).toHaveLength(2);
    const renewed = keys.find((key) => key.index !== initialKey.slice(0, 8))!;
    // Odoo's rule: the old key stays valid until it is revoked.
    expect(sandbox.keys.info(initialKey)).toMatchObject({ revoked: false });
    const [row] = await db.db.select().from(odooLink);
    expect(JSON.stringify(row)).not.toContain(initialKey);
    expect(row).toMatchObject({ keyVersion: 2, keyExpirySource: 'renewal' });
    expect(row!.retiredSealed).toEqual(expect.stringMatching(/^v1\./));

    // The other process sends the new key from its next read of the store.
    const usesBefore = renewed.uses;
    expect(await countBcs(b.link)).toBe(4);
    expect(sandbox.keys.list().find((key) => key.id === renewed.id)!.uses).toBeGreaterThan(
      usesBefore,
    );
    expect(sandbox.keys.refusals).toBe(0);

    // Checked again by the other worker: nothing more to renew.
    await b.link.lifecycle!.check();
    expect(sandbox.control.countCalls({ method: 'generate' })).toBe(1);
  });

  it('renews on Odoo 20, whose keys all carry a scope and which fails a generate without one', async () => {
    await sandbox.stop();
    sandbox = createOdooSandbox({
      serverVersion: '20.0',
      orders: 4,
      loginCooldown: false,
      apiKeyManagement: 'enabled',
    });
    await sandbox.start();
    const key = sandbox.keys.add({
      name: 'by the operator',
      expiresAt: new Date(Date.now() + 10 * DAY),
    });
    const worker = processOf(config({}, key));
    const status = await worker.link.lifecycle!.check();
    expect(status).toMatchObject({ state: 'ok', expirySource: 'renewal', renewalError: null });
    const renewed = sandbox.keys.list().find((one) => one.index !== key.slice(0, 8));
    expect(renewed).toMatchObject({ scope: 'rpc', revoked: false });
    // The renewed key is the one sent from now on, and Odoo takes it.
    const usesOf = () => sandbox.keys.list().find((one) => one.id === renewed!.id)!.uses;
    const before = usesOf();
    expect(await countBcs(worker.link)).toBe(4);
    expect(usesOf()).toBeGreaterThan(before);
    expect(sandbox.keys.refusals).toBe(0);
  });

  it('GET /api/sync/state shows the transport the worker chose and the renewed key, the API holding no key', async () => {
    const worker = processOf(config());
    await countBcs(worker.link);
    await worker.link.lifecycle!.check();
    // The API is given neither the key nor the secret: it calls no Odoo.
    const app = await createTestApp(db, {
      config: testConfig({
        ODOO_URL: sandbox.url,
        ODOO_DATABASE: sandbox.database,
        ODOO_USERNAME: sandbox.username,
        ODOO_API_KEY_ROTATE: 'true',
      }),
    });
    try {
      // The worker records the transport it chose beside its first call, not before it answers.
      const answer = await vi.waitFor(async () => {
        const state = await app.inject({ url: '/api/sync/state', headers: bearer('reader') });
        expect(state.json<{ odoo: { transport: unknown } }>().odoo.transport).not.toBeNull();
        return state;
      });
      expect(answer.statusCode).toBe(200);
      expect(answer.json<{ odoo: unknown }>().odoo).toMatchObject({
        transport: {
          protocol: 'json2',
          serverVersion: '19.0',
          reason: expect.stringContaining('API key'),
        },
        apiKey: {
          state: 'ok',
          expirySource: 'renewal',
          rotate: true,
          daysLeft: expect.toSatisfy((days: number) => days >= 88 && days <= 89),
        },
      });
      expect(answer.body).not.toContain(initialKey);
    } finally {
      await app.close();
    }
  });

  it('renews once when several workers find it due at the same time', async () => {
    const workers = [processOf(config()), processOf(config()), processOf(config())];
    await Promise.all(workers.map((worker) => worker.link.lifecycle!.check()));
    expect(sandbox.control.countCalls({ method: 'generate' })).toBe(1);
    const [row] = await db.db.select().from(odooLink);
    expect(row!.keyVersion).toBe(2);
  });

  it('a fleet starting at once adopts the key once, and every process learns when it lapses', async () => {
    const settings = config({ renewDays: 1, warnDays: 0 });
    const [first, second] = [processOf(settings), processOf(settings)];
    // Odoo answers the keys' read slowly: the first to adopt is still learning the expiry while
    // the second finishes its check.
    sandbox.control.injectFault({
      kind: 'latency',
      latencyMs: 500,
      model: 'res.users.apikeys',
      method: 'search_read',
      times: Infinity,
    });
    // Writes to the link table held back: the first adopts the key under the link's lock and
    // waits there, its row not written, while the second starts.
    const other = postgres(db.url, { max: 2, onnotice: () => undefined });
    const holder = await other.reserve();
    try {
      await holder`begin`;
      await holder`lock table odoo_link in share mode`;
      const waiting = async (count: number) =>
        vi.waitFor(
          async () => {
            const [row] = await other<[{ waiting: number }]>`
              select count(*)::int as waiting from pg_locks where not granted`;
            expect(row.waiting).toBeGreaterThanOrEqual(count);
          },
          { timeout: 10_000, interval: 20 },
        );
      const checks = [first.link.lifecycle!.check()];
      await waiting(1);
      checks.push(second.link.lifecycle!.check());
      await waiting(2);
      await holder`commit`;
      const statuses = await Promise.all(checks);
      for (const status of statuses)
        expect(status).toMatchObject({ state: 'ok', expirySource: 'odoo' });
      const [row] = await db.db.select().from(odooLink);
      expect(row).toMatchObject({ keyVersion: 1, keyExpirySource: 'odoo' });
    } finally {
      holder.release();
      await other.end();
    }
  });

  it('a check Odoo gives no answer fails and is tried again: no answer is not an unknown expiry', async () => {
    const worker = processOf(config({ renewDays: 1, warnDays: 0 }));
    // A proxy's 502 on both attempts of the keys' read.
    sandbox.control.injectFault({
      kind: 'html',
      status: 502,
      model: 'res.users.apikeys',
      method: 'search_read',
      times: 2,
    });
    await expect(worker.link.lifecycle!.check()).rejects.toMatchObject({ code: 'ODOO_HTTP' });
    expect(worker.link.lifecycle!.status().expirySource).toBeNull();
    expect(await worker.link.lifecycle!.check()).toMatchObject({
      state: 'ok',
      expirySource: 'odoo',
    });
  });

  it('revokes the replaced key after the grace only', async () => {
    const worker = processOf(config());
    await worker.link.lifecycle!.check();
    await worker.link.lifecycle!.check();
    expect(sandbox.control.countCalls({ method: 'revoke' })).toBe(0);
    // The grace (seconds in production: every refresh and any retry of a call in flight) over:
    await db.db.update(odooLink).set({ retireAfter: new Date(Date.now() - 1_000) });
    await worker.link.lifecycle!.check();
    expect(sandbox.control.countCalls({ method: 'revoke' })).toBe(1);
    expect(sandbox.keys.info(initialKey)).toMatchObject({ revoked: true });
    const [row] = await db.db.select().from(odooLink);
    expect(row).toMatchObject({ retiredSealed: null, retireAfter: null });
    expect(await countBcs(worker.link)).toBe(4);
    expect(sandbox.keys.refusals).toBe(0);
  });

  it('records a renewal Odoo refuses, keeps the key in use, and says so in status', async () => {
    sandbox.keys.setProgrammatic('disabled');
    const worker = processOf(config());
    const status = await worker.link.lifecycle!.check();
    expect(status.renewalError).toContain('Programmatic API keys are not enabled');
    expect(await countBcs(worker.link)).toBe(4);
    const shown = await readLinkStatus(db.db, config());
    expect(shown?.apiKey?.summary).toContain('its last renewal failed');
    expect(worker.lines.join('')).toContain('base.enable_programmatic_api_keys');
  });

  it("obeys an operator's new ODOO_API_KEY at once, and renews from it", async () => {
    await processOf(config()).link.lifecycle!.check();
    // The operator makes a key by hand and lets the old one go.
    const fresh = sandbox.keys.add({
      name: 'new by hand',
      expiresAt: new Date(Date.now() + 60 * DAY),
    });
    sandbox.keys.setExpiry(initialKey, new Date(Date.now() - 1_000));
    const worker = processOf(config({}, fresh));
    expect(await countBcs(worker.link)).toBe(4);
    expect(sandbox.keys.info(fresh)?.uses).toBeGreaterThan(0);
    const status = await worker.link.lifecycle!.check();
    expect(status).toMatchObject({ state: 'ok', expirySource: 'odoo' });
    expect(sandbox.control.countCalls({ method: 'generate' })).toBe(1);
    const [row] = await db.db.select().from(odooLink);
    expect(row!.keySeeds).toHaveLength(2);
  });
});

describe('without rotation', () => {
  it('warns within ODOO_API_KEY_WARN_DAYS (log, status, gauges), then refuses clearly once it lapsed', async () => {
    const { secret: _unused, ...withoutSecret } = config().apiKeyLifecycle;
    const odoo = { ...config(), apiKeyLifecycle: { ...withoutSecret, rotate: false } };
    const worker = processOf(odoo);
    const registry = new Registry();
    registerApiKeyMetrics(registry, () => [
      { source: 'default', status: worker.link.lifecycle!.status() },
    ]);
    const status = await worker.link.lifecycle!.check();
    expect(status).toMatchObject({ state: 'expiring', expirySource: 'odoo' });
    expect(worker.lines.join('')).toContain('erp-bridge does not renew it');
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/^erp_bridge_odoo_api_key_expiring\{source="default"\} 1$/m);
    const seconds = Number(
      /^erp_bridge_odoo_api_key_expiry_seconds\{source="default"\} (\S+)$/m.exec(metrics)![1],
    );
    expect(seconds).toBeGreaterThan(9 * 86_400);
    expect(seconds).toBeLessThanOrEqual(10 * 86_400);
    expect((await readLinkStatus(db.db, odoo))?.apiKey?.state).toBe('expiring');
    expect(sandbox.control.countCalls({ method: 'generate' })).toBe(0);

    sandbox.keys.setExpiry(initialKey, new Date(Date.now() - 1_000));
    await db.db.update(odooLink).set({ keyExpiresAt: new Date(Date.now() - 1_000) });
    await worker.link.lifecycle!.check();
    const refusedBefore = sandbox.keys.refusals;
    const error = await rejectionOf(countBcs(worker.link));
    expect(error).toMatchObject({
      code: 'ODOO_AUTH',
      reason: 'API_KEY_EXPIRED',
      retryable: false,
      safeMessage: expect.stringContaining('API_KEY_EXPIRED'),
    });
    // One refused call, never retried; the next call is not even sent.
    expect(sandbox.keys.refusals).toBe(refusedBefore + 1);
    await expect(countBcs(worker.link)).rejects.toMatchObject({ reason: 'API_KEY_EXPIRED' });
    expect(sandbox.keys.refusals).toBe(refusedBefore + 1);
    expect(worker.link.lifecycle!.status().state).toBe('lapsed');
    expect(await registry.metrics()).toMatch(
      /^erp_bridge_odoo_api_key_expiring\{source="default"\} 1$/m,
    );
  });
});
