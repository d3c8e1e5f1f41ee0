import { describe, expect, it } from 'vitest';
import { generateApiKey, parseApiKeys } from '../../config/api-keys.js';
import { createKeyMatcher } from '../../fastify/key-matcher.js';

describe('createKeyMatcher', () => {
  const reader = generateApiKey('portal', 'reader');
  const admin = generateApiKey('ops', 'admin');
  const { entries } = parseApiKeys(`${reader.entry},${admin.entry}`);

  it('finds the caller of each key, the same on every request, and no one for other keys', () => {
    const identify = createKeyMatcher(entries);
    for (let i = 0; i < 3; i += 1) {
      expect(identify(reader.key)).toEqual({ name: 'portal', role: 'reader' });
      expect(identify(admin.key)).toEqual({ name: 'ops', role: 'admin' });
      expect(identify(`${reader.key}x`)).toBeUndefined();
      expect(identify('')).toBeUndefined();
    }
  });

  it('still knows its keys after thousands of unknown ones went through its digest memo', () => {
    const identify = createKeyMatcher(entries);
    expect(identify(reader.key)).toEqual({ name: 'portal', role: 'reader' });
    for (let i = 0; i < 5_000; i += 1) expect(identify(`guess-${i}`)).toBeUndefined();
    expect(identify(reader.key)).toEqual({ name: 'portal', role: 'reader' });
    expect(identify('guess-1')).toBeUndefined();
  });
});
