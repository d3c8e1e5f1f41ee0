/**
 * How a renewed Odoo API key is kept at rest in PostgreSQL: sealed (src/lib/sealed-secret.ts)
 * under ODOO_API_KEY_SECRET, or ODOO_API_KEY_SECRET_PREVIOUS while it changes.
 *
 * Fingerprints name a key without revealing it: a SHA-256 prefix, safe because Odoo's keys are
 * 160 random bits (a password is never fingerprinted).
 */
import { createHash } from 'node:crypto';
import { AppError } from '../lib/errors.js';
import { createSealer, type Sealer } from '../lib/sealed-secret.js';

/** `seal` gives `v1.<iv>.<tag>.<ciphertext>`; `open` throws `ODOO_KEY_UNREADABLE`. */
export type KeyCipher = Sealer;

/** Seals under `secret`; opens what `secret`, or `previousSecret` while it changes, sealed. */
export function createKeyCipher(secret: string, previousSecret?: string): KeyCipher {
  return createSealer({
    secret,
    previousSecret,
    purpose: 'erp-bridge odoo api key v1',
    unreadable: (cause) =>
      new AppError(
        'ODOO_KEY_UNREADABLE',
        'the stored Odoo API key does not open with ODOO_API_KEY_SECRET (another secret, or a changed value)',
        { cause },
      ),
  });
}

/** A key's name in the store and in status output: 16 hex characters of its SHA-256. */
export function fingerprintOf(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
}
