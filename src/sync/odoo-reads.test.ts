import { describe, expect, it } from 'vitest';
import { OdooError } from '../clients/odoo/odoo-errors.js';
import type { OdooRecord } from '../clients/odoo/odoo-types.js';
import { bcsFamily } from '../families/bcs/family.js';
import {
  createSchemaCache,
  SCAN_PAGE_SIZE,
  scanPages,
  scanTargetOf,
  withoutLink,
  type FamilySchema,
} from './odoo-reads.js';
import { readRootPageIsolating } from './isolated-pages.js';
import type { OdooSource } from './odoo-source.js';

const schema: FamilySchema = {
  fields: { 'dimagaz.bc': ['name', 'write_date'], 'dimagaz.bc.line': ['bc_id', 'write_date'] },
  unread: {},
  context: { active_test: false },
};
const isolating = (source: OdooSource, ids: number[]) =>
  readRootPageIsolating(source, bcsFamily, ids, schema);

/** An Odoo whose reads break on the poison BCs, or that is down altogether. */
function fakeOdoo(options: { poison?: number[]; down?: boolean; error?: () => OdooError }) {
  const reads: number[][] = [];
  const fail = options.error ?? (() => new OdooError('ODOO_NETWORK', 'reset', { retryable: true }));
  const source: OdooSource = {
    read: (_model, ids) => {
      reads.push([...ids]);
      if (options.down || ids.some((id) => options.poison?.includes(id)))
        return Promise.reject(fail());
      return Promise.resolve(
        ids.map((id): OdooRecord => ({ id, write_date: '2026-03-02 08:00:00' })),
      );
    },
    searchRead: () => Promise.resolve([]),
    search: () => (options.down ? Promise.reject(fail()) : Promise.resolve([])),
    storedFields: () => Promise.resolve([]),
    canRead: () => Promise.resolve(true),
    userContext: () => Promise.resolve({}),
  };
  return { source, reads };
}

