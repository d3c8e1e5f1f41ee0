/**
 * The API key each process sends, kept fresh from `odoo_link`: the configured ODOO_API_KEY, or
 * the key erp-bridge renewed from it and sealed in PostgreSQL. Every process reads the row at
 * most every `refreshMs` (and at once after Odoo refused its key), so a renewal reaches the whole
 * fleet within that time; the key a renewal replaced stays valid in Odoo until then and longer
 * (the lifecycle revokes it only after a grace: api-key-lifecycle.ts).
 *
 * The stored key wins only over the configured key it descends from (`key_seeds`): an operator
 * who sets a new ODOO_API_KEY is obeyed at once, and the lifecycle adopts it as the next seed.
 * A store that cannot be read or opened costs nothing but the configured key, and so does a read
 * that does not answer within KEY_READ_DEADLINE_MS (a pool whose connections are all taken): an
 * Odoo call never waits without end for a connection to read its key.
 */
import type { OdooApiKeySource } from '../clients/odoo/index.js';
import type { Db } from '../db/create-db.js';
import type { OdooLinkRow } from '../db/schema/index.js';
import { withDeadline } from '../lib/deadline.js';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { fingerprintOf, type KeyCipher } from './key-cipher.js';
import { readLink } from './link-store.js';

/** How long a process trusts the key it read: a renewal reaches every process within it. */
export const KEY_REFRESH_MS = 5_000;
/** The longest a call waits for the stored key; then it goes with the key in hand. */
export const KEY_READ_DEADLINE_MS = 5_000;

/** What a process knows of the key it sends. */
export interface ApiKeyInUse {
  /** 16 hex characters of its SHA-256 (never the key). */
  readonly fingerprint: string;
  /** `configured` (ODOO_API_KEY) or `stored` (renewed by erp-bridge). */
  readonly origin: 'configured' | 'stored';
  /** The store's key version it was read at (0: none stored). */
  readonly version: number;
  readonly expiresAt?: Date;
  /** Where `expiresAt` comes from: `config`, `odoo` or `renewal`. */
  readonly expirySource?: string;
}

export interface ApiKeyProvider extends OdooApiKeySource {
  /** Reads the row now (after the lifecycle changed it). */
  refresh(): Promise<string>;
  /** The key in use, as last read. */
  inUse(): ApiKeyInUse;
  /** The row as last read. */
  row(): OdooLinkRow | undefined;
}

export function createApiKeyProvider(input: {
  db: Db;
  connection: string;
  /** ODOO_API_KEY. */
  configuredKey: string;
  /** ODOO_API_KEY_EXPIRES_AT. */
  configuredExpiresAt?: Date;
  /** Without one, no stored key is read: the configured key is the only one. */
  cipher?: KeyCipher;
  logger: Logger;
  refreshMs?: number;
  /** How long a read of the row may take (default KEY_READ_DEADLINE_MS). */
  readDeadlineMs?: number;
  now?: () => number;
}): ApiKeyProvider {
  const { db, connection, configuredKey, cipher, logger } = input;
  const refreshMs = input.refreshMs ?? KEY_REFRESH_MS;
  const readDeadlineMs = input.readDeadlineMs ?? KEY_READ_DEADLINE_MS;
  const now = input.now ?? Date.now;
  const configuredPrint = fingerprintOf(configuredKey);
  let key = configuredKey;
  let row: OdooLinkRow | undefined;
  let readAtMs = -Infinity;
  let reading: Promise<string> | undefined;
  let unreadableVersion: number | undefined;

  /** The stored key when it descends from the configured one and opens; else the configured. */
  function choose(current: OdooLinkRow | undefined): string {
    if (
      cipher === undefined ||
      current?.keySealed == null ||
      !current.keySeeds.includes(configuredPrint)
    )
      return configuredKey;
    try {
      return cipher.open(current.keySealed);
    } catch (error) {
      if (unreadableVersion !== current.keyVersion)
        logger.error({ err: error }, 'the stored Odoo API key cannot be read; using ODOO_API_KEY');
      unreadableVersion = current.keyVersion;
      return configuredKey;
    }
  }

  async function read(): Promise<string> {
    try {
      row = await withDeadline(
        readLink(db, connection),
        readDeadlineMs,
        () =>
          new AppError(
            'ODOO_KEY_READ_TIMEOUT',
            `the stored Odoo API key was not read within ${readDeadlineMs} ms (no free database connection)`,
            { retryable: true },
          ),
      );
      key = choose(row);
    } catch (error) {
      logger.warn({ err: error }, 'could not read the stored Odoo API key; using the one in hand');
    }
    readAtMs = now();
    return key;
  }

  function refresh(): Promise<string> {
    reading ??= read().finally(() => {
      reading = undefined;
    });
    return reading;
  }

  function inUse(): ApiKeyInUse {
    const fingerprint = fingerprintOf(key);
    const described = row?.keyFingerprint === fingerprint ? row : undefined;
    const expiresAt =
      described?.keyExpiresAt ??
      (key === configuredKey ? input.configuredExpiresAt : undefined) ??
      undefined;
    const expirySource =
      described?.keyExpirySource ??
      (key === configuredKey && input.configuredExpiresAt ? 'config' : undefined);
    return {
      fingerprint,
      origin: key === configuredKey ? 'configured' : 'stored',
      version: row?.keyVersion ?? 0,
      ...(expiresAt ? { expiresAt } : {}),
      ...(expirySource ? { expirySource } : {}),
    };
  }

  return {
    current: () => (now() - readAtMs < refreshMs ? Promise.resolve(key) : refresh()),
    async newerThan(refused) {
      const fresh = await refresh();
      return fresh === refused ? undefined : fresh;
    },
    expiresAt: () => inUse().expiresAt,
    refresh,
    inUse,
    row: () => row,
  };
}
