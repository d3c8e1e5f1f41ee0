import { describe, expect, it } from 'vitest';
import { createKeyCipher, fingerprintOf } from './key-cipher.js';

const SECRET = 'a-secret-of-at-least-thirty-two-characters';
const KEY = '0123456789abcdef0123456789abcdef01234567';

describe('the API key cipher', () => {
  it('seals a key so that only the same secret opens it, never showing it', () => {
    const sealed = createKeyCipher(SECRET).seal(KEY);
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain(KEY);
    expect(sealed).not.toContain(Buffer.from(KEY).toString('base64url'));
    // Another process, the same secret: the same key.
    expect(createKeyCipher(SECRET).open(sealed)).toBe(KEY);
    // A fresh IV each time.
    expect(createKeyCipher(SECRET).seal(KEY)).not.toBe(sealed);
  });

  it('refuses a value sealed under another secret or changed at rest', () => {
    const sealed = createKeyCipher(SECRET).seal(KEY);
    expect(() => createKeyCipher(`${SECRET}!`).open(sealed)).toThrow(
      expect.objectContaining({ code: 'ODOO_KEY_UNREADABLE' }),
    );
    const [version, iv, tag, body] = sealed.split('.') as [string, string, string, string];
    const flipped = `${body[0] === 'A' ? 'B' : 'A'}${body.slice(1)}`;
    expect(() => createKeyCipher(SECRET).open([version, iv, tag, flipped].join('.'))).toThrow(
      expect.objectContaining({ code: 'ODOO_KEY_UNREADABLE' }),
    );
    expect(() => createKeyCipher(SECRET).open('not sealed')).toThrow(
      expect.objectContaining({ code: 'ODOO_KEY_UNREADABLE' }),
    );
  });

  it('opens what the previous secret sealed while the secret changes, and seals under the new one', () => {
    const NEW = 'another-secret-of-at-least-thirty-two-chars';
    const sealedBefore = createKeyCipher(SECRET).seal(KEY);
    const changing = createKeyCipher(NEW, SECRET);
    expect(changing.open(sealedBefore)).toBe(KEY);
    const sealedNow = changing.seal(KEY);
    expect(createKeyCipher(NEW).open(sealedNow)).toBe(KEY);
    expect(() => createKeyCipher(SECRET).open(sealedNow)).toThrow(
      expect.objectContaining({ code: 'ODOO_KEY_UNREADABLE' }),
    );
    // Without the previous secret, what it sealed no longer opens.
    expect(() => createKeyCipher(NEW).open(sealedBefore)).toThrow(
      expect.objectContaining({ code: 'ODOO_KEY_UNREADABLE' }),
    );
  });

  it('names a key by 16 hex characters of its SHA-256', () => {
    expect(fingerprintOf(KEY)).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprintOf(KEY)).not.toBe(fingerprintOf(`${KEY.slice(0, -1)}8`));
  });
});
