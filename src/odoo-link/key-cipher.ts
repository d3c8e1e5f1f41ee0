/**
 * How a renewed Odoo API key is kept at rest in PostgreSQL: AES-256-GCM under a key derived
 * (HKDF-SHA256) from ODOO_API_KEY_SECRET, a fresh 96-bit IV per value, the tag checked on the way
 * back. Every process derives the same key from the same secret; a value that was changed, or
 * sealed under another secret, does not open.
 *
 * Fingerprints name a key without revealing it: a SHA-256 prefix, safe because Odoo's keys are
 * 160 random bits (a password is never fingerprinted).
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { AppError } from '../lib/errors.js';

export interface KeyCipher {
  /** `v1.<iv>.<tag>.<ciphertext>`, base64url parts. */
  seal(plain: string): string;
  /** @throws AppError `ODOO_KEY_UNREADABLE` when the value was changed or sealed otherwise. */
  open(sealed: string): string;
}

const INFO = 'erp-bridge odoo api key v1';

function keyOf(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), INFO, 32));
}

/** `sealed` opened with `key`; throws when it does not open. */
function openWith(key: Buffer, sealed: string): string {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== 'v1' || iv === undefined || tag === undefined || body === undefined)
    throw new Error('not a sealed key');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([
    decipher.update(Buffer.from(body, 'base64url')),
    decipher.final(),
  ]).toString('utf8');
}

/** Seals under `secret`; opens what `secret`, or `previousSecret` while it changes, sealed. */
export function createKeyCipher(secret: string, previousSecret?: string): KeyCipher {
  const key = keyOf(secret);
  const previous = previousSecret === undefined ? undefined : keyOf(previousSecret);
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      const parts = [iv, cipher.getAuthTag(), body].map((part) => part.toString('base64url'));
      return `v1.${parts.join('.')}`;
    },
    open(sealed) {
      try {
        return openWith(key, sealed);
      } catch (error) {
        try {
          if (previous !== undefined) return openWith(previous, sealed);
        } catch {
          // Neither secret opens it: the first one's failure says why.
        }
        throw new AppError(
          'ODOO_KEY_UNREADABLE',
          'the stored Odoo API key does not open with ODOO_API_KEY_SECRET (another secret, or a changed value)',
          { cause: error },
        );
      }
    },
  };
}

/** A key's name in the store and in status output: 16 hex characters of its SHA-256. */
export function fingerprintOf(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
}
