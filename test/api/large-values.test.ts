/**
 * A value larger than the API's page budget (API_PAGE_MAX_BYTES) never reaches the API whole in a
 * list or a detail: PostgreSQL cuts it, and the record's largest values come as markers
 * (`erp-bridge:cut:<bytes>:<path>`) naming their size and the route that answers them whole, a
 * text in its column and in `data` alike; that route streams the value byte for byte, a text as
 * text and any other value as its JSON (docs/models.md, "The read API").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bcsFamily } from '../../src/families/bcs/family.js';
import { mapRoot } from '../../src/families/map-record.js';
import { createFamilies } from '../../src/families/registry.js';
import { placeCodeTables } from '../../src/families/source-tables.js';
import { buildApp, type App } from '../../src/http/app.js';
import { writeRoots } from '../../src/sync/write-records.js';
import { acmeBcs } from '../helpers/acme-source.js';
import { fakeBc, fakeLine, mapBc, writeBcs } from '../helpers/seed-bcs.js';
import { bearer, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const MAX_BYTES = 1_000_000;
const MARKER =
  /^erp-bridge:cut:(\d+):(\/api(?:\/sources\/[a-z]+)?\/models\/[a-z.]+\/records\/\d+\/fields\/[a-z_]+)$/;

/**
 * About `bytes` bytes of an HTML note: accents, a character outside Latin-1, an emoji, markup
 * JSON escapes; incompressible enough that its stored size says it is large.
 */
function note(bytes: number, seed: number): string {
  const paragraphs: string[] = [];
  // Counted paragraph by paragraph: measuring the whole text each time took minutes.
  for (let i = 0, size = 0; size < bytes; i += 1) {
    const paragraph = `<p class="n${(i * 7919 + seed) % 100_003}">L’été "${i}" — détendeur ${(i * seed) % 997} 😀</p>\n`;
    paragraphs.push(paragraph);
    size += Buffer.byteLength(paragraph);
  }
  return paragraphs.join('');
}

interface Body {
  odooId: number;
  name?: string;
  data?: Record<string, unknown>;
  lines?: Body[];
  linesNextCursor?: string | null;
  children?: Record<string, { items: Body[]; nextCursor: string | null }>;
}

/** The API on `db`'s BCs, within `pageBytes` a page. */
async function bcsApi(db: TestDb, pageBytes: number): Promise<App> {
  const app = await buildApp({
    config: testConfig({ API_PAGE_MAX_BYTES: String(pageBytes) }),
    logger: memoryLogger('warn').logger,
    db,
    families: createFamilies([bcsFamily]),
  });
  await app.ready();
  return app;
}

/** A reader's GET, which must answer within `pageBytes`. */
function readerGet(app: () => App, pageBytes: number) {
  return async (url: string) => {
    const response = await app().inject({ url, headers: bearer('reader') });
    expect(response.statusCode, response.body.slice(0, 200)).toBe(200);
    expect(response.rawPayload.length).toBeLessThanOrEqual(pageBytes);
    return response.json<Body & { items?: Body[]; nextCursor?: string | null }>();
  };
}

