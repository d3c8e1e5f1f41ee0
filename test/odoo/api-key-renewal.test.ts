/**
 * The API key's renewal when things go wrong on the way, against the sandbox playing Odoo 19 and
 * a real PostgreSQL: a renewal held up by the call budget past PostgreSQL's idle-in-transaction
 * timeout, or whose new key PostgreSQL refuses to store, leaves no key in Odoo beyond the stored
 * one (and the one waiting to be revoked); Odoo's refusal (19.0.0 has no `generate`) is said once
 * and not asked again in a loop; the warnings are logged once each as the lapse nears; and
 * ODOO_API_KEY_SECRET changes without losing the stored key.
 */
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OdooCallGate } from '../../src/clients/odoo/index.js';
import type { OdooConfig } from '../../src/config/odoo-config.js';
import { createDb, type DbHandle } from '../../src/db/create-db.js';
import { odooLink } from '../../src/db/schema/index.js';
import { createKeyCipher, fingerprintOf } from '../../src/odoo-link/key-cipher.js';
import { connectionOf, writeLink } from '../../src/odoo-link/link-store.js';
import { createOdooLink, type OdooLink } from '../../src/odoo-link/odoo-link.js';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { memoryLogger } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const DAY = 86_400_000;
const SECRET = 'the-secret-the-fleet-shares-0123456789';
const NEW_SECRET = 'the-secret-that-replaces-it-9876543210';

let db: TestDb;
let sandbox: OdooSandbox;
let links: OdooLink[] = [];
let handles: DbHandle[] = [];
let initialKey: string;

beforeAll(async () => {
  db = await createTestDb();
});
afterAll(async () => {
  await db.dispose();
});
beforeEach(async () => {
  await db.db.delete(odooLink);
  sandbox = createOdooSandbox({ orders: 2, loginCooldown: false, apiKeyManagement: 'enabled' });
  await sandbox.start();
  initialKey = sandbox.keys.add({
    name: 'by the operator',
    expiresAt: new Date(Date.now() + 10 * DAY),
  });
});
afterEach(async () => {
  for (const link of links) {
    link.lifecycle?.stop();
    await link.client.close();
  }
  links = [];
  for (const handle of handles) await handle.close();
  handles = [];
  await sandbox.stop();
});

function config(lifecycle: Partial<OdooConfig['apiKeyLifecycle']> = {}): OdooConfig {
  return {
    url: sandbox.url,
    database: sandbox.database,
    username: sandbox.username,
    password: initialKey,
    apiKey: initialKey,
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
      rotate: true,
      renewDays: 30,
      lifetimeDays: 89,
      source: 'default',
      secret: SECRET,
      ...lifecycle,
    },
  };
}

/** A worker's database handle, with the session limits the workers run with. */
async function workerDb(limits: { lockTimeoutMs: number; idleInTransactionTimeoutMs: number }) {
  const handle = await createDb({ url: db.url, poolMax: 5, sessionLimits: limits });
  handles.push(handle);
  return handle;
}

function worker(odoo: OdooConfig, options: { handle?: DbHandle; gate?: OdooCallGate } = {}) {
  const { lines, logger } = memoryLogger('info');
  const link = createOdooLink({
    db: (options.handle ?? db).db,
    odoo,
    logger,
    withLifecycle: true,
    keyRefreshMs: 0,
    ...(options.gate ? { gate: options.gate } : {}),
  });
  links.push(link);
  return { link, lines };
}

/** The keys Odoo would still take: neither revoked nor lapsed, by their index. */
function liveKeys(): string[] {
  return sandbox.keys
    .list()
    .filter((key) => !key.revoked && (key.expiresAt === undefined || key.expiresAt > new Date()))
    .map((key) => key.index)
    .sort();
}

/** The keys the link accounts for: the stored one, and the one waiting to be revoked. */
async function accountedKeys(): Promise<string[]> {
  const [row] = await db.db.select().from(odooLink);
  const cipher = createKeyCipher({ source: 'default', secret: SECRET });
  return [row?.keySealed, row?.retiredSealed]
    .filter((sealed): sealed is string => typeof sealed === 'string')
    .map((sealed) => cipher.open(sealed).slice(0, 8))
    .sort();
}

const logged = (lines: string[], pattern: RegExp) => lines.filter((line) => pattern.test(line));

