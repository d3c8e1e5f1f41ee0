import { describe, expect, it } from 'vitest';
import { bcsFamily } from '../../../../families/bcs/family.js';
import { partnersFamily } from '../../../../families/partners/family.js';
import { createFamilies } from '../../../../families/registry.js';
import { familyInSource } from '../../../../families/source-family.js';
import { filterOf } from './feed-query.js';

const families = createFamilies([
  bcsFamily,
  partnersFamily,
  familyInSource(bcsFamily, { name: 'acme', schema: 'acme' }),
]);

describe("the feed's filter over several sources", () => {
  it('serves every family of every source unfiltered, and a source or a family of each asked', () => {
    expect(filterOf(families, {})).toEqual({
      families: ['bcs', 'partners', 'acme.bcs'],
      models: [],
    });
    expect(filterOf(families, { source: ['acme'] }).families).toEqual(['acme.bcs']);
    expect(filterOf(families, { source: ['default'] }).families).toEqual(['bcs', 'partners']);
    expect(filterOf(families, { family: ['bcs'] }).families).toEqual(['bcs', 'acme.bcs']);
    expect(filterOf(families, { source: ['acme'], family: ['bcs'] }).families).toEqual([
      'acme.bcs',
    ]);
    expect(filterOf(families, { source: ['acme'], model: ['dimagaz.bc'] })).toEqual({
      families: ['acme.bcs'],
      models: ['dimagaz.bc'],
    });
  });

  it("keeps a key limited to sources to their changes, and refuses it another's", () => {
    const portal = { name: 'portal', role: 'reader' as const, sources: ['acme'] };
    expect(filterOf(families, {}, portal).families).toEqual(['acme.bcs']);
    expect(filterOf(families, { family: ['bcs'] }, portal).families).toEqual(['acme.bcs']);
    // Another source is refused alike whether it is copied or not, and what the answers list as
    // copied is the key's: it learns nothing of another source's names, families or models.
    for (const source of ['default', 'globex'])
      expect(() => filterOf(families, { source: [source] }, portal)).toThrow(
        `the key "portal" reads the sources acme only, not ${source}`,
      );
    for (const family of ['partners', 'moves'])
      expect(() => filterOf(families, { family: [family] }, portal)).toThrow(
        `family: "${family}" is not copied here (copied: bcs)`,
      );
    for (const model of ['res.partner', 'account.move'])
      expect(() => filterOf(families, { model: [model] }, portal)).toThrow(
        `model: "${model}" is not copied here`,
      );
  });

  it('refuses a source, a family or a model not copied here, or outside the sources asked', () => {
    expect(() => filterOf(families, { source: ['globex'] })).toThrow(
      'source: "globex" is not copied here (copied: default, acme)',
    );
    expect(() => filterOf(families, { family: ['moves'] })).toThrow(
      'family: "moves" is not copied here (copied: bcs, partners)',
    );
    expect(() => filterOf(families, { source: ['acme'], model: ['res.partner'] })).toThrow(
      'model: "res.partner" belongs to the partners family, not among family= and source=',
    );
  });
});
