/**
 * The API key's renewal and the old key's revocation, in an order that leaves no key behind and
 * holds no transaction open while Odoo answers:
 *
 * 1. a worker claims the renewal in `odoo_link` (one conditional statement: the key it holds is
 *    still the stored one, no other claim runs, no refusal of Odoo's is still in force);
 * 2. it asks Odoo for the new key (`generate`, never retried: a timed-out attempt may have made
 *    one), no transaction open — the call may wait for the fleet's call budget;
 * 3. it stores the new key, sealed, as the next version, only if the row still holds the version
 *    it renewed (one statement);
 * 4. a key Odoo made that was not stored — another worker stored one first, or PostgreSQL failed —
 *    is revoked at once, or at the next check if Odoo cannot be reached then. Odoo revokes a key
 *    by its value only, so the value is kept in memory until then; a process that dies in between
 *    leaves that key to lapse at its expiry.
 *
 * The old key's revocation, once its grace is over, is claimed the same way: one worker revokes it.
 *
 * Odoo's refusal (no `generate` on this server, the user not allowed, too many live keys) is said
 * once, in one line, and not asked again for a day, fleet-wide. A failure of PostgreSQL on the way
 * is a typed, retryable error of the check that met it.
 */
import { isOdooError, type OdooClient } from '../clients/odoo/index.js';
import type { OdooLinkRow } from '../db/schema/index.js';
import type { Db } from '../db/create-db.js';
import { AppError, describeError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { fingerprintOf, type KeyCipher } from './key-cipher.js';
import {
  claimRenewal,
  claimRetirement,
  clearRetired,
  storeRenewedKey,
  writeLinkAt,
} from './link-store.js';
import { generateKey, revokeKey } from './odoo-key-calls.js';

const DAY_MS = 86_400_000;
/** How long Odoo's refusal of a renewal stands before a worker asks again. */
export const REFUSED_RENEWAL_RETRY_MS = DAY_MS;

export type RenewalOutcome =
  /** The new key is stored: every process switches to it. */
  | 'renewed'
  /** Another worker renewed it, or holds the renewal now: nothing to do here. */
  | 'elsewhere'
  /** Odoo refused it; recorded with when to try again. */
  | 'refused'
  /** Odoo did not answer (a timeout, the budget's deadline): the next check tries again. */
  | 'failed';

export interface KeyRenewal {
  /** Renews key `key`, stored at `version`, for `lifetimeDays`. */
  renew(key: string, version: number, signal?: AbortSignal): Promise<RenewalOutcome>;
  /** Revokes the key a renewal replaced, once `retireAfter` passed. */
  retire(row: OdooLinkRow, signal?: AbortSignal): Promise<void>;
  /** Revokes the keys this process made and could not store; those Odoo does not answer stay. */
  revokeUnstored(signal?: AbortSignal): Promise<void>;
  /** How many keys made here wait to be revoked. */
  unstored(): number;
}

/** The one line an operator reads of Odoo's refusal to renew. */
export function describeRefusal(error: unknown): string {
  const said = error instanceof AppError ? error.safeMessage : describeError(error);
  const status = isOdooError(error) ? error.httpStatus : undefined;
  if (status === 404)
    return (
      'this Odoo has no res.users.apikeys.generate (HTTP 404: Odoo 19.0 came without it): ' +
      'create a new key by hand before this one lapses and set ODOO_API_KEY'
    );
  if (status === 403)
    return (
      `Odoo does not let the sync user renew its keys (HTTP 403: ${said}): an administrator sets ` +
      'the system parameter base.enable_programmatic_api_keys to True, or renew the key by hand'
    );
  return (
    `Odoo refused the renewal: ${said} (the system parameter base.enable_programmatic_api_keys ` +
    'unset, or 10 live keys, base.programmatic_api_keys_limit): renew the key by hand, or fix that'
  );
}

/** A failure of PostgreSQL in the renewal's path, as the check that met it fails. */
function storeFailure(what: string, cause: unknown): AppError {
  return new AppError('ODOO_KEY_STORE', `${what}: ${describeError(cause)}`, {
    cause,
    retryable: true,
  });
}

export function createKeyRenewal(input: {
  db: Db;
  odoo: OdooClient;
  connection: string;
  cipher: KeyCipher;
  lifetimeDays: number;
  /** How long after a renewal the old key is revoked. */
  graceMs: number;
  /** How long a claim holds: longer than `generate` can take, its wait for the budget included. */
  claimMs: number;
  logger: Logger;
  now: () => number;
}): KeyRenewal {
  const { db, odoo, connection, cipher, logger: log, now } = input;
  /** Keys Odoo made for this process that no row holds: revoked at the next chance. */
  const unstored = new Set<string>();

  /** Revokes `key`; false when Odoo could not be reached (it stays to revoke). */
  async function revokeMade(key: string, signal?: AbortSignal): Promise<boolean> {
    try {
      await revokeKey(odoo, key, signal);
    } catch (error) {
      // Already revoked or lapsed: Odoo refuses it as invalid, and nothing is left to do.
      if (!isOdooError(error, 'ODOO_ACCESS') && !isOdooError(error, 'ODOO_USER_ERROR')) {
        log.warn(
          { err: error, fingerprint: fingerprintOf(key) },
          'a renewed Odoo API key that was not stored could not be revoked yet; the next check tries again',
        );
        return false;
      }
    }
    unstored.delete(key);
    log.info(
      { fingerprint: fingerprintOf(key) },
      'a renewed Odoo API key that was not stored is revoked',
    );
    return true;
  }

  async function renew(
    key: string,
    version: number,
    signal?: AbortSignal,
  ): Promise<RenewalOutcome> {
    const startedAt = new Date(now());
    const claimed = await claimRenewal(
      db,
      connection,
      version,
      startedAt,
      new Date(now() + input.claimMs),
    ).catch((error: unknown) => {
      throw storeFailure('could not claim the Odoo API key renewal', error);
    });
    if (!claimed) return 'elsewhere';
    const expiresAt = new Date(now() + input.lifetimeDays * DAY_MS);
    let fresh: string;
    try {
      fresh = await generateKey(
        odoo,
        { key, name: `erp-bridge ${startedAt.toISOString().slice(0, 10)}`, expiresAt },
        signal,
      );
    } catch (error) {
      // Odoo's answer, unless it gave none (a timeout, the budget's deadline, the worker stopping).
      const refused =
        !(error instanceof AppError && error.retryable) && !isOdooError(error, 'ODOO_ABORTED');
      const why = refused ? describeRefusal(error) : describeError(error);
      await writeLinkAt(db, connection, version, {
        renewalError: why,
        renewalErrorAt: new Date(now()),
        renewalClaimedUntil: null,
        renewalRetryAfter: refused ? new Date(now() + REFUSED_RENEWAL_RETRY_MS) : null,
      }).catch((cause: unknown) => {
        throw storeFailure('could not record the failed Odoo API key renewal', cause);
      });
      if (refused) log.error({ err: error }, `could not renew the Odoo API key: ${why}`);
      else log.warn({ err: error }, `the Odoo API key renewal got no answer: ${why}`);
      return refused ? 'refused' : 'failed';
    }
    unstored.add(fresh);
    let stored: boolean;
    try {
      stored = await storeRenewedKey(db, connection, version, {
        keySealed: cipher.seal(fresh),
        keyFingerprint: fingerprintOf(fresh),
        keyExpiresAt: expiresAt,
        keyExpirySource: 'renewal',
        keyRenewedAt: new Date(now()),
        retiredSealed: cipher.seal(key),
        retireAfter: new Date(now() + input.graceMs),
        renewalError: null,
        renewalErrorAt: null,
        renewalRetryAfter: null,
      });
    } catch (error) {
      await revokeMade(fresh, signal);
      throw storeFailure('the renewed Odoo API key could not be stored, and is revoked', error);
    }
    if (!stored) {
      // Another worker's claim lapsed into this one's, and it stored first: this key goes.
      await revokeMade(fresh, signal);
      return 'elsewhere';
    }
    unstored.delete(fresh);
    log.info(
      { version: version + 1, expiresAt },
      'Odoo API key renewed; every process switches to it within seconds',
    );
    return 'renewed';
  }

  async function retire(row: OdooLinkRow, signal?: AbortSignal): Promise<void> {
    const sealed = row.retiredSealed;
    if (!sealed || !row.retireAfter || row.retireAfter.getTime() > now()) return;
    // One worker revokes it; a revocation that fails is tried again once the claim lapsed.
    const claimed = await claimRetirement(
      db,
      connection,
      sealed,
      new Date(now()),
      new Date(now() + input.claimMs),
    ).catch((error: unknown) => {
      throw storeFailure('could not claim the revocation of the replaced Odoo API key', error);
    });
    if (!claimed) return;
    try {
      await revokeKey(odoo, cipher.open(sealed), signal);
    } catch (error) {
      // Already lapsed or revoked (by another worker, too): there is nothing left to do.
      if (!isOdooError(error, 'ODOO_ACCESS') && !isOdooError(error, 'ODOO_USER_ERROR')) throw error;
    }
    await clearRetired(db, connection, sealed).catch((error: unknown) => {
      throw storeFailure('could not record the revoked Odoo API key', error);
    });
    log.info('the Odoo API key replaced by the renewal is revoked');
  }

  return {
    renew,
    retire,
    async revokeUnstored(signal) {
      for (const key of [...unstored]) await revokeMade(key, signal);
    },
    unstored: () => unstored.size,
  };
}
