/**
 * The Odoo API key's lifecycle, run by each worker: learn when the key in use lapses, warn ahead
 * of it (a log line when ODOO_API_KEY_WARN_DAYS and then 3 days remain, and once lapsed; status
 * and the gauges throughout), and with ODOO_API_KEY_ROTATE renew it before it lapses where Odoo
 * allows it (key-renewal.ts: `generate`, then `revoke` of the old key after a grace).
 *
 * Every process reads the stored key at most every few seconds (api-key-provider.ts), so all of
 * them send a renewed key within that time; the old key is revoked only after a grace that
 * outlasts that refresh and any call still in flight with it (every retry included). No call is
 * refused on the way.
 *
 * No step holds a PostgreSQL transaction while Odoo answers: Odoo is asked first, and each write
 * is one statement conditional on what was read (the adoption of a configured key alone takes
 * the link's lock, waited for at most LINK_LOCK_WAIT_MS, and calls no Odoo under it).
 *
 * A stored key sealed otherwise than it is sealed now — under the secret being replaced, or before
 * keys were sealed per source (key-cipher.ts) — is sealed anew at the first check, so that the
 * old secret can go as soon as each worker started once.
 *
 * Checks run at start, then when something is next due (a renewal, a warning, the lapse, the
 * revocation), at least hourly. Where Odoo cannot renew (Odoo 19.0 has no `generate`; the user
 * not allowed; too many keys), the refusal is said once and asked again a day later, and the
 * warnings and, once lapsed, a clear `API_KEY_EXPIRED` refusal are what remain.
 */
