import { describe, expect, it } from 'vitest';
import { bcsFamily } from './bcs/family.js';
import { familyProblems } from './family.js';
import { partnersFamily } from './partners/family.js';
import { CODE_FAMILIES, createFamilies } from './registry.js';

describe('record families', () => {
  it('declared in code are sound: every column declared and written exists in its table', () => {
    expect(CODE_FAMILIES.flatMap(familyProblems)).toEqual([]);
  });

  it('find a model by name, root or child', () => {
    const families = createFamilies(CODE_FAMILIES);
    expect(families.ofModel('dimagaz.bc.line')).toMatchObject({
      family: bcsFamily,
      child: bcsFamily.children[0],
    });
    expect(families.ofModel('res.partner')?.family.name).toBe('partners');
    expect(families.ofModel('res.users')).toBeUndefined();
    expect(() => families.require('invoices')).toThrow(/no family "invoices" is copied here/);
  });

  it('know a family waiting for migrate, refuse its jobs by a code of their own, take it up once migrated', async () => {
    const waiting = {
      name: 'partners',
      models: ['res.partner'],
      reason: 'family partners was declared differently when migrate last ran: run migrate',
      schedule: {},
    };
    let migrated = false;
    const families = createFamilies([bcsFamily], {
      unavailable: [waiting],
      reload: () =>
        Promise.resolve(
          migrated
            ? { available: [bcsFamily, partnersFamily], unavailable: [] }
            : { available: [bcsFamily], unavailable: [waiting] },
        ),
    });
    expect(families.all).toEqual([bcsFamily]);
    expect(families.copies('partners')).toBe(true);
    expect(families.copies('moves')).toBe(false);
    expect(() => families.require('partners')).toThrow(
      expect.objectContaining({
        code: 'FAMILY_NOT_MIGRATED',
        retryable: false,
        message: expect.stringMatching(/^family partners .*: run migrate; /),
      }),
    );
    expect(() => families.require('moves')).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_FAMILY' }),
    );
    await families.refresh();
    expect(families.unavailable).toEqual([waiting]);
    migrated = true;
    await families.refresh();
    expect(families.require('partners')).toBe(partnersFamily);
    expect(families.unavailable).toEqual([]);
    expect(families.ofModel('res.partner')?.family).toBe(partnersFamily);
  });

  it('refuse a set where two families share a name or a model, or a column is missing', () => {
    const twin = { ...bcsFamily, name: 'bcs-again' };
    expect(() => createFamilies([bcsFamily, twin])).toThrow(
      /dimagaz\.bc is in both bcs and bcs-again/,
    );
    expect(() => createFamilies([bcsFamily, bcsFamily])).toThrow(/two families are named bcs/);
    const broken = {
      ...bcsFamily,
      name: 'broken',
      root: {
        ...bcsFamily.root,
        model: 'x.broken',
        columns: [{ ...bcsFamily.root.columns[0]!, column: 'nope' }],
      },
      children: [],
    };
    expect(familyProblems(broken)).toEqual([
      'broken: x.broken: table scrap_dimagaz_bc has no column nope',
    ]);
  });

  it('refuse a name that jobs and URLs cannot carry', () => {
    expect(familyProblems({ ...bcsFamily, name: 'Bad Name:1' })).toContain(
      'Bad Name:1: the name must be lowercase letters, digits, - or _, starting with a letter',
    );
  });
});
