import { describe, expect, it } from 'vitest';
import { FAMILY_KEY, selectFamilies, selectedSource } from './select-families.js';

const COPIED = ['bcs', 'partners', 'acme.bcs', 'acme.partners', 'globex.bcs'];

describe('a selection of families', () => {
  it('names a family by its key, or by its name within a source', () => {
    expect(selectFamilies(COPIED, { family: 'bcs' })).toEqual(['bcs']);
    expect(selectFamilies(COPIED, { family: 'acme.bcs' })).toEqual(['acme.bcs']);
    expect(selectFamilies(COPIED, { source: 'acme', family: 'bcs' })).toEqual(['acme.bcs']);
    expect(selectFamilies(COPIED, { source: 'acme', family: 'acme.bcs' })).toEqual(['acme.bcs']);
    expect(selectFamilies(COPIED, { source: 'default', family: 'bcs' })).toEqual(['bcs']);
    expect(selectFamilies(COPIED, { family: 'default.partners' })).toEqual(['partners']);
  });

  it("names every family of a source, or every family, in the copied families' order", () => {
    expect(selectFamilies(COPIED, { source: 'acme' })).toEqual(['acme.bcs', 'acme.partners']);
    expect(selectFamilies(COPIED, { source: 'default' })).toEqual(['bcs', 'partners']);
    expect(selectFamilies(COPIED, {})).toEqual(COPIED);
  });

  it('refuses a family or a source not copied here, and a key of another source, naming the option', () => {
    expect(() => selectFamilies(COPIED, { family: 'moves' })).toThrow(
      expect.objectContaining({
        code: 'UNKNOWN_FAMILY',
        option: 'family',
        message: `"moves" is not copied here (copied: ${COPIED.join(', ')})`,
      }),
    );
    expect(() => selectFamilies(COPIED, { source: 'globex', family: 'partners' })).toThrow(
      expect.objectContaining({
        code: 'UNKNOWN_FAMILY',
        message: expect.stringMatching(/^"globex\.partners" is not/) as unknown,
      }),
    );
    expect(() => selectFamilies(COPIED, { source: 'initech' })).toThrow(
      expect.objectContaining({
        code: 'UNKNOWN_SOURCE',
        option: 'source',
        message: '"initech" is not copied here (copied: default, acme, globex)',
      }),
    );
    expect(() => selectedSource({ source: 'globex', family: 'acme.bcs' })).toThrow(
      expect.objectContaining({ code: 'FAMILY_NOT_OF_SOURCE', option: 'family' }),
    );
  });

  it('says which source it names', () => {
    expect(selectedSource({})).toBeUndefined();
    expect(selectedSource({ family: 'bcs' })).toBe('default');
    expect(selectedSource({ family: 'acme.bcs' })).toBe('acme');
    expect(selectedSource({ source: 'acme', family: 'bcs' })).toBe('acme');
    expect(selectedSource({ source: 'globex' })).toBe('globex');
  });

  it('takes a key as familyKey writes it', () => {
    for (const key of ['bcs', 'acme.bcs', 'acme_2.my-family'])
      expect([key, FAMILY_KEY.test(key)]).toEqual([key, true]);
    for (const key of ['Acme.bcs', 'acme.', '.bcs', 'acme.bcs.x', 'acme-x.bcs', 'acme/bcs'])
      expect([key, FAMILY_KEY.test(key)]).toEqual([key, false]);
  });
});
