import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrapDimagazBc, scrapDimagazBcLine } from '../../src/families/bcs/tables.js';
import type { App } from '../../src/http/app.js';
import { bcLineSchema, bcSchema } from '../../src/http/schemas/bc.js';
import { bearer, createTestApp, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { fakeBc, fakeLine, mapBc, seedBcs, writeBcs } from '../helpers/seed-bcs.js';

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
    // Records gone from Odoo are an operator's option (API_READERS_SEE_ARCHIVED).
    const role = query.includes('includeArchived=true') ? 'operator' : 'reader';
    const response = await app.inject({ url: `/api/bcs${query}`, headers: bearer(role) });
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

  it("gives a BC's first 200 lines in the lines route's order, and its cursor to the rest", async () => {
    // Ties on sequence and lines without one: the order falls back to the Odoo id, nulls last.
    await db.sql!`
      insert into scrap_dimagaz_bc_line (odoo_id, bc_odoo_id, sequence, name, odoo_write_date, data)
      select 1000000 + n, 42, case when n % 7 = 0 then null else n % 50 end, 'line ' || n, now(),
        '{}'::jsonb
      from generate_series(1, 203) as n`;
    type LinesPage = { items: { odooId: number }[]; nextCursor: string | null };
    const detail = await app.inject({ url: '/api/bcs/42', headers: bearer('reader') });
    const bc = detail.json<BcBody & { linesNextCursor: string | null }>();
    const page = (
      await app.inject({ url: '/api/bcs/42/lines?limit=200', headers: bearer('reader') })
    ).json<LinesPage>();
    expect(bc.lines!.map((line) => line.odooId)).toEqual(page.items.map((line) => line.odooId));
    expect(bc.lines![0]).toEqual(page.items[0]);
    expect(bc.linesNextCursor).toBe(page.nextCursor);
    const rest = (
      await app.inject({
        url: `/api/bcs/42/lines?after=${bc.linesNextCursor}`,
        headers: bearer('reader'),
      })
    ).json<LinesPage>();
    expect(rest.nextCursor).toBeNull();
    const all = [...bc.lines!, ...rest.items].map((line) => line.odooId);
    const [row] = await db.sql!<
      { count: number }[]
    >`select count(*)::int as count from scrap_dimagaz_bc_line where bc_odoo_id = 42`;
    expect(all).toHaveLength(row!.count);
    expect(new Set(all).size).toBe(row!.count);
    expect(all.slice(-29)).toEqual(Array.from({ length: 29 }, (_, i) => 1_000_000 + 7 * (i + 1)));
  });

  it('decodes forged cursors totally: a value PostgreSQL would reject is a 400, for every sort', async () => {
    const cursor = (sort: string, value: unknown, id: unknown = 1) =>
      Buffer.from(JSON.stringify([sort, value, id])).toString('base64url');
    const forged: [string, unknown, unknown?][] = [
      ['odooId', '9999999999'],
      ['odooId', '2147483648'],
      ['odooId', '-2147483649'],
      ['odooId', '1', 2_147_483_648],
      ['odooId', '1', 1e20],
      ['odooId', '1', -2_147_483_649],
      ['name', 'a\u0000b'],
      ['name', '\ud800'],
      ['name', 'x', 99_999_999_999],
      ['dateOrder', '2026-13-01T00:00:00.000Z'],
      ['dateOrder', '2026-02-30T00:00:00.000Z'],
      ['dateOrder', '2026-01-01T24:00:00.000Z'],
      ['dateOrder', '2026-01-01T00:60:00.000Z'],
      ['dateOrder', '2026-01-01T00:00:60.000Z'],
      ['dateOrder', '0000-01-01T00:00:00.000Z'],
      ['dateOrder', '294277-01-01T00:00:00.000Z'],
      ['dateOrder', '-infinity', 3_000_000_000],
      ['odooWriteDate', '2025-02-29T00:00:00.000Z'],
      ['odooWriteDate', '9999999-01-01T00:00:00.000Z'],
      ['amountTotal', '1e999999'],
      ['amountTotal', 'nan'],
    ];
    for (const [sort, value, id] of forged)
      for (const direction of ['', '-']) {
        const response = await app.inject({
          url: `/api/bcs?sort=${direction}${sort}&cursor=${cursor(`${direction}${sort}`, value, id)}`,
          headers: bearer('reader'),
        });
        expect(
          response.statusCode,
          `${direction}${sort} ${JSON.stringify([value, id])}: ${response.body}`,
        ).toBe(400);
        expect(response.json()).toMatchObject({ error: 'BAD_CURSOR' });
      }
    // Values PostgreSQL takes, the infinities and the largest years included, page normally.
    for (const [sort, value] of [
      ['odooId', '2147483647'],
      ['odooId', '-2147483648'],
      ['name', 'Zoë 😀'],
      ['dateOrder', 'infinity'],
      ['dateOrder', '-infinity'],
      ['dateOrder', '2024-02-29T23:59:59.999Z'],
      ['dateOrder', '294276-12-31T23:59:59.999Z'],
      ['odooWriteDate', '0001-01-01T00:00:00.000Z'],
      ['amountTotal', 'NaN'],
      ['amountTotal', 'Infinity'],
      ['amountTotal', '-Infinity'],
      ['amountTotal', '-12.5e-3'],
      ['amountTotal', `1${'0'.repeat(300)}e999`],
    ] as const) {
      const page = await list(`?sort=${sort}&cursor=${cursor(sort, value, 2_147_483_647)}`);
      expect(page.items, `${sort} ${value}`).toBeInstanceOf(Array);
    }
  });

  it('refuses a date or an instant PostgreSQL would refuse with a 400 naming the parameter', async () => {
    for (const [parameter, value] of [
      ['orderedFrom', '0000-01-01'],
      ['orderedTo', '0000-12-31T23:59:59Z'],
      // Year 0001 here, year 0000 in UTC.
      ['orderedFrom', '0001-01-01T00:30:00+01:00'],
      // Year 9999 here, 10000 in UTC.
      ['orderedTo', '9999-12-31T23:00:00-05:00'],
      ['updatedSince', '0000-06-01T00:00:00Z'],
    ]) {
      const response = await app.inject({
        url: `/api/bcs?sort=name&${parameter}=${encodeURIComponent(value!)}`,
        headers: bearer('reader'),
      });
      expect([parameter, value, response.statusCode]).toEqual([parameter, value, 400]);
      expect(response.json()).toMatchObject({
        error: 'BAD_REQUEST',
        message: expect.stringContaining(`querystring.${parameter}`),
      });
    }
    // The calendar's first and last days are values like any other.
    expect((await list('?orderedFrom=0001-01-01&orderedTo=9999-12-31')).items.length).toBe(50);
  });

  it('refuses a text search the trigram index cannot look up: three letters or digits in a row', async () => {
    for (const q of ['P0', 'a b', '_%_', '1.2.3']) {
      const response = await app.inject({
        url: `/api/bcs?q=${encodeURIComponent(q)}`,
        headers: bearer('reader'),
      });
      expect([q, response.statusCode]).toEqual([q, 400]);
      expect(response.json()).toMatchObject({
        error: 'BAD_REQUEST',
        message: expect.stringContaining('querystring.q'),
      });
    }
    expect((await list('?q=P00')).items.length).toBeGreaterThan(0);
    expect((await list('?q=Zoë')).items).toEqual([]);
  });

  it('pages past a BC whose name is a thousand characters long, sorted by name', async () => {
    const long = `Z${'é'.repeat(1_500)}`;
    await db.db.update(scrapDimagazBc).set({ name: long }).where(eq(scrapDimagazBc.odooId, 1));
    const seen = await walk('?sort=-name&limit=50');
    const live = await db.sql!<{ n: number }[]>`
      select count(*)::int as n from scrap_dimagaz_bc where archived_at is null`;
    expect(seen[0]!.name).toBe(long);
    expect(new Set(seen.map((bc) => bc.odooId)).size).toBe(live[0]!.n);
  });

  it('gives records gone from Odoo to operators, and to readers only where API_READERS_SEE_ARCHIVED says', async () => {
    for (const url of ['/api/bcs?includeArchived=true', '/api/bcs/7?includeArchived=true']) {
      const refused = await app.inject({ url, headers: bearer('reader') });
      expect([url, refused.statusCode]).toEqual([url, 403]);
      expect(refused.json()).toMatchObject({
        error: 'FORBIDDEN',
        message: expect.stringContaining('includeArchived=true needs the operator role') as unknown,
      });
      expect((await app.inject({ url, headers: bearer('operator') })).statusCode).toBe(200);
    }
    const open = await createTestApp(db, {
      config: testConfig({ API_READERS_SEE_ARCHIVED: 'true' }),
    });
    try {
      const shown = await open.inject({
        url: '/api/bcs/7?includeArchived=true',
        headers: bearer('reader'),
      });
      expect(shown.statusCode).toBe(200);
    } finally {
      await open.close();
    }
  });

  it('answers a BC gone from Odoo only when asked for, as the list does', async () => {
    await db.sql!`update scrap_dimagaz_bc set archived_at = now(), archive_reason = 'deleted in Odoo' where odoo_id = 7`;
    for (const url of ['/api/bcs/7', '/api/bcs/7/lines']) {
      const hidden = await app.inject({ url, headers: bearer('reader') });
      expect([url, hidden.statusCode]).toEqual([url, 404]);
      expect(hidden.json()).toEqual({ error: 'NOT_FOUND', message: 'no BC with Odoo id 7' });
    }
    const shown = await app.inject({
      url: '/api/bcs/7?includeArchived=true',
      headers: bearer('operator'),
    });
    expect(shown.statusCode).toBe(200);
    const bc = shown.json<BcBody>();
    expect(bc).toMatchObject({ odooId: 7, archivedAt: expect.any(String) });
    const lines = await app.inject({
      url: '/api/bcs/7/lines?includeArchived=true',
      headers: bearer('operator'),
    });
    expect(lines.json<{ items: { odooId: number }[] }>().items.map((line) => line.odooId)).toEqual(
      bc.lines!.map((line) => line.odooId),
    );
  });

  it('answers 404 JSON for an unknown BC', async () => {
    for (const url of ['/api/bcs/999999', '/api/bcs/999999/lines']) {
      const response = await app.inject({ url, headers: bearer('reader') });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ error: 'NOT_FOUND', message: 'no BC with Odoo id 999999' });
    }
  });
});

