/**
 * Over the external API Odoo answers in the context it is given: without the user's `lang`, the
 * names of translated targets (products, units, accounts, countries) come back in English, not in
 * the language the company's users read. In every family (test/helpers/family-cases.ts) the copy
 * reads with the sync user's own context, or ODOO_CONTEXT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { familyModels } from '../../src/families/family.js';
import {
  caseModels,
  createCaseHarness,
  FAMILY_CASES,
  LAGGING_CASES,
  type FamilyCase,
} from '../helpers/family-cases.js';
import { copyRows } from '../helpers/family-copy.js';
import type { SyncHarness } from '../helpers/sync-harness.js';

const nameOf = (value: unknown) => (value as [number, string])[1];

describe.each(FAMILY_CASES)('the language of the $name copy', languageOf);
describe.each(LAGGING_CASES)(
  'the language of the $name copy, read from a replica that lags',
  languageOf,
);

function languageOf(c: FamilyCase): void {
  let french: SyncHarness;
  let english: SyncHarness;
  beforeAll(async () => {
    const options = { size: { roots: 20, childrenPerRoot: 3 } };
    [french, english] = await Promise.all([
      createCaseHarness(c, options),
      createCaseHarness(c, { ...options, odooContext: { lang: 'en_US', tz: 'UTC' } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([french.dispose(), english.dispose()]);
  });

  /** The row's many2one whose target's name Odoo translates: its model, field and name column. */
  const translated = (h: SyncHarness) => {
    if ('none' in c.translated) throw new Error(`${c.name}: ${c.translated.none}`);
    const { field, model: name } = c.translated;
    const model = familyModels(h.family).find((m) => m.model === name)!;
    const nameColumn = model.columns.find((column) => column.field === field)!.nameColumn!;
    return { model, field, nameColumn };
  };
  const copiedNames = async (h: SyncHarness) => {
    const { model, nameColumn } = translated(h);
    return new Map((await copyRows(h.db.db, model)).map((row) => [row.odoo_id, row[nameColumn]]));
  };
  /** Every many2one of the row's records whose target's name differs in French and English. */
  const translatedMany2ones = (h: SyncHarness) => {
    const control = h.sandbox.control;
    return caseModels(c).flatMap((model) => {
      const fields = control
        .storedFields(model)
        .filter((name) => control.field(model, name)?.type === 'many2one');
      const en = new Map(
        control.records(model, { fields, lang: 'en_US' }).map((record) => [record.id, record]),
      );
      return control
        .records(model, { fields, lang: 'fr_FR' })
        .flatMap((record) =>
          fields
            .filter(
              (name) =>
                record[name] !== false && nameOf(record[name]) !== nameOf(en.get(record.id)![name]),
            )
            .map((name) => `${model}.${name}`),
        );
    });
  };

  it("reads in the sync user's own language: the names of translated targets as the users see them", async () => {
    await french.run('sync-run', { trigger: 'test' });
    expect(await french.diffWithSandbox()).toEqual([]);
    if ('none' in c.translated) {
      // The row says why its copy cannot show the language: none of its names is translated.
      expect(translatedMany2ones(french)).toEqual([]);
      return;
    }
    const control = french.sandbox.control;
    const { model, field } = translated(french);
    const en = new Map(
      control.records(model.model, { lang: 'en_US' }).map((record) => [record.id, record]),
    );
    const names = control
      .records(model.model, { lang: 'fr_FR' })
      .filter(
        (record) =>
          record[field] !== false && nameOf(record[field]) !== nameOf(en.get(record.id)![field]),
      );
    expect(names.length).toBeGreaterThan(0);
    const copies = await copiedNames(french);
    for (const record of names) expect(copies.get(record.id)).toBe(nameOf(record[field]));
  });

  it('ODOO_CONTEXT overrides it', async () => {
    await english.run('sync-run', { trigger: 'test' });
    if ('none' in c.translated) {
      expect(translatedMany2ones(english)).toEqual([]);
      return;
    }
    const control = english.sandbox.control;
    const { model, field } = translated(english);
    const en = control
      .records(model.model, { lang: 'en_US' })
      .filter((record) => record[field] !== false);
    const fr = new Map(
      control
        .records(model.model, { lang: 'fr_FR' })
        .map((record) => [record.id, nameOf(record[field])]),
    );
    expect(
      en.filter((record) => nameOf(record[field]) !== fr.get(record.id)).length,
    ).toBeGreaterThan(0);
    const copies = await copiedNames(english);
    for (const record of en) expect(copies.get(record.id)).toBe(nameOf(record[field]));
  });
}
