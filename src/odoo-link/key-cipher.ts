/**
 * How a renewed Odoo API key is kept at rest in PostgreSQL: sealed (src/lib/sealed-secret.ts) for
 * its source alone, under that source's secret — its `apiKeySecret` in SYNC_SOURCES_FILE, else
 * ODOO_API_KEY_SECRET — or the secret it replaces while it changes. A key sealed for one source
 * never opens as another's, even under the same secret (the source's name is in what the key is
 * derived from); and a worker given its sources' secrets alone opens their keys alone
 * (docs/sources.md, "Renewed keys, per source").
 *
 * A key sealed before keys were sealed per source (every one for the same purpose, under
 * ODOO_API_KEY_SECRET) still opens, under the source's secret or the one it replaces; the
 * lifecycle seals it anew as soon as it sees it (`sealsAsNow`), after which the secret it replaces
 * can go. The default source's keys are sealed as they always were.
 *
 * Fingerprints name a key without revealing it: a SHA-256 prefix, safe because Odoo's keys are
 * 160 random bits (a password is never fingerprinted).
 */
import { createHash } from 'node:crypto';
import { DEFAULT_SOURCE } from '../sources/family-key.js';
import { AppError } from '../lib/errors.js';
import { createSealer, type Sealer } from '../lib/sealed-secret.js';

/** What every key was sealed for before keys were sealed per source; the default source's still. */
const SHARED_PURPOSE = 'erp-bridge odoo api key v1';

const purposeOf = (source: string) =>
  source === DEFAULT_SOURCE ? SHARED_PURPOSE : `${SHARED_PURPOSE} of source ${source}`;

/** `seal` gives `v1.<iv>.<tag>.<ciphertext>`; `open` throws `ODOO_KEY_UNREADABLE`. */
export interface KeyCipher extends Sealer {
  /** Whether `sealed` is sealed as `seal` seals now: for this source, under its current secret. */
  sealsAsNow(sealed: string): boolean;
}

export function createKeyCipher(input: {
  /** The source whose key it seals and opens. */
  source: string;
  secret: string;
  /** The secret `secret` replaces: what it sealed still opens. */
  previousSecret?: string | undefined;
}): KeyCipher {
  const { source, secret, previousSecret } = input;
  const unreadable = (cause: unknown) =>
    new AppError(
      'ODOO_KEY_UNREADABLE',
      `the stored Odoo API key of source ${source} does not open with its secret (apiKeySecret, or ODOO_API_KEY_SECRET): another secret, or a changed value`,
      { cause },
    );
  const purpose = purposeOf(source);
  const current = createSealer({ secret, purpose, unreadable });
  const readers = [
    createSealer({ secret, previousSecret, purpose, unreadable }),
    ...(purpose === SHARED_PURPOSE
      ? []
      : [createSealer({ secret, previousSecret, purpose: SHARED_PURPOSE, unreadable })]),
  ];
  return {
    seal: (plain) => current.seal(plain),
    open(sealed) {
      let refusal: unknown;
      for (const reader of readers) {
        try {
          return reader.open(sealed);
        } catch (error) {
          refusal ??= error;
        }
      }
      throw refusal;
    },
    sealsAsNow(sealed) {
      try {
        current.open(sealed);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** A key's name in the store and in status output: 16 hex characters of its SHA-256. */
export function fingerprintOf(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
}
