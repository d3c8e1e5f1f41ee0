/**
 * The language of the other families' copies (test/sync/language.test.ts for BCs): over the
 * external API Odoo answers in the context it is given, so without the sync user's `lang` the
 * names of translated targets (accounts, countries) would come back in English. The copy reads
 * with the sync user's own context, or ODOO_CONTEXT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { familyModels } from '../../../src/families/family.js';
import { FAMILY_CASES } from '../../helpers/family-cases.js';
import { copyRows } from '../../helpers/family-copy.js';
import { createSyncHarness, type SyncHarness } from '../../helpers/sync-harness.js';

const nameOf = (value: unknown) => (value as [number, string])[1];

describe.each(FAMILY_CASES)('the language of the $family.name copy', (c) => {
  const model = familyModels(c.family).find((m) => m.model === c.translated.model)!;
  const { field } = c.translated;
  const nameColumn = model.columns.find((column) => column.field === field)!.nameColumn!;
  let french: SyncHarness;
  let english: SyncHarness;
  beforeAll(async () => {
    const sandbox = c.sandbox({ roots: 20, childrenPerRoot: 3 });
    [french, english] = await Promise.all([
      createSyncHarness({ families: [c.family], sandbox }),
      createSyncHarness({
        families: [c.family],
        sandbox,
        odooContext: { lang: 'en_US', tz: 'UTC' },
      }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([french.dispose(), english.dispose()]);
  });

  const copiedNames = async (h: SyncHarness) =>
    new Map((await copyRows(h.db.db, model)).map((row) => [row.odoo_id, row[nameColumn]]));

  it("reads in the sync user's own language: the names of translated targets as the users see them", async () => {
    await french.run('sync-run', { trigger: 'test' });
    const control = french.sandbox.control;
    const en = new Map(
      control.records(model.model, { lang: 'en_US' }).map((record) => [record.id, record]),
    );
    const translated = control
      .records(model.model, { lang: 'fr_FR' })
      .filter(
        (record) =>
          record[field] !== false && nameOf(record[field]) !== nameOf(en.get(record.id)![field]),
      );
    expect(translated.length).toBeGreaterThan(0);
    const copies = await copiedNames(french);
    for (const record of translated) expect(copies.get(record.id)).toBe(nameOf(record[field]));
    expect(await french.diffWithSandbox()).toEqual([]);
  });

  it('ODOO_CONTEXT overrides it', async () => {
    await english.run('sync-run', { trigger: 'test' });
    const en = english.sandbox.control
      .records(model.model, { lang: 'en_US' })
      .filter((record) => record[field] !== false);
    const fr = new Map(
      english.sandbox.control
        .records(model.model, { lang: 'fr_FR' })
        .map((record) => [record.id, nameOf(record[field])]),
    );
    expect(
      en.filter((record) => nameOf(record[field]) !== fr.get(record.id)).length,
    ).toBeGreaterThan(0);
    const copies = await copiedNames(english);
    for (const record of en) expect(copies.get(record.id)).toBe(nameOf(record[field]));
  });
});
