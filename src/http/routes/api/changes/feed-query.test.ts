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
  it("keeps to the default source unasked, as before a second source came: another source's, or every source's, when named", () => {
    const familiesOf = (query: Parameters<typeof filterOf>[1]) =>
      filterOf(families, query).filter.families;
    expect(filterOf(families, {})).toEqual({
      filter: { families: ['bcs', 'partners'], models: [] },
      sources: ['default'],
      everySource: false,
    });
    expect(familiesOf({ family: ['bcs'] })).toEqual(['bcs']);
    expect(familiesOf({ source: ['acme'] })).toEqual(['acme.bcs']);
    expect(familiesOf({ source: ['default'] })).toEqual(['bcs', 'partners']);
    expect(familiesOf({ source: ['default', 'acme'], family: ['bcs'] })).toEqual([
      'bcs',
      'acme.bcs',
    ]);
    expect(filterOf(families, { source: ['*'] })).toEqual({
      filter: { families: ['bcs', 'partners', 'acme.bcs'], models: [] },
      sources: ['default', 'acme'],
      everySource: true,
    });
    expect(familiesOf({ source: ['*'], family: ['bcs'] })).toEqual(['bcs', 'acme.bcs']);
    expect(filterOf(families, { source: ['acme'], model: ['dimagaz.bc'] }).filter).toEqual({
      families: ['acme.bcs'],
      models: ['dimagaz.bc'],
    });
  });

  it('reads every source where the deployment has no default one', () => {
    const only = createFamilies([
      familyInSource(bcsFamily, { name: 'acme', schema: 'acme' }),
      familyInSource(bcsFamily, { name: 'globex', schema: 'globex' }),
    ]);
    expect(filterOf(only, {}).filter.families).toEqual(['acme.bcs', 'globex.bcs']);
  });

  it("keeps a key limited to sources to their changes, and refuses it another's", () => {
    const portal = { name: 'portal', role: 'reader' as const, sources: ['acme'] };
    expect(filterOf(families, {}, portal).filter.families).toEqual(['acme.bcs']);
    expect(filterOf(families, { family: ['bcs'] }, portal).filter.families).toEqual(['acme.bcs']);
    expect(filterOf(families, { source: ['*'] }, portal)).toMatchObject({
      filter: { families: ['acme.bcs'] },
      sources: ['acme'],
    });
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