describe('readRootPageIsolating', () => {
  it('splits a page until the BC that breaks it stands alone', async () => {
    const { source, reads } = fakeOdoo({ poison: [13] });
    const page = await isolating(source, [10, 11, 12, 13, 14, 15, 16, 17]);
    expect(page.items.map((item) => item.root.id)).toEqual([10, 11, 12, 14, 15, 16, 17]);
    expect(page.unreadable.map((entry) => [entry.odooId, entry.error.code])).toEqual([
      [13, 'ODOO_NETWORK'],
    ]);
    // log2(8) levels, not one read per BC.
    expect(reads.length).toBeLessThanOrEqual(8);
  });

  it('isolates record-level faults the same way', async () => {
    const { source } = fakeOdoo({
      poison: [2, 7],
      error: () => new OdooError('ODOO_SERVER_FAULT', 'broken compute'),
    });
    const page = await isolating(source, [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(page.unreadable.map((entry) => entry.odooId)).toEqual([2, 7]);
  });

  it('fails the page whole when Odoo is down, and never isolates refused credentials', async () => {
    await expect(isolating(fakeOdoo({ down: true }).source, [1, 2, 3, 4])).rejects.toMatchObject({
      code: 'ODOO_NETWORK',
    });
    const refused = fakeOdoo({ poison: [3], error: () => new OdooError('ODOO_AUTH', 'refused') });
    await expect(isolating(refused.source, [1, 2, 3, 4])).rejects.toMatchObject({
      code: 'ODOO_AUTH',
    });
    expect(refused.reads).toHaveLength(1);
  });
});

describe('createSchemaCache', () => {
  const source = (user: Record<string, unknown>) => {
    let contextCalls = 0;
    const odoo: OdooSource = {
      ...fakeOdoo({}).source,
      storedFields: () => Promise.resolve([{ name: 'name', type: 'char' }]),
      userContext: () => {
        contextCalls += 1;
        return Promise.resolve(user);
      },
    };
    return { odoo, calls: () => contextCalls };
  };

  it("reads with the user's lang and tz, overridden by the configured context; active_test is always false", async () => {
    const user = source({ lang: 'fr_FR', tz: 'Africa/Casablanca', uid: 2 });
    const schemaOf = createSchemaCache(60_000, { tz: 'UTC' });
    expect((await schemaOf(bcsFamily, user.odoo)).context).toEqual({
      lang: 'fr_FR',
      tz: 'UTC',
      active_test: false,
    });
    const configured = source({ lang: 'fr_FR' });
    const full = createSchemaCache(60_000, { lang: 'en_US', tz: 'UTC' });
    expect((await full(bcsFamily, configured.odoo)).context).toEqual({
      lang: 'en_US',
      tz: 'UTC',
      active_test: false,
    });
    expect(configured.calls()).toBe(0);
  });

  it('keeps the schema for its time to live, then reads it again', async () => {
    let nowMs = 0;
    const user = source({ lang: 'fr_FR', tz: 'UTC' });
    const schemaOf = createSchemaCache(1_000, {}, () => nowMs);
    const first = await schemaOf(bcsFamily, user.odoo);
    expect(first.fields).toEqual({
      'dimagaz.bc': ['name', 'write_date'],
      'dimagaz.bc.line': ['bc_id', 'name', 'write_date'],
    });
    nowMs = 999;
    await schemaOf(bcsFamily, user.odoo);
    expect(user.calls()).toBe(1);
    nowMs = 1_000;
    await schemaOf(bcsFamily, user.odoo);
    expect(user.calls()).toBe(2);
  });

  it('shares the schema between processes through its store, within the time to live', async () => {
    let nowMs = 10_000;
    let saved: { schema: FamilySchema; savedAtMs: number } | undefined;
    const store = {
      load: () => Promise.resolve(saved),
      save: (_family: string, schema: FamilySchema) => {
        saved = { schema, savedAtMs: nowMs };
        return Promise.resolve();
      },
    };
    const first = source({ lang: 'fr_FR', tz: 'UTC' });
    const schema = await createSchemaCache(1_000, {}, () => nowMs, store)(bcsFamily, first.odoo);
    expect(saved?.schema).toEqual(schema);
    // A fresh process within the TTL asks Odoo nothing.
    const fresh = source({ lang: 'fr_FR', tz: 'UTC' });
    nowMs = 10_500;
    expect(await createSchemaCache(1_000, {}, () => nowMs, store)(bcsFamily, fresh.odoo)).toEqual(
      schema,
    );
    expect(fresh.calls()).toBe(0);
    // Past it, it reads again and saves for the next one.
    nowMs = 11_000;
    await createSchemaCache(1_000, {}, () => nowMs, store)(bcsFamily, fresh.odoo);
    expect(fresh.calls()).toBe(1);
    expect(saved?.savedAtMs).toBe(11_000);
  });
});

describe('scanPages', () => {
  const page = (from: number, count: number): OdooRecord[] =>
    Array.from({ length: count }, (_, i) => ({ id: from + i, write_date: '2026-03-02 08:00:00' }));
  const asked: unknown[] = [];
  const source: OdooSource = {
    read: () => Promise.resolve([]),
    searchRead: (_model, domain) => {
      asked.push(domain);
      return Promise.resolve(
        asked.length === 1 ? page(1, SCAN_PAGE_SIZE) : page(SCAN_PAGE_SIZE + 1, 3),
      );
    },
    search: () => Promise.resolve([]),
    storedFields: () => Promise.resolve([]),
    canRead: () => Promise.resolve(true),
    userContext: () => Promise.resolve({}),
  };

  it('pages on id after the last id seen, within the window, until a short page', async () => {
    const pages: number[] = [];
    const since = new Date('2026-03-02T00:00:00Z');
    for await (const records of scanPages(source, scanTargetOf(bcsFamily.root), since, {}))
      pages.push(records.length);
    expect(pages).toEqual([SCAN_PAGE_SIZE, 3]);
    expect(asked).toEqual([
      [
        ['write_date', '>=', '2026-03-02 00:00:00'],
        ['id', '>', 0],
      ],
      [
        ['write_date', '>=', '2026-03-02 00:00:00'],
        ['id', '>', SCAN_PAGE_SIZE],
      ],
    ]);
  });
});

describe('withoutLink', () => {
  it("leaves the one2many out of its owner's reads, and reads no children by the ids it lists", () => {
    const listing: FamilySchema = {
      ...schema,
      fields: { ...schema.fields, 'dimagaz.bc': ['line_ids', 'name', 'write_date'] },
      childIds: { 'dimagaz.bc.line': 'line_ids' },
    };
    const without = withoutLink(listing, 'dimagaz.bc', 'line_ids');
    expect(without.fields['dimagaz.bc']).toEqual(['name', 'write_date']);
    expect(without.childIds).toEqual({});
    expect(withoutLink(schema, 'dimagaz.bc', 'line_ids').childIds).toBeUndefined();
  });
});
