/**
 * Over the external API Odoo answers in the context it is given: without the user's `lang`,
 * translated names (products, units) come back in English, not in the language the company's
 * users read. The copy reads with the sync user's own context, or ODOO_CONTEXT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BC_LINE_MODEL } from '../../src/families/bcs/family.js';
import { createSyncHarness, ODOO_PROTOCOLS, type SyncHarness } from '../helpers/sync-harness.js';

const nameOf = (value: unknown) => (value as [number, string])[1];

describe.each(ODOO_PROTOCOLS)('the language of the copy over %s', (protocol) => {
  let french: SyncHarness;
  let english: SyncHarness;
  beforeAll(async () => {
    [french, english] = await Promise.all([
      createSyncHarness({ protocol, sandbox: { orders: 20, linesPerOrder: 3 } }),
      createSyncHarness({
        protocol,
        sandbox: { orders: 20, linesPerOrder: 3 },
        odooContext: { lang: 'en_US', tz: 'UTC' },
      }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([french.dispose(), english.dispose()]);
  });

  it("reads in the sync user's own language: product and unit names as the users see them", async () => {
    await french.run('sync-run', { trigger: 'test' });
    const c = french.sandbox.control;
    const fr = c.records(BC_LINE_MODEL, { lang: 'fr_FR' });
    const en = new Map(c.records(BC_LINE_MODEL, { lang: 'en_US' }).map((l) => [l.id, l]));
    const translated = fr.find(
      (line) => line.product_id && nameOf(line.product_id) !== nameOf(en.get(line.id)!.product_id),
    )!;
    const copy = (await french.lineRows()).find((line) => line.odooId === translated.id)!;
    expect(copy.productName).toBe(nameOf(translated.product_id));
    expect(nameOf(copy.data.product_uom)).toBe(nameOf(translated.product_uom));
    expect(await french.diffWithSandbox()).toEqual([]);
  });

  it('ODOO_CONTEXT overrides it', async () => {
    await english.run('sync-run', { trigger: 'test' });
    const c = english.sandbox.control;
    const en = c.records(BC_LINE_MODEL, { lang: 'en_US' }).filter((line) => line.product_id);
    const copies = new Map((await english.lineRows()).map((line) => [line.odooId, line]));
    for (const line of en) expect(copies.get(line.id)!.productName).toBe(nameOf(line.product_id));
  });
});