describe('values larger than the page budget', () => {
  let db: TestDb;
  let app: App;
  const notes = note(2_500_000, 3);
  const description = note(1_500_000, 5);
  const acmeNotes = note(2_000_000, 11);
  const acmeDescription = note(1_200_000, 13);
  /** BC 7's notes (in data alone) and its line 71's description (a column and data) are large. */
  const bigBc = 7;
  const bigLine = 71;

  beforeAll(async () => {
    db = await createTestDb();
    for (let id = 1; id <= 12; id += 1) {
      const lines = [1, 2].map((n) =>
        fakeLine(id, n, id === bigBc && n === 1 ? { name: description } : {}),
      );
      const bc = fakeBc(id, id === bigBc ? { notes } : { notes: `<p>BC ${id}</p>` });
      await writeBcs(db.db, [mapBc({ bc, lines })], { runId: null, lease: null });
    }
    // Source acme's copy of BC 7 and its line 71, large too, with values of their own.
    await placeCodeTables(db.db, 'acme', [bcsFamily]);
    const acmeBc = fakeBc(bigBc, { notes: acmeNotes });
    const acmeLines = [fakeLine(bigBc, 1, { name: acmeDescription }), fakeLine(bigBc, 2)];
    await writeRoots(db.db, acmeBcs, [mapRoot(acmeBcs, { root: acmeBc, children: [acmeLines] })], {
      runId: null,
      lease: null,
    });
    app = await buildApp({
      config: testConfig({ API_PAGE_MAX_BYTES: String(MAX_BYTES) }),
      logger: memoryLogger('warn').logger,
      db,
      families: createFamilies([bcsFamily, acmeBcs]),
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await db.dispose();
  });

  const get = async (url: string, role: 'reader' | 'operator' = 'reader') => {
    const response = await app.inject({ url, headers: bearer(role) });
    expect(response.statusCode, response.body.slice(0, 200)).toBe(200);
    expect(response.rawPayload.length).toBeLessThanOrEqual(MAX_BYTES);
    return response.json<Body & { items: Body[]; nextCursor: string | null }>();
  };

  /** The marker a value was cut to: the size it names and the path it points to. */
  const cut = (value: unknown) => {
    expect(value).toMatch(MARKER);
    const [, bytes, path] = MARKER.exec(value as string)!;
    return { bytes: Number(bytes), path: path! };
  };

  it.each([
    '/api/bcs?limit=200',
    '/api/models/dimagaz.bc/records?limit=200',
    '/api/models/dimagaz.bc/records?limit=200&sort=-odooWriteDate',
  ])('%s: one page within the budget, the large value a marker', async (url) => {
    const page = await get(url);
    expect(page.items.map((item) => item.odooId).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    expect(page.nextCursor).toBeNull();
    const big = page.items.find((item) => item.odooId === bigBc)!;
    expect(cut(big.data!.notes)).toEqual({
      bytes: Buffer.byteLength(notes),
      path: `/api/models/dimagaz.bc/records/${bigBc}/fields/notes`,
    });
    // Only what the budget needed was cut.
    expect(big.data!.name).toBe(`P0000${bigBc}`);
    expect(page.items.find((item) => item.odooId === 1)!.data!.notes).toBe('<p>BC 1</p>');
  });

  it('cuts a text in its column and in data alike, in lists and details', async () => {
    const wanted = {
      bytes: Buffer.byteLength(description),
      path: `/api/models/dimagaz.bc.line/records/${bigLine}/fields/name`,
    };
    const detail = await get(`/api/models/dimagaz.bc.line/records/${bigLine}`);
    expect(cut(detail.name)).toEqual(wanted);
    expect(cut(detail.data!.name)).toEqual(wanted);
    const list = await get(`/api/models/dimagaz.bc.line/records?bcOdooId=${bigBc}`);
    expect(cut(list.items.find((item) => item.odooId === bigLine)!.name)).toEqual(wanted);
    const bc = await get(`/api/bcs/${bigBc}`);
    expect(cut(bc.data!.notes).bytes).toBe(Buffer.byteLength(notes));
    expect(bc.lines!.map((line) => line.odooId)).toEqual([bigLine, bigLine + 1]);
    expect(cut(bc.lines![0]!.name)).toEqual(wanted);
    const model = await get(`/api/models/dimagaz.bc/records/${bigBc}`);
    expect(cut(model.children!['dimagaz.bc.line']!.items[0]!.data!.name)).toEqual(wanted);
    const lines = await get(`/api/bcs/${bigBc}/lines?limit=1000`);
    expect(cut(lines.items[0]!.name)).toEqual(wanted);
  });

  it("points a source's marker at that source's route, never the default source's record of the same id", async () => {
    const acme = '/api/sources/acme/models';
    const wanted = {
      notes: {
        bytes: Buffer.byteLength(acmeNotes),
        path: `${acme}/dimagaz.bc/records/${bigBc}/fields/notes`,
      },
      line: {
        bytes: Buffer.byteLength(acmeDescription),
        path: `${acme}/dimagaz.bc.line/records/${bigLine}/fields/name`,
      },
    };
    const detail = await get(`${acme}/dimagaz.bc/records/${bigBc}`);
    expect(cut(detail.data!.notes)).toEqual(wanted.notes);
    expect(cut(detail.children!['dimagaz.bc.line']!.items[0]!.data!.name)).toEqual(wanted.line);
    const list = await get(`${acme}/dimagaz.bc/records?limit=200`);
    expect(cut(list.items.find((item) => item.odooId === bigBc)!.data!.notes)).toEqual(
      wanted.notes,
    );
    const line = await get(`${acme}/dimagaz.bc.line/records/${bigLine}?fields=columns`);
    expect(cut(line.name)).toEqual(wanted.line);
    // Each path answers acme's value, byte for byte.
    for (const [text, { path }] of [
      [acmeNotes, wanted.notes],
      [acmeDescription, wanted.line],
    ] as const) {
      const response = await app.inject({ url: path, headers: bearer('reader') });
      expect(response.statusCode).toBe(200);
      expect(response.rawPayload.equals(Buffer.from(text, 'utf8'))).toBe(true);
    }
  });

  it('cuts with fields=columns too', async () => {
    const detail = await get(`/api/models/dimagaz.bc.line/records/${bigLine}?fields=columns`);
    expect(detail.data).toBeUndefined();
    expect(cut(detail.name).bytes).toBe(Buffer.byteLength(description));
  });

  it('answers a cut value whole through its field route: a text as text, byte for byte', async () => {
    for (const [text, model, id, field] of [
      [notes, 'dimagaz.bc', bigBc, 'notes'],
      [description, 'dimagaz.bc.line', bigLine, 'name'],
    ] as const) {
      const response = await app.inject({
        url: `/api/models/${model}/records/${id}/fields/${field}`,
        headers: bearer('reader'),
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(Number(response.headers['content-length'])).toBe(Buffer.byteLength(text));
      expect(response.rawPayload.equals(Buffer.from(text, 'utf8'))).toBe(true);
    }
  });

  it('answers any other value as its JSON, and a missing one as a 404', async () => {
    const partner = await app.inject({
      url: `/api/models/dimagaz.bc/records/${bigBc}/fields/partner_id`,
      headers: bearer('reader'),
    });
    expect(partner.statusCode).toBe(200);
    expect(partner.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(partner.json()).toEqual(fakeBc(bigBc).partner_id);
    for (const url of [
      `/api/models/dimagaz.bc/records/${bigBc}/fields/no_such_field`,
      `/api/models/dimagaz.bc/records/999/fields/notes`,
    ]) {
      const missing = await app.inject({ url, headers: bearer('reader') });
      expect(missing.statusCode).toBe(404);
      expect(missing.json()).toMatchObject({ error: 'NOT_FOUND' });
    }
    const bad = await app.inject({
      url: `/api/models/dimagaz.bc/records/${bigBc}/fields/Bad-Name`,
      headers: bearer('reader'),
    });
    expect(bad.statusCode).toBe(400);
    const anonymous = await app.inject({
      url: `/api/models/dimagaz.bc/records/${bigBc}/fields/notes`,
    });
    expect(anonymous.statusCode).toBe(401);
  });

  it('keeps a root gone from Odoo out of its field route unless asked for', async () => {
    await db.sql!`update scrap_dimagaz_bc set archived_at = now() where odoo_id = ${bigBc}`;
    try {
      const url = `/api/models/dimagaz.bc/records/${bigBc}/fields/notes`;
      expect((await app.inject({ url, headers: bearer('reader') })).statusCode).toBe(404);
      const operator = await app.inject({
        url: `${url}?includeArchived=true`,
        headers: bearer('operator'),
      });
      expect(operator.statusCode).toBe(200);
      expect(operator.rawPayload.length).toBe(Buffer.byteLength(notes));
    } finally {
      await db.sql!`update scrap_dimagaz_bc set archived_at = null where odoo_id = ${bigBc}`;
    }
  });

  it('describes the field route and the marker in the OpenAPI document', async () => {
    const response = await app.inject({ url: '/docs/json', headers: bearer('reader') });
    const document = response.json<{ paths: Record<string, unknown> }>();
    const route = document.paths['/api/models/dimagaz.bc.line/records/{odooId}/fields/{field}'];
    expect(JSON.stringify(route)).toContain('text/plain');
    expect(JSON.stringify(document)).toContain('erp-bridge:cut:');
  });
});

describe('a record with several large values', () => {
  let db: TestDb;
  let app: App;
  /**
   * BC 3 holds several: its notes, its origin (a column and data), a field only `data` holds, and
   * both its lines' descriptions; BCs 1, 2 and 4 are ordinary.
   */
  const bcId = 3;
  const values = {
    notes: note(1_800_000, 17),
    origin: note(1_100_000, 19),
    x_studio_terms: note(900_000, 23),
    lines: [note(1_300_000, 29), note(700_000, 31)],
  };
  const route = (model: string, id: number, field: string) =>
    `/api/models/${model}/records/${id}/fields/${field}`;
  const wanted = {
    notes: { bytes: Buffer.byteLength(values.notes), path: route('dimagaz.bc', bcId, 'notes') },
    origin: { bytes: Buffer.byteLength(values.origin), path: route('dimagaz.bc', bcId, 'origin') },
    x_studio_terms: {
      bytes: Buffer.byteLength(values.x_studio_terms),
      path: route('dimagaz.bc', bcId, 'x_studio_terms'),
    },
    lines: values.lines.map((text, i) => ({
      bytes: Buffer.byteLength(text),
      path: route('dimagaz.bc.line', bcId * 10 + i + 1, 'name'),
    })),
  };

  beforeAll(async () => {
    db = await createTestDb();
    for (let id = 1; id <= 4; id += 1) {
      const many = id === bcId;
      const lines = [1, 2].map((n) => fakeLine(id, n, many ? { name: values.lines[n - 1] } : {}));
      const bc = fakeBc(
        id,
        many
          ? { notes: values.notes, origin: values.origin, x_studio_terms: values.x_studio_terms }
          : { notes: `<p>BC ${id}</p>` },
      );
      await writeBcs(db.db, [mapBc({ bc, lines })], { runId: null, lease: null });
    }
    app = await bcsApi(db, MAX_BYTES);
  });
  afterAll(async () => {
    await app.close();
    await db.dispose();
  });

  const get = readerGet(() => app, MAX_BYTES);
  const cut = (value: unknown) => {
    expect(value).toMatch(MARKER);
    const [, bytes, path] = MARKER.exec(value as string)!;
    return { bytes: Number(bytes), path: path! };
  };

  it.each([
    `/api/models/dimagaz.bc/records/${bcId}`,
    `/api/bcs/${bcId}`,
    '/api/models/dimagaz.bc/records?limit=200',
    '/api/bcs?limit=200',
  ])(
    '%s: each large value cut to its own marker, every other value exact, within the budget',
    async (url) => {
      const answer = await get(url);
      const record = answer.items?.find((item) => item.odooId === bcId) ?? answer;
      expect(cut(record.data!.notes)).toEqual(wanted.notes);
      expect(cut(record.data!.origin)).toEqual(wanted.origin);
      expect(cut(record.data!.x_studio_terms)).toEqual(wanted.x_studio_terms);
      expect(record.data!.name).toBe(`P0000${bcId}`);
      expect(record.data!.partner_id).toEqual(fakeBc(bcId).partner_id);
      // The ordinary records of a list come whole beside it.
      for (const other of answer.items?.filter((item) => item.odooId !== bcId) ?? [])
        expect(other.data!.notes).toBe(`<p>BC ${other.odooId}</p>`);
    },
  );

  it("cuts each of its children's large values, in a detail's children and the lines' list", async () => {
    const detail = await get(`/api/models/dimagaz.bc/records/${bcId}`);
    expect(detail.children!['dimagaz.bc.line']!.items.map((line) => cut(line.data!.name))).toEqual(
      wanted.lines,
    );
    expect((await get(`/api/bcs/${bcId}`)).lines!.map((line) => cut(line.name))).toEqual(
      wanted.lines,
    );
    const lines = await get(`/api/models/dimagaz.bc.line/records?bcOdooId=${bcId}`);
    expect(lines.items!.map((line) => cut(line.name))).toEqual(wanted.lines);
  });

  it('answers each value whole through its own route, byte for byte', async () => {
    for (const [text, { path }] of [
      [values.notes, wanted.notes],
      [values.origin, wanted.origin],
      [values.x_studio_terms, wanted.x_studio_terms],
      [values.lines[0]!, wanted.lines[0]!],
      [values.lines[1]!, wanted.lines[1]!],
    ] as const) {
      const response = await app.inject({ url: path, headers: bearer('reader') });
      expect(response.statusCode).toBe(200);
      expect(response.rawPayload.equals(Buffer.from(text, 'utf8'))).toBe(true);
    }
  });
});

describe('large values within the budget, and records written before values were kept apart', () => {
  let db: TestDb;
  let app: App;
  const PAGE_BYTES = 8_000_000;
  /**
   * BCs 1 and 2 hold a large value written as the copy writes it now (`data` its reference, its
   * pieces apart); BCs 3 and 4 the same values as an earlier version wrote them, whole in `data`.
   * BCs 1 and 3's fit a record's allowance (half the page); BCs 2 and 4's do not.
   */
  const fits = note(1_500_000, 37);
  const cutOne = note(5_000_000, 41);
  const notesOf = new Map([
    [1, fits],
    [2, cutOne],
    [3, fits],
    [4, cutOne],
  ]);

  beforeAll(async () => {
    db = await createTestDb();
    for (const [id, notes] of notesOf)
      await writeBcs(db.db, [mapBc({ bc: fakeBc(id, { notes }), lines: [fakeLine(id, 1)] })], {
        runId: null,
        lease: null,
      });
    await db.sql!`
      update scrap_dimagaz_bc set data = sync_restored_data('scrap_dimagaz_bc', odoo_id, data)
      where odoo_id in (3, 4)`;
    await db.sql!`
      delete from sync_value_piece where copy_table = 'scrap_dimagaz_bc' and odoo_id in (3, 4)`;
    app = await bcsApi(db, PAGE_BYTES);
  });
  afterAll(async () => {
    await app.close();
    await db.dispose();
  });

  const get = readerGet(() => app, PAGE_BYTES);

  it('holds the new records apart: a reference in data, the value in pieces', async () => {
    const rows = await db.sql!<{ odoo_id: number; small: boolean; pieces: number }[]>`
      select b.odoo_id, pg_column_size(b.data) < 65536 as small,
        (select count(*)::int from sync_value_piece p
          where p.copy_table = 'scrap_dimagaz_bc' and p.odoo_id = b.odoo_id) as pieces
      from scrap_dimagaz_bc b order by b.odoo_id`;
    expect(rows.map((row) => [row.odoo_id, row.small, row.pieces > 0])).toEqual([
      [1, true, true],
      [2, true, true],
      [3, false, false],
      [4, false, false],
    ]);
  });

  it.each([1, 3])(
    'BC %i: a value within the allowance comes whole, in a detail and a list',
    async (id) => {
      expect((await get(`/api/models/dimagaz.bc/records/${id}`)).data!.notes).toBe(fits);
      expect((await get(`/api/bcs/${id}`)).data!.notes).toBe(fits);
    },
  );

  it.each([2, 4])(
    'BC %i: a value past it is cut, and its route answers it byte for byte',
    async (id) => {
      const detail = await get(`/api/models/dimagaz.bc/records/${id}`);
      expect(detail.data!.notes).toBe(
        `erp-bridge:cut:${Buffer.byteLength(cutOne)}:/api/models/dimagaz.bc/records/${id}/fields/notes`,
      );
      const response = await app.inject({
        url: `/api/models/dimagaz.bc/records/${id}/fields/notes`,
        headers: bearer('reader'),
      });
      expect(response.statusCode).toBe(200);
      expect(Number(response.headers['content-length'])).toBe(Buffer.byteLength(cutOne));
      expect(response.rawPayload.equals(Buffer.from(cutOne, 'utf8'))).toBe(true);
    },
  );

  it('lists them all within the page, each value whole or cut as its record allows', async () => {
    const items: Body[] = [];
    for (let url = '/api/bcs?limit=200'; ;) {
      const page = await get(url);
      items.push(...page.items!);
      if (!page.nextCursor) break;
      url = `/api/bcs?limit=200&cursor=${encodeURIComponent(page.nextCursor)}`;
    }
    expect(items.map((item) => [item.odooId, item.data!.notes === fits ? 'whole' : 'cut'])).toEqual(
      [
        [1, 'whole'],
        [2, 'cut'],
        [3, 'whole'],
        [4, 'cut'],
      ],
    );
  });
});