describe('a renewal that meets trouble', () => {
  it('waiting for the call budget past the idle-in-transaction timeout, leaves no key unaccounted for', async () => {
    const idleInTransactionTimeoutMs = 1_000;
    const handle = await workerDb({ lockTimeoutMs: 5_000, idleInTransactionTimeoutMs });
    // A probe holds the fleet's budget while the renewal asks Odoo for its new key.
    let releaseProbe!: () => void;
    const probeReleased = new Promise<void>((resolve) => (releaseProbe = resolve));
    let renewalWaiting!: () => void;
    const renewalWaits = new Promise<void>((resolve) => (renewalWaiting = resolve));
    const gate: OdooCallGate = {
      async admit(call) {
        if (call === 'res.users.apikeys.generate') {
          renewalWaiting();
          await probeReleased;
        }
        return { release: () => Promise.resolve() };
      },
    };
    const w = worker(config(), { handle, gate });
    const checking = w.link.lifecycle!.check().then(
      (status) => ({ status }),
      (error: unknown) => ({ error }),
    );
    await renewalWaits;
    // The probe holds the budget until no session of the worker idles in a transaction: at
    // once when none is open, once PostgreSQL ended it otherwise.
    const observer = postgres(db.url, { max: 1, onnotice: () => undefined });
    try {
      await vi.waitFor(
        async () => {
          const [row] = await observer<[{ idle: number }]>`
            select count(*)::int as idle from pg_stat_activity
            where datname = ${db.name} and state like 'idle in transaction%'`;
          expect(row.idle).toBe(0);
        },
        { timeout: idleInTransactionTimeoutMs * 5, interval: 50 },
      );
    } finally {
      await observer.end();
    }
    releaseProbe();
    const outcome = await checking;
    expect(sandbox.control.countCalls({ method: 'generate' })).toBe(1);
    expect(outcome).toMatchObject({ status: { state: 'ok', expirySource: 'renewal' } });
    expect(liveKeys()).toEqual(await accountedKeys());
    expect(liveKeys()).toHaveLength(2);
  });

  it('whose new key PostgreSQL refuses to store, revokes it and fails retryably', async () => {
    const handle = await workerDb({ lockTimeoutMs: 300, idleInTransactionTimeoutMs: 60_000 });
    // Once Odoo answered `generate`, another session holds writes to the link table back.
    const holder = postgres(db.url, { max: 1, onnotice: () => undefined });
    const held = await holder.reserve();
    const gate: OdooCallGate = {
      admit: (call) =>
        Promise.resolve({
          async release() {
            if (call !== 'res.users.apikeys.generate') return;
            await held`begin`;
            await held`lock table odoo_link in exclusive mode`;
          },
        }),
    };
    try {
      const w = worker(config(), { handle, gate });
      const error = await w.link.lifecycle!.check().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toMatchObject({ code: 'ODOO_KEY_STORE', retryable: true });
      expect(sandbox.control.countCalls({ method: 'generate' })).toBe(1);
      expect(sandbox.control.countCalls({ method: 'revoke' })).toBe(1);
      expect(liveKeys()).toEqual([initialKey.slice(0, 8)]);
      expect(await accountedKeys()).toEqual([initialKey.slice(0, 8)]);
    } finally {
      await held`rollback`;
      held.release();
      await holder.end();
    }
  });

  it('whose new key could neither be stored nor revoked, revokes it at the next check', async () => {
    const handle = await workerDb({ lockTimeoutMs: 300, idleInTransactionTimeoutMs: 60_000 });
    const holder = postgres(db.url, { max: 1, onnotice: () => undefined });
    const held = await holder.reserve();
    let holding = false;
    const gate: OdooCallGate = {
      admit: (call) =>
        Promise.resolve({
          async release() {
            if (call !== 'res.users.apikeys.generate' || holding) return;
            holding = true;
            await held`begin`;
            await held`lock table odoo_link in exclusive mode`;
          },
        }),
    };
    // Odoo does not answer the first revocation either (a proxy's 502).
    sandbox.control.injectFault({ kind: 'html', status: 502, method: 'revoke', times: 1 });
    try {
      const w = worker(config(), { handle, gate });
      await expect(w.link.lifecycle!.check()).rejects.toMatchObject({ code: 'ODOO_KEY_STORE' });
      expect(liveKeys()).toHaveLength(2);
      await held`rollback`;
      await w.link.lifecycle!.check();
      expect(sandbox.control.countCalls({ method: 'revoke' })).toBe(2);
      expect(liveKeys()).toEqual([initialKey.slice(0, 8)]);
    } finally {
      held.release();
      await holder.end();
    }
  });
});

describe('where Odoo cannot renew', () => {
  it('says why in one line when Odoo has no generate (19.0.0: a 404), and does not ask again for a day', async () => {
    sandbox.keys.setProgrammatic('absent');
    const first = worker(config());
    const status = await first.link.lifecycle!.check();
    expect(status.renewalError).toContain('no res.users.apikeys.generate (HTTP 404');
    expect(status.renewalRetryAfter!.getTime()).toBeGreaterThan(Date.now() + DAY - 60_000);
    expect(status.summary).toContain('its last renewal failed');
    expect(logged(first.lines, /could not renew the Odoo API key/)).toHaveLength(1);
    // Checked again, here or by another worker: Odoo is not asked again.
    await first.link.lifecycle!.check();
    await worker(config()).link.lifecycle!.check();
    expect(sandbox.control.countCalls({ method: 'generate' })).toBe(1);
    expect(logged(first.lines, /could not renew the Odoo API key/)).toHaveLength(1);
  });

  it('warns once as ODOO_API_KEY_WARN_DAYS remain, once more within the last 3 days, once lapsed', async () => {
    const { secret: _unused, ...withoutSecret } = config().apiKeyLifecycle;
    const w = worker({ ...config(), apiKeyLifecycle: { ...withoutSecret, rotate: false } });
    await w.link.lifecycle!.check();
    await w.link.lifecycle!.check();
    expect(logged(w.lines, /"level":40.*lapses at/)).toHaveLength(1);
    const soon = new Date(Date.now() + 2 * DAY);
    sandbox.keys.setExpiry(initialKey, soon);
    await db.db.update(odooLink).set({ keyExpiresAt: soon });
    await w.link.lifecycle!.check();
    await w.link.lifecycle!.check();
    expect(logged(w.lines, /"level":40.*lapses at/)).toHaveLength(2);
    const lapsed = new Date(Date.now() - 1_000);
    await db.db.update(odooLink).set({ keyExpiresAt: lapsed });
    await w.link.lifecycle!.check();
    await w.link.lifecycle!.check();
    expect(logged(w.lines, /"level":50.*lapsed at/)).toHaveLength(1);
  });
});