describe('BC bodies', () => {
  let db: TestDb;
  let app: App;
  beforeAll(async () => {
    db = await createTestDb();
    await writeBcs(
      db.db,
      [
        mapBc({
          bc: fakeBc(34, { partner_id: false, amount_untaxed: 1.5, notes: 'x'.repeat(3) }),
          lines: [fakeLine(34, 1, { product_id: false, price_unit: 0.1 })],
        }),
      ],
      { runId: null, lease: null },
    );
    await db.sql!`update scrap_dimagaz_bc
      set amount_untaxed = 1.50, date_planned = '2026-02-03 04:05:06.789123+00' where odoo_id = 34`;
    app = await createTestApp(db);
  });
  afterAll(async () => {
    await app.close();
    await db.dispose();
  });

  it('answers each field in its documented form: ISO instants in UTC to the millisecond, decimal text, null references', async () => {
    const [bc] = await db.db.select().from(scrapDimagazBc).where(eq(scrapDimagazBc.odooId, 34));
    const [line] = await db.db
      .select()
      .from(scrapDimagazBcLine)
      .where(eq(scrapDimagazBcLine.bcOdooId, 34));
    const expectedBc = {
      odooId: 34,
      name: 'P00034',
      state: fakeBc(34).state,
      partner: null,
      dateOrder: null,
      datePlanned: '2026-02-03T04:05:06.789Z',
      amountUntaxed: '1.50',
      amountTax: bc!.amountTax,
      amountTotal: String(fakeBc(34).amount_total),
      currency: { id: 1, name: 'MAD' },
      companyId: null,
      origin: null,
      active: true,
      archivedAt: null,
      archiveReason: null,
      odooWriteDate: bc!.odooWriteDate.toISOString(),
      syncedAt: bc!.syncedAt.toISOString(),
      data: fakeBc(34, { partner_id: false, amount_untaxed: 1.5, notes: 'xxx' }),
    };
    const expectedLine = {
      odooId: 341,
      bcOdooId: 34,
      sequence: 10,
      product: null,
      name: 'Bouteille 1 kg',
      productQty: '3',
      qtyReceived: '0',
      priceUnit: '0.1',
      priceSubtotal: '37.5',
      odooWriteDate: line!.odooWriteDate.toISOString(),
      syncedAt: line!.syncedAt.toISOString(),
      data: fakeLine(34, 1, { product_id: false, price_unit: 0.1 }),
    };

    const detail = await app.inject({ url: '/api/bcs/34', headers: bearer('reader') });
    expect(detail.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(detail.json()).toStrictEqual({
      ...expectedBc,
      lines: [expectedLine],
      linesNextCursor: null,
    });
    const page = await app.inject({ url: '/api/bcs', headers: bearer('reader') });
    expect(page.json()).toStrictEqual({ items: [expectedBc], nextCursor: null });
    const lines = await app.inject({ url: '/api/bcs/34/lines', headers: bearer('reader') });
    expect(lines.json()).toStrictEqual({ items: [expectedLine], nextCursor: null });
    expect(() => bcSchema.strict().parse(expectedBc)).not.toThrow();
    expect(() => bcLineSchema.strict().parse(expectedLine)).not.toThrow();
  });
});
