import { describe, expect, it } from 'vitest';
import { createSealer } from '../lib/sealed-secret.js';
import { createKeyCipher, fingerprintOf } from './key-cipher.js';

const SECRET = 'a-secret-of-at-least-thirty-two-characters';
const KEY = '0123456789abcdef0123456789abcdef01234567';
const unreadable = expect.objectContaining({ code: 'ODOO_KEY_UNREADABLE' });

const cipher = (source: string, secret = SECRET, previousSecret?: string) =>
  createKeyCipher({ source, secret, previousSecret });

describe('the API key cipher', () => {
  it('seals a key so that only the same secret opens it, never showing it', () => {
    const sealed = cipher('default').seal(KEY);
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain(KEY);
    expect(sealed).not.toContain(Buffer.from(KEY).toString('base64url'));
    // Another process, the same secret: the same key.
    expect(cipher('default').open(sealed)).toBe(KEY);
    // A fresh IV each time.
    expect(cipher('default').seal(KEY)).not.toBe(sealed);
  });

  it('refuses a value sealed under another secret or changed at rest', () => {
    const sealed = cipher('default').seal(KEY);
    expect(() => cipher('default', `${SECRET}!`).open(sealed)).toThrow(unreadable);
    const [version, iv, tag, body] = sealed.split('.') as [string, string, string, string];
    const flipped = `${body[0] === 'A' ? 'B' : 'A'}${body.slice(1)}`;
    expect(() => cipher('default').open([version, iv, tag, flipped].join('.'))).toThrow(unreadable);
    expect(() => cipher('default').open('not sealed')).toThrow(unreadable);
  });

  it('seals a key for its source alone: no other source opens it, even under the same secret', () => {
    const acme = cipher('acme').seal(KEY);
    const byDefault = cipher('default').seal(KEY);
    expect(cipher('acme').open(acme)).toBe(KEY);
    expect(() => cipher('default').open(acme)).toThrow(unreadable);
    expect(() => cipher('globex').open(acme)).toThrow(unreadable);
    expect(() =>
      cipher('acme', 'acme-own-secret-of-thirty-two-characters').open(byDefault),
    ).toThrow(unreadable);
  });

  it('opens what the previous secret sealed while the secret changes, and seals under the new one', () => {
    const NEW = 'another-secret-of-at-least-thirty-two-chars';
    const sealedBefore = cipher('default').seal(KEY);
    const changing = cipher('default', NEW, SECRET);
    expect(changing.open(sealedBefore)).toBe(KEY);
    expect(changing.sealsAsNow(sealedBefore)).toBe(false);
    const sealedNow = changing.seal(KEY);
    expect(changing.sealsAsNow(sealedNow)).toBe(true);
    expect(cipher('default', NEW).open(sealedNow)).toBe(KEY);
    expect(() => cipher('default').open(sealedNow)).toThrow(unreadable);
    // Without the previous secret, what it sealed no longer opens.
    expect(() => cipher('default', NEW).open(sealedBefore)).toThrow(unreadable);
  });

  it("opens a source's key sealed before keys were sealed per source, and says it is sealed otherwise now", () => {
    // How every source's key was sealed: under ODOO_API_KEY_SECRET, for one purpose.
    const before = createSealer({
      secret: SECRET,
      purpose: 'erp-bridge odoo api key v1',
      unreadable: () => new Error('unreadable'),
    }).seal(KEY);
    expect(cipher('acme').open(before)).toBe(KEY);
    expect(cipher('acme').sealsAsNow(before)).toBe(false);
    // Its own secret now, ODOO_API_KEY_SECRET as the one it replaces.
    const own = cipher('acme', 'acme-own-secret-of-thirty-two-characters', SECRET);
    expect(own.open(before)).toBe(KEY);
    expect(own.sealsAsNow(own.seal(KEY))).toBe(true);
    // The default source's keys are sealed as they always were.
    expect(cipher('default').sealsAsNow(before)).toBe(true);
  });

  it('names a key by 16 hex characters of its SHA-256', () => {
    expect(fingerprintOf(KEY)).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprintOf(KEY)).not.toBe(fingerprintOf(`${KEY.slice(0, -1)}8`));
  });
});