describe('ODOO_API_KEY_SECRET changing', () => {
  it('keeps the stored key readable with the previous secret, and seals the next one under the new', async () => {
    // Renewed under the old secret (checked again if a check of a loaded machine timed out).
    const first = worker(config()).link.lifecycle!;
    await vi.waitFor(
      async () => {
        await first.check();
        const [row] = await db.db.select().from(odooLink);
        expect(row?.keySealed).toEqual(expect.any(String));
      },
      { timeout: 30_000, interval: 100 },
    );
    const [renewed] = await db.db.select().from(odooLink);
    const renewedKey = createKeyCipher({ source: 'default', secret: SECRET }).open(
      renewed!.keySealed!,
    );

    // Every process gets the new secret, the old one as the previous.
    const changed = config({ secret: NEW_SECRET, previousSecret: SECRET, renewDays: 1 });
    const w = worker(changed);
    const usesBefore = sandbox.keys.info(renewedKey)!.uses;
    await w.link.client.searchCount('dimagaz.bc', []);
    expect(sandbox.keys.info(renewedKey)!.uses).toBeGreaterThan(usesBefore);

    // The next write (here: the adoption of a key set by hand) seals under the new secret.
    const byHand = sandbox.keys.add({ expiresAt: new Date(Date.now() + 20 * DAY) });
    const next = worker({ ...changed, apiKey: byHand, password: byHand });
    await next.link.lifecycle!.check();
    const [row] = await db.db.select().from(odooLink);
    expect(createKeyCipher({ source: 'default', secret: NEW_SECRET }).open(row!.keySealed!)).toBe(
      byHand,
    );
    expect(() =>
      createKeyCipher({ source: 'default', secret: SECRET }).open(row!.keySealed!),
    ).toThrow();
    expect(sandbox.keys.refusals).toBe(0);
  });
});

describe("a source's key sealed before keys were sealed per source", () => {
  it("is sealed anew under the source's own secret at a worker's first check, after which the shared secret can go", async () => {
    const OWN = 'acme-own-secret-no-other-worker-holds-42';
    // No renewal due (Odoo's soonest expiry is ODOO_API_KEY's, 10 days away).
    const acme = (lifecycle: Partial<OdooConfig['apiKeyLifecycle']>) =>
      config({ source: 'acme', secret: OWN, renewDays: 1, ...lifecycle });
    // A key renewed from ODOO_API_KEY, and the one it replaced, sealed as every source's key was:
    // under the shared secret, for one purpose (the default source's keys still are).
    const renewedKey = sandbox.keys.add({ expiresAt: new Date(Date.now() + 60 * DAY) });
    const shared = createKeyCipher({ source: 'default', secret: SECRET });
    await writeLink(db.db, connectionOf(acme({})), {
      keyVersion: 2,
      keySealed: shared.seal(renewedKey),
      keySeeds: [fingerprintOf(initialKey)],
      retiredSealed: shared.seal(initialKey),
      retireAfter: new Date(Date.now() + DAY),
    });

    // Acme given a secret of its own, the shared one as the one it replaces.
    const w = worker(acme({ previousSecret: SECRET }));
    await w.link.lifecycle!.check();
    const [row] = await db.db.select().from(odooLink);
    const own = createKeyCipher({ source: 'acme', secret: OWN });
    expect(row).toMatchObject({ keyVersion: 2 });
    expect(own.open(row!.keySealed!)).toBe(renewedKey);
    expect(own.open(row!.retiredSealed!)).toBe(initialKey);
    for (const sealed of [row!.keySealed!, row!.retiredSealed!]) {
      expect(own.sealsAsNow(sealed)).toBe(true);
      expect(() => shared.open(sealed)).toThrow();
    }
    expect(logged(w.lines, /sealed anew under its source's secret/)).toHaveLength(1);

    // Without the shared secret, acme's worker still sends the renewed key.
    const usesBefore = sandbox.keys.info(renewedKey)!.uses;
    await worker(acme({})).link.client.searchCount('dimagaz.bc', []);
    expect(sandbox.keys.info(renewedKey)!.uses).toBeGreaterThan(usesBefore);
    expect(sandbox.keys.refusals).toBe(0);
  });
});
