import { describe, expect, it } from 'vitest';
import { testConfig } from '../../test/helpers/test-app.js';
import { parseApiKeys } from './api-keys.js';

const hash = 'A'.repeat(64);

describe('API_KEYS', () => {
  it('reads a key limited to sources, and one that is not', () => {
    expect(parseApiKeys(`portal:reader:${hash}:acme+default,ops:operator:${hash}`)).toEqual({
      entries: [
        { name: 'portal', role: 'reader', sha256: 'a'.repeat(64), sources: ['acme', 'default'] },
        { name: 'ops', role: 'operator', sha256: 'a'.repeat(64) },
      ],
      problems: [],
    });
  });

  it('refuses sources that are no source names, naming the entry and never its hash', () => {
    const { problems } = parseApiKeys(`portal:reader:${hash}:Acme+,ops:admin:${hash}:`);
    expect(problems).toEqual([
      'entry 1: its sources are source names joined by "+" (default+acme)',
      'entry 2: its sources are source names joined by "+" (default+acme)',
    ]);
    expect(problems.join('')).not.toContain(hash);
  });

  it('refuses at boot a key limited to a source that is not one', () => {
    expect(() => testConfig({ API_KEYS: `portal:reader:${hash}:acme` })).toThrow(
      'API_KEYS: key "portal" names the source "acme", which is not one (sources: default)',
    );
  });
});
