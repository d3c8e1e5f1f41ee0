import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app.js';
import { mapBc } from '../../src/sync/map-records.js';
import { writeBcs } from '../../src/sync/write-bcs.js';
import { bearer, createTestApp } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { fakeBc, fakeLine, seedBcs } from '../helpers/seed-bcs.js';

interface BcBody {
  odooId: number;
  name: string | null;
  state: string | null;
  partner: { id: number; name: string | null } | null;
  dateOrder: string | null;
  amountTotal: string | null;
  origin: string | null;
  active: boolean;
  archivedAt: string | null;
  data: Record<string, unknown>;
  lines?: { odooId: number; data: Record<string, unknown> }[];
}
interface Page {
  items: BcBody[];
  nextCursor: string | null;
}

const IDS = Array.from({ length: 120 }, (_, i) => i + 1);

describe('BC endpoints', () => {
  let db: TestDb;
  let app: App;
  beforeAll(async () => {
    db = await createTestDb();
    await seedBcs(db.db, IDS);
    await db.sql!`update scrap_dimagaz_bc set archived_at = now(), archive_reason = 'deleted in Odoo' where odoo_id in (7, 8)`;
    app = await createTestApp(db);
  });
  afterAll(async () => {
    await app.close();
    await db.dispose();
  });

  const list = async (query: string) => {
    const response = await app.inject({ url: `/api/bcs${query}`, headers: bearer('reader') });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<Page>();
  };
  const walk = async (query: string, between?: (page: number) => Promise<void>) => {
    const seen: BcBody[] = [];
    let cursor: string | null = null;
    let page = 0;
    do {
      const sep = query ? '&' : '?';
      const body: Page = await list(
        `${query}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      seen.push(...body.items);
      cursor = body.nextCursor;
      page += 1;
      if (between) await between(page);
    } while (cursor);
    return seen;
  };

  it('lists live BCs by Odoo id with a default page size, hiding archived ones', async () => {
    const body = await list('');
    expect(body.items).toHaveLength(50);
    expect(body.items[0]!.odooId).toBe(1);
    expect(body.items.map((bc) => bc.odooId)).not.toContain(7);
    const all = await walk('?limit=17');
    expect(all.map((bc) => bc.odooId)).toEqual(IDS.filter((id) => id !== 7 && id !== 8));
    const withArchived = await walk('?includeArchived=true&limit=40');
    expect(withArchived).toHaveLength(120);
    expect(withArchived.find((bc) => bc.odooId === 7)!.archivedAt).not.toBeNull();
  });

  it('filters by state, partner, order dates, update time, text and the Odoo active flag', async () => {
    const states = await walk('?state=draft,done&limit=200');
    expect(states.length).toBeGreaterThan(0);
    expect(new Set(states.map((bc) => bc.state))).toEqual(new Set(['draft', 'done']));

    const partner = await walk('?partnerId=12&limit=200');
    expect(partner.length).toBeGreaterThan(0);
    expect(partner.every((bc) => bc.partner?.id === 12)).toBe(true);

    const dated = await walk('?orderedFrom=2026-01-10&orderedTo=2026-01-20T00:00:00Z&limit=200');
    expect(dated.length).toBeGreaterThan(0);
    for (const bc of dated) {
      expect(bc.dateOrder! >= '2026-01-10').toBe(true);
      expect(bc.dateOrder! < '2026-01-20').toBe(true);
    }

    const updated = await walk('?updatedSince=2026-03-01T00:59:00Z&limit=200');
    expect(updated.map((bc) => bc.odooId).sort((a, b) => a - b)).toEqual(
      IDS.filter((id) => id % 3600 >= 3540 && id !== 7 && id !== 8),
    );

    const text = await walk('?q=SO10&limit=200');
    expect(text.map((bc) => bc.odooId).sort((a, b) => a - b)).toEqual([10, 100, 105]);
    expect((await walk('?q=p0001&limit=200')).map((bc) => bc.odooId)).toEqual([
      10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
    ]);

    const inactive = await walk('?active=false&limit=200');
    expect(inactive.map((bc) => bc.odooId)).toEqual(IDS.filter((id) => id % 11 === 0));
  });

  it.each([
    ['dateOrder', (a: BcBody, b: BcBody) => (a.dateOrder ?? '') <= (b.dateOrder ?? '')],
    ['-dateOrder', (a: BcBody, b: BcBody) => (a.dateOrder ?? '') >= (b.dateOrder ?? '')],
    ['amountTotal', (a: BcBody, b: BcBody) => Number(a.amountTotal) <= Number(b.amountTotal)],
    ['-name', (a: BcBody, b: BcBody) => (a.name ?? '') >= (b.name ?? '')],
    ['-odooId', (a: BcBody, b: BcBody) => a.odooId > b.odooId],
  ])('sorts by %s across pages, each row once', async (sort, ordered) => {
    const rows = await walk(`?sort=${sort}&limit=13`);
    expect(rows).toHaveLength(118);
    expect(new Set(rows.map((bc) => bc.odooId)).size).toBe(118);
    for (let i = 1; i < rows.length; i += 1) expect(ordered(rows[i - 1]!, rows[i]!)).toBe(true);
  });

  it('walking all pages returns every row once even while a sync updates and inserts rows between pages', async () => {
    const rows = await walk('?limit=10', async (page) => {
      const id = page * 7;
      await writeBcs(
        db.db,
        [
          mapBc({
            bc: fakeBc(id, {
              origin: `changed on page ${page}`,
              write_date: '2026-04-01 00:00:00',
            }),
            lines: [],
          }),
        ],
        { runId: null, lease: null },
      );
    });
    expect(rows.map((bc) => bc.odooId)).toEqual(IDS.filter((id) => id !== 7 && id !== 8));
  });

  it('answers a BC with its lines, equal to what is stored, and its lines and history', async () => {
    const response = await app.inject({ url: '/api/bcs/41', headers: bearer('reader') });
    expect(response.statusCode).toBe(200);
    const bc = response.json<BcBody>();
    expect(bc.data).toEqual(fakeBc(41));
    expect(bc.partner).toEqual({ id: 13, name: 'Maghreb Valves' });
    expect(bc.amountTotal).toBe(String(fakeBc(41).amount_total));
    expect(bc.lines!.map((line) => line.data)).toEqual([fakeLine(41, 1), fakeLine(41, 2)]);

    const lines = await app.inject({ url: '/api/bcs/41/lines', headers: bearer('reader') });
    expect(lines.json<{ items: unknown[] }>().items).toHaveLength(2);
    const first = await app.inject({ url: '/api/bcs/41/lines?limit=1', headers: bearer('reader') });
    const firstPage = first.json<{ items: { odooId: number }[]; nextCursor: string }>();
    expect(firstPage.items).toHaveLength(1);
    const second = await app.inject({
      url: `/api/bcs/41/lines?limit=1&after=${firstPage.nextCursor}`,
      headers: bearer('reader'),
    });
    const secondPage = second.json<{ items: { odooId: number }[]; nextCursor: string | null }>();
    expect(secondPage.nextCursor).toBeNull();
    expect([...firstPage.items, ...secondPage.items].map((line) => line.odooId)).toEqual(
      lines.json<{ items: { odooId: number }[] }>().items.map((line) => line.odooId),
    );
    for (const after of ['1e300', '9999999999_1', 'x_1', '1_%00'])
      expect(
        (
          await app.inject({
            url: `/api/bcs/41/lines?after=${after}`,
            headers: bearer('reader'),
          })
        ).statusCode,
        after,
      ).toBe(400);

    const history = await app.inject({ url: '/api/bcs/41/history', headers: bearer('reader') });
    const actions = history
      .json<{ items: { model: string; action: string }[] }>()
      .items.map((a) => `${a.model}:${a.action}`);
    expect(actions.sort()).toEqual([
      'dimagaz.bc.line:created',
      'dimagaz.bc.line:created',
      'dimagaz.bc:created',
    ]);
  });

  it('answers 404 JSON for an unknown BC', async () => {
    for (const url of ['/api/bcs/999999', '/api/bcs/999999/lines']) {
      const response = await app.inject({ url, headers: bearer('reader') });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ error: 'NOT_FOUND', message: 'no BC with Odoo id 999999' });
    }
  });
});