import { sql } from 'drizzle-orm';
import type { OdooClient } from '../clients/odoo/index.js';
import { advisoryXactLock } from '../db/advisory-lock.js';
import type { OdooApiKeyConfig } from '../config/odoo-config.js';
import type { Db } from '../db/create-db.js';
import { AppError, describeError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { ApiKeyProvider } from './api-key-provider.js';
import { fingerprintOf, type KeyCipher } from './key-cipher.js';
import { createKeyRenewal, type KeyRenewal } from './key-renewal.js';
import { readLink, resealKeys, writeLink, writeLinkAt } from './link-store.js';
import { describeApiKey, URGENT_DAYS, type ApiKeyStatus } from './link-status.js';
import { soonestKeyExpiry } from './odoo-key-calls.js';

const DAY_MS = 86_400_000;
/** The longest a worker goes without looking at its key. */
const MAX_CHECK_INTERVAL_MS = 3_600_000;
/** After a check that could not finish (Odoo or PostgreSQL away). */
const RETRY_AFTER_FAILURE_MS = 60_000;
/** The longest a worker waits for another's adoption of the configured key (a few writes). */
const LINK_LOCK_WAIT_MS = 30_000;
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
  /** How long a worker's claim on a renewal holds (see {@link renewalClaimMs}). */
  claimMs: number;
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

/** Longer than `generate` can take: its wait for the call budget, then its one attempt. */
export function renewalClaimMs(odoo: { timeoutMs: number; budget: { maxWaitMs: number } }) {
  return odoo.budget.maxWaitMs + odoo.timeoutMs + 60_000;
}

/** The warnings a key's approach to its lapse earns, in order: each is logged once per key. */
type Warning = 'warn' | 'urgent' | 'lapsed';

export function createApiKeyLifecycle(input: ApiKeyLifecycleInput): ApiKeyLifecycle {
  const { db, odoo, provider, connection, settings, cipher, logger } = input;
  const now = input.now ?? Date.now;
  const log = logger.child({ component: 'odoo-api-key' });
  const renewal: KeyRenewal | undefined =
    settings.rotate && cipher !== undefined
      ? createKeyRenewal({
          db,
          odoo,
          connection,
          cipher,
          lifetimeDays: settings.lifetimeDays,
          graceMs: input.graceMs,
          claimMs: input.claimMs,
          logger: log,
          now,
        })
      : undefined;
  /** What the last check learned; the status is computed from it whenever it is asked for. */
  let known: Parameters<typeof describeApiKey>[0] = {
    expiresAt: settings.expiresAt,
    expirySource: settings.expiresAt ? 'config' : null,
  };
  let last = describeApiKey(known, settings, now());
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let checked = false;
  /** The warnings logged so far, by the fingerprint of the key they were about. */
  const warned = new Map<string, Set<Warning>>();

  /**
   * The configured key becomes the stored one when the store does not descend from it. A fleet
   * starting at once adopts once: the others wait for that one (at most LINK_LOCK_WAIT_MS) and
   * find the key adopted. Had one gone on, it would have learned the expiry onto the version the
   * adoption replaced (a write that lands nowhere) and started without knowing when its key
   * lapses. Nothing under the lock calls Odoo.
   */
  async function adopt(): Promise<void> {
    const seed = fingerprintOf(input.configuredKey);
    const lock = sql`hashtextextended(${LOCK_NAME + connection}, 0)`;
    await db.transaction(async (tx) => {
      await advisoryXactLock(tx, lock, LINK_LOCK_WAIT_MS, "the Odoo link's lock");
      const row = await readLink(tx, connection);
      if (row?.keySeeds.includes(seed)) return;
      await writeLink(tx, connection, {
        keyVersion: (row?.keyVersion ?? 0) + 1,
        keySealed: cipher!.seal(input.configuredKey),
        keySeeds: [...(row?.keySeeds ?? []), seed].slice(-20),
        keyFingerprint: null,
        keyExpiresAt: null,
        keyExpirySource: null,
        renewalClaimedUntil: null,
        renewalRetryAfter: null,
      });
      log.info({ fingerprint: seed }, 'ODOO_API_KEY adopted as the key to renew from');
    });
  }

  /**
   * The stored keys (in use, and waiting to be revoked) that are not sealed as they are sealed
   * now, sealed anew. A value that opens with none of this process's secrets is left as it is:
   * the provider says so, and sends ODOO_API_KEY.
   */
  async function resealOld(): Promise<void> {
    const row = provider.row();
    if (cipher === undefined || row === undefined) return;
    const anew = (sealed: string | null): string | undefined => {
      if (sealed === null || cipher.sealsAsNow(sealed)) return undefined;
      let plain: string;
      try {
        plain = cipher.open(sealed);
      } catch {
        return undefined;
      }
      return cipher.seal(plain);
    };
    const keySealed = anew(row.keySealed);
    const retiredSealed = anew(row.retiredSealed);
    if (keySealed === undefined && retiredSealed === undefined) return;
    const resealed = await resealKeys(db, connection, row, {
      ...(keySealed === undefined ? {} : { keySealed }),
      ...(retiredSealed === undefined ? {} : { retiredSealed }),
    });
    if (!resealed) return;
    log.info(
      { keyVersion: row.keyVersion },
      "the stored Odoo API key sealed anew under its source's secret",
    );
    await provider.refresh();
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

  /** One log line as the key reaches each warning: the warning days, the last days, its lapse. */
  function warnOnce(fingerprint: string, status: ApiKeyStatus): void {
    const left = status.secondsLeft;
    if (left === null || status.state === 'ok') return;
    const reached: Warning =
      status.state === 'lapsed' ? 'lapsed' : left < URGENT_DAYS * 86_400 ? 'urgent' : 'warn';
    const seen = warned.get(fingerprint) ?? new Set<Warning>();
    if (seen.has(reached)) return;
    seen.add(reached);
    warned.set(fingerprint, seen);
    if (reached === 'lapsed') log.error({ fingerprint }, status.summary);
    else log.warn({ fingerprint }, status.summary);
  }

  function learnStatus(): void {
    const inUse = provider.inUse();
    const row = provider.row();
    const describes = row?.keyFingerprint === inUse.fingerprint;
    known = {
      expiresAt: describes ? row.keyExpiresAt : inUse.expiresAt,
      expirySource: describes ? row.keyExpirySource : inUse.expirySource,
      renewedAt: row?.keyRenewedAt ?? null,
      renewalError: row?.renewalError ?? null,
      renewalRetryAfter: row?.renewalRetryAfter ?? null,
    };
    last = describeApiKey(known, settings, now());
  }

  async function check(signal?: AbortSignal, round = 0): Promise<ApiKeyStatus> {
    await provider.refresh();
    // Keys made here that no row holds go first: they would outlive the check otherwise.
    await renewal?.revokeUnstored(signal);
    await resealOld();
    const seed = fingerprintOf(input.configuredKey);
    if (
      renewal !== undefined &&
      provider.inUse().origin === 'configured' &&
      !provider.row()?.keySeeds.includes(seed)
    ) {
      await adopt();
      await provider.refresh();
    }
    await learnExpiry(signal);
    learnStatus();
    const inUse = provider.inUse();
    warnOnce(inUse.fingerprint, last);
    const renewDue =
      renewal !== undefined &&
      last.renewFrom !== null &&
      last.renewFrom.getTime() <= now() &&
      last.state !== 'lapsed';
    if (renewDue && round < 2) {
      await renewal.renew(await provider.current(), inUse.version, signal);
      await provider.refresh();
      // Renewed (here or by another worker): the check starts over with the new key.
      if (provider.inUse().version !== inUse.version) return check(signal, round + 1);
      learnStatus();
    }
    const row = provider.row();
    if (renewal !== undefined && row?.retiredSealed && row.retireAfter)
      await renewal.retire(row, signal);
    checked = true;
    return last;
  }

  /** When something is next due: the renewal, the warnings, the lapse, the revocation. */
  function nextCheckInMs(): number {
    const row = provider.row();
    const expiresAtMs = last.expiresAt?.getTime();
    const due = [
      last.renewFrom?.getTime(),
      row?.renewalRetryAfter?.getTime(),
      expiresAtMs === undefined ? undefined : expiresAtMs - settings.warnDays * DAY_MS,
      expiresAtMs === undefined ? undefined : expiresAtMs - URGENT_DAYS * DAY_MS,
      expiresAtMs,
      row?.retireAfter?.getTime(),
    ]
      .filter((at): at is number => at !== undefined && at > now())
      .map((at) => at - now() + 1_000);
    // A key made here and not stored yet is revoked at the next check: soon.
    if ((renewal?.unstored() ?? 0) > 0) due.push(RETRY_AFTER_FAILURE_MS);
    return Math.min(MAX_CHECK_INTERVAL_MS, ...due);
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      check().then(
        () => schedule(nextCheckInMs()),
        (error: unknown) => {
          const why = error instanceof AppError ? error.safeMessage : describeError(error);
          log.warn(
            { err: error },
            `the Odoo API key check failed (${why}); trying again in a minute`,
          );
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
