/**
 * The Odoo API key's lifecycle, run by each worker: learn when the key in use lapses, warn from
 * ODOO_API_KEY_WARN_DAYS before, and with ODOO_API_KEY_ROTATE renew it before it lapses.
 *
 * A renewal follows Odoo's own recipe (`res.users.apikeys.generate` then `revoke`, odoo/odoo
 * "allow programmatic creation of API keys"): `generate` makes a new key from the current one
 * and leaves the current one valid. One worker renews — under a PostgreSQL advisory lock, and
 * only if the stored key is still the one it holds — then seals the new key in `odoo_link` with
 * a new version. Every process reads the row at most every few seconds (api-key-provider.ts), so
 * all of them send the new key within that time; the old key is revoked only after a grace that
 * outlasts that refresh and any call still in flight with it (every retry included). No call is
 * refused on the way.
 *
 * Checks run at start, then when something is next due (a renewal, the warning, the lapse, the
 * revocation), at least hourly. A failed renewal is recorded for status and tried again at the
 * next check; where Odoo has no `generate` (before it came, or not enabled for the user), the
 * warning and, once lapsed, a clear `API_KEY_EXPIRED` refusal are what remain.
 */
import { sql } from 'drizzle-orm';
import { isOdooError, type OdooClient } from '../clients/odoo/index.js';
import { rowsOf } from '../db/sql-rows.js';
import type { OdooApiKeyConfig } from '../config/odoo-config.js';
import type { Db } from '../db/create-db.js';
import { AppError, describeError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { ApiKeyProvider } from './api-key-provider.js';
import { fingerprintOf, type KeyCipher } from './key-cipher.js';
import { readLink, writeLink, writeLinkAt } from './link-store.js';
import { describeApiKey, type ApiKeyStatus } from './link-status.js';
import { generateKey, revokeKey, soonestKeyExpiry } from './odoo-key-calls.js';

const DAY_MS = 86_400_000;
/** The longest a worker goes without looking at its key. */
const MAX_CHECK_INTERVAL_MS = 3_600_000;
/** After a check that could not finish (Odoo or PostgreSQL away). */
const RETRY_AFTER_FAILURE_MS = 60_000;
const LOCK_NAME = 'erp-bridge:odoo-api-key:';

export interface ApiKeyLifecycle {
  /** One check now: expiry, warning, renewal and revocation when due. */
  check(signal?: AbortSignal): Promise<ApiKeyStatus>;
  /** Checks now (unless a check just ran), then whenever something is next due. */
  start(): void;
  stop(): void;
  /** As of the last check (or the configuration, before any). */
  status(): ApiKeyStatus;
}

export interface ApiKeyLifecycleInput {
  db: Db;
  odoo: OdooClient;
  provider: ApiKeyProvider;
  connection: string;
  /** ODOO_API_KEY. */
  configuredKey: string;
  settings: OdooApiKeyConfig;
  /** Required to renew: the new key is stored sealed. */
  cipher?: KeyCipher;
  /** How long after a renewal the old key is revoked (see {@link retireGraceMs}). */
  graceMs: number;
  logger: Logger;
  now?: () => number;
}

/**
 * How long the old key must stay valid after a renewal: every process reads the new one within
 * two refreshes, and a call it started before may retry for its whole budget.
 */
export function retireGraceMs(odoo: { timeoutMs: number; retries: number }, refreshMs: number) {
  return 2 * refreshMs + (odoo.retries + 1) * odoo.timeoutMs + odoo.retries * 10_000 + 2_000;
}

export function createApiKeyLifecycle(input: ApiKeyLifecycleInput): ApiKeyLifecycle {
  const { db, odoo, provider, connection, settings, cipher, logger } = input;
  const now = input.now ?? Date.now;
  const log = logger.child({ component: 'odoo-api-key' });
  const rotating = settings.rotate && cipher !== undefined;
  /** What the last check learned; the status is computed from it whenever it is asked for. */
  let known: Parameters<typeof describeApiKey>[0] = {
    expiresAt: settings.expiresAt,
    expirySource: settings.expiresAt ? 'config' : null,
  };
  let last = describeApiKey(known, settings, now());
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let checked = false;

  /**
   * Runs `work` holding the link's advisory lock; answers undefined if another holds it, unless
   * `wait`, which waits for it.
   */
  async function underLock<T>(work: (tx: Db) => Promise<T>, wait = false): Promise<T | undefined> {
    const key = sql`hashtextextended(${LOCK_NAME + connection}, 0)`;
    return db.transaction(async (tx) => {
      if (wait) {
        await tx.execute(sql`select pg_advisory_xact_lock(${key})`);
        return work(tx);
      }
      const [row] = rowsOf<{ locked: boolean }>(
        await tx.execute(sql`select pg_try_advisory_xact_lock(${key}) as locked`),
      );
      return row?.locked === true ? work(tx) : undefined;
    });
  }

  /**
   * The configured key becomes the stored one when the store does not descend from it. A fleet
   * starting at once adopts once: the others wait for that one and find the key adopted. Had one
   * gone on, it would have learned the expiry onto the version the adoption replaced (a write
   * that lands nowhere) and started without knowing when its key lapses.
   */
  async function adopt(): Promise<void> {
    const seed = fingerprintOf(input.configuredKey);
    await underLock(async (tx) => {
      const row = await readLink(tx, connection);
      if (row?.keySeeds.includes(seed)) return;
      await writeLink(tx, connection, {
        keyVersion: (row?.keyVersion ?? 0) + 1,
        keySealed: cipher!.seal(input.configuredKey),
        keySeeds: [...(row?.keySeeds ?? []), seed].slice(-20),
        keyFingerprint: null,
        keyExpiresAt: null,
        keyExpirySource: null,
      });
      log.info({ fingerprint: seed }, 'ODOO_API_KEY adopted as the key to renew from');
    }, true);
  }

  /** The key in use's expiry into the row, from the configuration or from Odoo. */
  async function learnExpiry(signal?: AbortSignal): Promise<void> {
    const inUse = provider.inUse();
    const row = provider.row();
    if (row?.keyFingerprint === inUse.fingerprint && row.keyExpirySource !== null) return;
    let learned: { expiresAt: Date | null; source: string };
    if (inUse.origin === 'configured' && settings.expiresAt !== undefined)
      learned = { expiresAt: settings.expiresAt, source: 'config' };
    else {
      const fromOdoo = await soonestKeyExpiry(odoo, signal);
      if (fromOdoo === undefined) return;
      learned = { expiresAt: fromOdoo.expiresAt, source: 'odoo' };
      if (fromOdoo.keys > 1)
        log.info(
          { keys: fromOdoo.keys },
          "the sync user has several API keys: the soonest expiry is taken as this key's",
        );
    }
    // Only onto the key version it was learned for: a renewal since has its own expiry.
    await writeLinkAt(db, connection, inUse.version, {
      keyFingerprint: inUse.fingerprint,
      keyExpiresAt: learned.expiresAt,
      keyExpirySource: learned.source,
    });
    await provider.refresh();
  }

  /** True when the key changed (renewed here or by another worker since this one read it). */
  async function renew(key: string, version: number, signal?: AbortSignal): Promise<boolean> {
    const expiresAt = new Date(now() + settings.lifetimeDays * DAY_MS);
    const outcome = await underLock(async (tx) => {
      const row = await readLink(tx, connection);
      // Renewed by another worker since this one read the row: nothing to do.
      if ((row?.keyVersion ?? 0) !== version) return 'elsewhere';
      let fresh: string;
      try {
        fresh = await generateKey(
          odoo,
          { key, name: `erp-bridge ${new Date(now()).toISOString().slice(0, 10)}`, expiresAt },
          signal,
        );
      } catch (error) {
        const why = error instanceof AppError ? error.safeMessage : describeError(error);
        await writeLink(tx, connection, { renewalError: why, renewalErrorAt: new Date(now()) });
        log.error(
          { err: error },
          `could not renew the Odoo API key: ${why}. Odoo 19 renews keys only for users allowed to ` +
            '(an administrator, or the system parameter base.enable_programmatic_api_keys); ' +
            'otherwise create a new key by hand and set ODOO_API_KEY',
        );
        return 'failed';
      }
      await writeLink(tx, connection, {
        keyVersion: version + 1,
        keySealed: cipher!.seal(fresh),
        keyFingerprint: fingerprintOf(fresh),
        keyExpiresAt: expiresAt,
        keyExpirySource: 'renewal',
        keyRenewedAt: new Date(now()),
        retiredSealed: cipher!.seal(key),
        retireAfter: new Date(now() + input.graceMs),
        renewalError: null,
        renewalErrorAt: null,
      });
      return 'renewed';
    });
    if (outcome === 'renewed')
      log.info(
        { version: version + 1, expiresAt },
        'Odoo API key renewed; every process switches to it within seconds',
      );
    await provider.refresh();
    return outcome === 'renewed' || outcome === 'elsewhere';
  }

  /** Revokes the key a renewal replaced, once no process can still be sending it. */
  async function retire(signal?: AbortSignal): Promise<void> {
    await underLock(async (tx) => {
      const row = await readLink(tx, connection);
      if (!row?.retiredSealed || !row.retireAfter || row.retireAfter.getTime() > now()) return;
      try {
        await revokeKey(odoo, cipher!.open(row.retiredSealed), signal);
      } catch (error) {
        // Already lapsed or revoked (Odoo refuses it as invalid): there is nothing left to do.
        if (!isOdooError(error, 'ODOO_ACCESS') && !isOdooError(error, 'ODOO_USER_ERROR'))
          throw error;
      }
      await writeLink(tx, connection, { retiredSealed: null, retireAfter: null });
      log.info('the Odoo API key replaced by the renewal is revoked');
    });
  }

  async function check(signal?: AbortSignal, round = 0): Promise<ApiKeyStatus> {
    await provider.refresh();
    const seed = fingerprintOf(input.configuredKey);
    if (
      rotating &&
      provider.inUse().origin === 'configured' &&
      !provider.row()?.keySeeds.includes(seed)
    ) {
      await adopt();
      await provider.refresh();
    }
    await learnExpiry(signal);
    const inUse = provider.inUse();
    const row = provider.row();
    known = {
      expiresAt: row?.keyFingerprint === inUse.fingerprint ? row.keyExpiresAt : inUse.expiresAt,
      expirySource:
        row?.keyFingerprint === inUse.fingerprint ? row.keyExpirySource : inUse.expirySource,
      renewedAt: row?.keyRenewedAt ?? null,
      renewalError: row?.renewalError ?? null,
    };
    last = describeApiKey(known, settings, now());
    if (last.state === 'expiring' || last.state === 'lapsed')
      log.warn({ fingerprint: inUse.fingerprint }, last.summary);
    const renewDue =
      rotating &&
      last.renewFrom !== null &&
      last.renewFrom.getTime() <= now() &&
      last.state !== 'lapsed';
    // Once renewed (here or elsewhere) the check starts over with the new key and its expiry.
    if (renewDue && round < 2) {
      if (await renew(await provider.current(), inUse.version, signal))
        return check(signal, round + 1);
      // Refused: status says why until a renewal passes.
      known = { ...known, renewalError: provider.row()?.renewalError ?? null };
      last = describeApiKey(known, settings, now());
    }
    if (rotating && row?.retiredSealed && row.retireAfter && row.retireAfter.getTime() <= now())
      await retire(signal);
    checked = true;
    return last;
  }

  /** When something is next due: the renewal, the warning, the lapse, the revocation. */
  function nextCheckInMs(): number {
    const row = provider.row();
    const due = [
      last.renewFrom?.getTime(),
      last.expiresAt ? last.expiresAt.getTime() - settings.warnDays * DAY_MS : undefined,
      last.expiresAt?.getTime(),
      row?.retireAfter?.getTime(),
    ]
      .filter((at): at is number => at !== undefined && at > now())
      .map((at) => at - now() + 1_000);
    return Math.min(MAX_CHECK_INTERVAL_MS, ...due);
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      check().then(
        () => schedule(nextCheckInMs()),
        (error: unknown) => {
          log.warn({ err: error }, 'the Odoo API key check failed; trying again in a minute');
          schedule(RETRY_AFTER_FAILURE_MS);
        },
      );
    }, delayMs);
    timer.unref();
  }

  return {
    check,
    start: () => schedule(checked ? nextCheckInMs() : 0),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
    status: () => describeApiKey(known, settings, now()),
  };
}
