/**
 * Pages bounded in bytes as well as in records: records of a megabyte each (a binary a family
 * copies, a long text) never make an answer larger than API_PAGE_MAX_BYTES, a page cut short
 * carries its cursor, paging through gives every record once, a record larger than the budget
 * comes with its large value cut (test/api/large-values.test.ts), and fields=columns leaves
 * `data` out.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/http/app.js';
import { fakeBc, fakeLine, mapBc, writeBcs } from '../helpers/seed-bcs.js';
import { bearer, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const MAX_BYTES = 3_500_000;
const MEGABYTE = 1_000_000;
const BCS = 20;
/** BC 1 has lines of a megabyte each; BC 2 alone is larger than a page. */
const CUT = /^erp-bridge:cut:\d+:\/api\/models\/dimagaz\.bc\/records\/2\/fields\/x_blob$/;
const LINES = 9;

/** Incompressible text of about `bytes` bytes. */
const blob = (bytes: number) => randomBytes((bytes * 3) / 4).toString('base64');

interface Page {
  items: { odooId: number; data?: Record<string, unknown> }[];
  nextCursor: string | null;
}

describe('pages bounded in bytes', () => {
  let db: TestDb;
  let app: App;
  beforeAll(async () => {
    db = await createTestDb();
    for (let id = 1; id <= BCS; id += 1) {
      const lines =
        id === 1
          ? Array.from({ length: LINES }, (_, n) => fakeLine(id, n + 1, { x_blob: blob(MEGABYTE) }))
          : [fakeLine(id, 1)];
      const bc = fakeBc(id, { x_blob: blob(id === 2 ? 4 * MEGABYTE : MEGABYTE) });
      await writeBcs(db.db, [mapBc({ bc, lines })], { runId: null, lease: null });
    }
    app = await buildApp({
      config: testConfig({ API_PAGE_MAX_BYTES: String(MAX_BYTES) }),
      logger: memoryLogger('warn').logger,
      db,
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await db.dispose();
  });

  const get = async (url: string) => {
    const response = await app.inject({ url, headers: bearer('reader') });
    expect(response.statusCode, response.body.slice(0, 200)).toBe(200);
    return { bytes: response.rawPayload.length, body: response.json<Page>() };
  };

  /** Every page of a list, each checked against the budget. */
  const walk = async (url: string) => {
    const ids: number[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const { bytes, body }: { bytes: number; body: Page } = await get(
        `${url}${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(body.items.length).toBeGreaterThan(0);
      // The record larger than the budget too: its large value is cut.
      expect(bytes).toBeLessThanOrEqual(MAX_BYTES);
      const large = body.items.find((item) => item.odooId === 2);
      if (large) expect(large.data?.x_blob).toMatch(CUT);
      ids.push(...body.items.map((item) => item.odooId));
      sizes.push(body.items.length);
      cursor = body.nextCursor;
    } while (cursor);
    return { ids, sizes };
  };

  const all = Array.from({ length: BCS }, (_, i) => i + 1);

  it.each([
    '/api/bcs?limit=200',
    '/api/bcs?limit=200&sort=-name',
    '/api/bcs?limit=200&sort=amountTotal',
    '/api/models/dimagaz.bc/records?limit=200',
    '/api/models/dimagaz.bc/records?limit=200&sort=-odooWriteDate',
  ])('%s: no page past the budget, every record once', async (url) => {
    const { ids, sizes } = await walk(url);
    expect([...ids].sort((a, b) => a - b)).toEqual(all);
    expect(new Set(ids).size).toBe(ids.length);
    // Three records of a megabyte fit in 3.5 MB, a fourth does not; the 4 MB one, cut, fits.
    expect(sizes).toContain(3);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
  });

  it('a BC detail holds the lines its budget leaves room for, and the cursor to the rest', async () => {
    const detail = await app.inject({ url: '/api/bcs/1', headers: bearer('reader') });
    expect(detail.rawPayload.length).toBeLessThanOrEqual(MAX_BYTES);
    const bc = detail.json<{ lines: { odooId: number }[]; linesNextCursor: string | null }>();
    // The BC's own megabyte leaves room for two lines of a megabyte.
    expect(bc.lines).toHaveLength(2);
    expect(bc.linesNextCursor).toEqual(expect.any(String));
    const ids = bc.lines.map((line) => line.odooId);
    let after: string | null = bc.linesNextCursor;
    while (after) {
      const { bytes, body } = await get(`/api/bcs/1/lines?limit=1000&after=${after}`);
      expect(bytes).toBeLessThanOrEqual(MAX_BYTES);
      ids.push(...body.items.map((item) => item.odooId));
      after = body.nextCursor;
    }
    expect(ids).toEqual(Array.from({ length: LINES }, (_, n) => 10 + n + 1));
  });

  it("a model's detail bounds its child pages the same way", async () => {
    const detail = await app.inject({
      url: '/api/models/dimagaz.bc/records/1',
      headers: bearer('reader'),
    });
    expect(detail.statusCode).toBe(200);
    expect(detail.rawPayload.length).toBeLessThanOrEqual(MAX_BYTES);
    const lines = detail.json<{ children: Record<string, Page> }>().children['dimagaz.bc.line']!;
    expect(lines.items.length).toBeGreaterThan(0);
    expect(lines.items.length).toBeLessThan(LINES);
    expect(lines.nextCursor).toEqual(expect.any(String));
  });

  it('fields=columns answers the typed columns without data: one light page', async () => {
    for (const url of [
      '/api/bcs?limit=200&fields=columns',
      '/api/models/dimagaz.bc/records?limit=200&fields=columns',
    ]) {
      const { bytes, body } = await get(url);
      expect(body.items.map((item) => item.odooId)).toEqual(all);
      expect(body.items.every((item) => !('data' in item))).toBe(true);
      expect(body.nextCursor).toBeNull();
      expect(bytes).toBeLessThan(50_000);
    }
    const detail = await get('/api/bcs/1?fields=columns');
    expect(detail.body).not.toHaveProperty('data');
    expect((detail.body as unknown as { lines: object[] }).lines).toHaveLength(LINES);
  });
});
