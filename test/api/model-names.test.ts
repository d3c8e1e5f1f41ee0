/**
 * The names a configured model's fields take in the API, told apart at boot: two fields whose
 * camelCase names meet (`x_size_2` and `x_size2` are both `xSize2`; a many2one `x_partner_id`,
 * served as `xPartner`, and a char `x_partner`) each keep a key of their own, and a field named
 * like a parameter of the list (`limit`, `sort`, `cursor`) is filtered under another name: it
 * never changes paging.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OdooFieldDescription } from '../../src/clients/odoo/odoo-types.js';
import { applyLayouts } from '../../src/families/configured/apply-layouts.js';
import { buildApp, type App } from '../../src/http/app.js';
import { bearer, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { schemaAnswers, storedField as field } from '../helpers/schema-answers.js';

const THINGS = `
families:
  - name: things
    model: x_thing
    table: x_thing
    api:
      filter: [x_size_2, x_size2, x_partner, limit, sort, cursor]
      sort: [limit, x_size_2]
`;
const FIELDS: Record<string, OdooFieldDescription> = {
  id: field('integer'),
  write_date: field('datetime'),
  x_size_2: field('char'),
  x_size2: field('char'),
  x_partner_id: field('many2one', { relation: 'res.partner' }),
  x_partner: field('char'),
  limit: field('integer'),
  sort: field('char'),
  cursor: field('char'),
};

interface Thing {
  odooId: number;
  [key: string]: unknown;
}
interface Page {
  items: Thing[];
  nextCursor: string | null;
}

describe('the API names of a model’s fields', () => {
  let db: TestDb;
  let dir: string;
  let app: App;
  const log = memoryLogger('warn');
  beforeAll(async () => {
    db = await createTestDb();
    dir = mkdtempSync(join(tmpdir(), 'erp-bridge-names-'));
    writeFileSync(join(dir, 'families.yaml'), THINGS);
    const config = testConfig({
      SYNC_FAMILIES_FILE: join(dir, 'families.yaml'),
      SYNC_FAMILIES: 'things',
    });
    await applyLayouts(db.db, schemaAnswers(FIELDS, false), config.sync.families.configured);
    await db.sql!`
      insert into x_thing (odoo_id, odoo_write_date, data, x_size_2, x_size2, x_partner_id,
        x_partner_name, x_partner, "limit", sort, cursor)
      values (1, now(), '{}', 'one', 'two', 7, 'Azur Gaz', 'text', 5, 's', 'c'),
             (2, now(), '{}', 'three', 'four', null, null, null, 9, 't', 'd'),
             (3, now(), '{}', 'five', 'six', null, null, null, 1, 'u', 'e')`;
    app = await buildApp({ config, logger: log.logger, db });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await db.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (url: string) => {
    const response = await app.inject({ url, headers: bearer('reader') });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<Page>();
  };

  it('serves two fields whose keys would meet under keys of their own', async () => {
    const { items } = await get('/api/models/x_thing/records?limit=1');
    expect(items[0]).toMatchObject({
      odooId: 1,
      x_size_2: 'one',
      x_size2: 'two',
      x_partner_id: { id: 7, name: 'Azur Gaz' },
      x_partner: 'text',
      limit: 5,
      sort: 's',
      cursor: 'c',
    });
    expect(items[0]).not.toHaveProperty('xSize2');
    expect(items[0]).not.toHaveProperty('xPartner');
  });

  it('never lets a field change paging: its filter and sort take another name', async () => {
    const first = await get('/api/models/x_thing/records?limit=1');
    expect(first.items.map((thing) => thing.odooId)).toEqual([1]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const next = await get(`/api/models/x_thing/records?limit=1&cursor=${first.nextCursor}`);
    expect(next.items.map((thing) => thing.odooId)).toEqual([2]);

    expect((await get('/api/models/x_thing/records?limit_2=9')).items.map((t) => t.odooId)).toEqual(
      [2],
    );
    expect(
      (await get('/api/models/x_thing/records?sort=-limit_2')).items.map((t) => t.odooId),
    ).toEqual([2, 1, 3]);
    expect((await get('/api/models/x_thing/records?sort_2=t')).items.map((t) => t.odooId)).toEqual([
      2,
    ]);
    expect(
      (await get('/api/models/x_thing/records?x_size2=six&x_size_2=five')).items.map(
        (t) => t.odooId,
      ),
    ).toEqual([3]);
  });

  it('names every renamed field at boot, and the OpenAPI document says what it takes', async () => {
    const warnings = log.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(
      warnings
        .filter((line) => line.model === 'x_thing')
        .map((line) => `${String(line.field)}: ${String(line.natural)} → ${String(line.name)}`)
        .sort(),
    ).toEqual([
      'cursor: cursor → cursor_2',
      'limit: limit → limit_2',
      'sort: sort → sort_2',
      'x_partner: xPartner → x_partner',
      'x_partner_id: xPartner → x_partner_id',
      'x_size2: xSize2 → x_size2',
      'x_size2: xSize2 → x_size2',
      'x_size_2: xSize2 → x_size_2',
      'x_size_2: xSize2 → x_size_2',
    ]);
    const document = (await app.inject({ url: '/docs/json', headers: bearer('admin') })).json<{
      paths: Record<string, { get: { parameters: { name: string }[] } }>;
    }>();
    const parameters = document.paths['/api/models/x_thing/records']!.get.parameters.map(
      (p) => p.name,
    );
    expect(parameters).toEqual(
      expect.arrayContaining([
        'limit',
        'sort',
        'cursor',
        'limit_2',
        'sort_2',
        'x_size_2',
        'x_size2',
      ]),
    );
    expect(new Set(parameters).size).toBe(parameters.length);
  });
});
