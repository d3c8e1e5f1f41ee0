/**
 * How a secret erp-bridge must use again is kept at rest in PostgreSQL: AES-256-GCM under a key
 * derived (HKDF-SHA256) from an operator's secret and the purpose it serves, a fresh 96-bit IV per
 * value, the tag checked on the way back. Every process derives the same key from the same
 * secret; a value that was changed, or sealed under another secret or for another purpose, does
 * not open. While the operator's secret changes, the previous one still opens what it sealed;
 * what is sealed anew is sealed under the new one.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export interface Sealer {
  /** `v1.<iv>.<tag>.<ciphertext>`, base64url parts. */
  seal(plain: string): string;
  /** @throws the caller's error when the value was changed or sealed otherwise */
  open(sealed: string): string;
}

/** Whether a stored value is one `seal` made. */
export const isSealed = (value: string): boolean => value.startsWith('v1.');

function keyOf(secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), purpose, 32));
}

/** `sealed` opened with `key`; throws when it does not open. */
function openWith(key: Buffer, sealed: string): string {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== 'v1' || iv === undefined || tag === undefined || body === undefined)
    throw new Error('not a sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([
    decipher.update(Buffer.from(body, 'base64url')),
    decipher.final(),
  ]).toString('utf8');
}

export function createSealer(options: {
  secret: string;
  /** Opens what it sealed while the secret changes. */
  previousSecret?: string | undefined;
  /** What the values are (HKDF's info): a value sealed for one purpose never opens for another. */
  purpose: string;
  /** The error a value that does not open becomes. */
  unreadable: (cause: unknown) => Error;
}): Sealer {
  const key = keyOf(options.secret, options.purpose);
  const previous =
    options.previousSecret === undefined
      ? undefined
      : keyOf(options.previousSecret, options.purpose);
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
        throw options.unreadable(error);
      }
    },
  };
}
