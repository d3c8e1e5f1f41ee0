/**
 * The read API every copied model gets, generated at boot from its declaration: a configured
 * custom model with its child and its many2many, filtered with typed operators, sorted, paged by
 * cursor, one record with its children and links, its history; the OpenAPI document describes
 * each model's filters. The answers are checked against the sandbox's own records.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/http/app.js';
import { writeFamiliesFile, type FamiliesFile } from '../helpers/families-file.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';
import { bearer, memoryLogger } from '../helpers/test-app.js';

const FILE = `
families:
  - name: cylinders
    model: x_cylinder
    children:
      - { model: x_cylinder_valve, link: x_cylinder_id }
    api:
      filter: [x_status, x_partner_id, x_in_service, x_capacity, x_checked_at, x_installed_on, x_name]
      sort: [x_name, x_checked_at, x_capacity]
`;

interface Cylinder {
  odooId: number;
  xName: string | null;
  xStatus: string | null;
  xPartner: { id: number; name: string | null } | null;
  xInService: boolean;
  xCapacity: string | null;
  xCheckedAt: string | null;
  xInstalledOn: string | null;
  active: boolean;
  data: Record<string, unknown>;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

describe('the read API of a configured model', () => {
  let files: FamiliesFile;
  let h: SyncHarness;
  let app: App;
  const records = () =>
    h.sandbox.control.records('x_cylinder', {
      fields: [
        'x_name',
        'x_status',
        'x_partner_id',
        'x_in_service',
        'x_capacity',
        'x_checked_at',
        'x_tag_ids',
        'x_valve_ids',
      ],
    });
  const get = async <T>(url: string) => {
    // Records gone from Odoo are an operator's option (API_READERS_SEE_ARCHIVED).
    const role = url.includes('includeArchived=true') ? 'operator' : 'reader';
    const response = await app.inject({ url, headers: bearer(role) });
    return { status: response.statusCode, body: response.json<T>() };
  };
  /** Every page of a list, following its cursors. */
  const all = async (url: string): Promise<Cylinder[]> => {
    const items: Cylinder[] = [];
    let cursor: string | null = null;
    do {
      const { status, body }: { status: number; body: Page<Cylinder> } = await get<Page<Cylinder>>(
        `${url}${url.includes('?') ? '&' : '?'}limit=7${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(status).toBe(200);
      items.push(...body.items);
      cursor = body.nextCursor;
    } while (cursor);
    return items;
  };

  beforeAll(async () => {
    files = writeFamiliesFile(FILE);
    h = await createSyncHarness({
      sandbox: { cylinders: 60 },
      loadFamilies: (db, odoo) => files.loadFamilies(db, odoo),
    });
    await h.run('sync-run', { family: 'cylinders', trigger: 'test' });
    app = await buildApp({
      config: files.config,
      logger: memoryLogger('warn').logger,
      db: h.db,
      families: h.runtime.sync.families,
    });
  });
  afterAll(async () => {
    await app.close();
    await h.dispose();
    files.remove();
  });

  it('lists every record once across pages, in the sort asked for', async () => {
    const ids = records().map((r) => r.id);
    expect((await all('/api/models/x_cylinder/records')).map((r) => r.odooId)).toEqual(ids);
    const byName = await all('/api/models/x_cylinder/records?sort=-xName');
    expect(byName).toHaveLength(ids.length);
    const names = byName.map((r) => r.xName ?? '');
    expect(names).toEqual([...names].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0)));
    const byCapacity = await all('/api/models/x_cylinder/records?sort=xCapacity');
    const capacities = byCapacity.map((r) =>
      r.xCapacity === null ? -Infinity : Number(r.xCapacity),
    );
    expect(capacities).toEqual([...capacities].sort((a, b) => a - b));
  });

  it('filters with typed operators, as Odoo holds the values', async () => {
    const sandbox = records();
    const filled = await all('/api/models/x_cylinder/records?xStatus=filled');
    expect(filled.map((r) => r.odooId)).toEqual(
      sandbox.filter((r) => r.x_status === 'filled').map((r) => r.id),
    );
    const either = await all('/api/models/x_cylinder/records?xStatus.in=filled,empty');
    expect(either.map((r) => r.odooId)).toEqual(
      sandbox.filter((r) => r.x_status === 'filled' || r.x_status === 'empty').map((r) => r.id),
    );
    // Boolean False is a value: filtered on, never mistaken for "no value".
    const outOfService = await all('/api/models/x_cylinder/records?xInService=false');
    expect(outOfService.map((r) => r.odooId)).toEqual(
      sandbox.filter((r) => r.x_in_service === false).map((r) => r.id),
    );
    expect(outOfService.every((r) => r.xInService === false)).toBe(true);
    const big = await all('/api/models/x_cylinder/records?xCapacity.gte=20');
    expect(big.map((r) => r.odooId)).toEqual(
      sandbox
        .filter((r) => typeof r.x_capacity === 'number' && r.x_capacity >= 20)
        .map((r) => r.id),
    );
    const partner = sandbox.find((r) => Array.isArray(r.x_partner_id))!.x_partner_id as [
      number,
      string,
    ];
    const ofPartner = await all(`/api/models/x_cylinder/records?xPartnerId=${partner[0]}`);
    expect(ofPartner.length).toBeGreaterThan(0);
    expect(
      ofPartner.every((r) => r.xPartner?.id === partner[0] && r.xPartner.name === partner[1]),
    ).toBe(true);
    const unnamed = await all('/api/models/x_cylinder/records?xName.null=true');
    expect(unnamed.map((r) => r.odooId)).toEqual(
      sandbox.filter((r) => r.x_name === false).map((r) => r.id),
    );
    const checked = sandbox.find((r) => typeof r.x_checked_at === 'string')!.x_checked_at as string;
    const since = `${checked.replace(' ', 'T')}Z`;
    const recent = await all(`/api/models/x_cylinder/records?xCheckedAt.gte=${since}`);
    expect(recent.map((r) => r.odooId)).toEqual(
      sandbox
        .filter((r) => typeof r.x_checked_at === 'string' && r.x_checked_at >= checked)
        .map((r) => r.id),
    );
    const named = sandbox.find((r) => typeof r.x_name === 'string')!.x_name as string;
    const contains = await all(
      `/api/models/x_cylinder/records?xName.contains=${encodeURIComponent(named.slice(-5))}`,
    );
    expect(contains.map((r) => r.odooId)).toContain(sandbox.find((r) => r.x_name === named)!.id);
  });

  it('answers one record with its children and its links, and pages the rest', async () => {
    const cylinder = records().find(
      (r) => (r.x_valve_ids as number[]).length > 0 && (r.x_tag_ids as number[]).length > 0,
    )!;
    const { status, body } = await get<
      Cylinder & {
        children: Record<string, Page<{ odooId: number; xCylinderId: number }>>;
        links: Record<string, Page<number>>;
      }
    >(`/api/models/x_cylinder/records/${cylinder.id}`);
    expect(status).toBe(200);
    expect(body.odooId).toBe(cylinder.id);
    expect(body.children.x_cylinder_valve!.items.map((v) => v.odooId)).toEqual(
      cylinder.x_valve_ids,
    );
    expect(body.children.x_cylinder_valve!.nextCursor).toBeNull();
    expect(body.links.x_tag_ids).toEqual({ items: cylinder.x_tag_ids, nextCursor: null });
    const links = await get<Page<number>>(
      `/api/models/x_cylinder/records/${cylinder.id}/links/x_tag_ids?limit=1`,
    );
    expect(links.body.items).toEqual((cylinder.x_tag_ids as number[]).slice(0, 1));
    const valves = await get<Page<{ odooId: number }>>(
      `/api/models/x_cylinder_valve/records?xCylinderId=${cylinder.id}`,
    );
    expect(valves.body.items.map((v) => v.odooId)).toEqual(cylinder.x_valve_ids);
    const history = await get<{ items: { action: string; model: string }[] }>(
      `/api/models/x_cylinder/records/${cylinder.id}/history`,
    );
    expect(history.body.items.map((row) => [row.model, row.action])).toContainEqual([
      'x_cylinder',
      'created',
    ]);
    expect((await get(`/api/models/x_cylinder/records/999999`)).status).toBe(404);
  });

  it('answers a record gone from Odoo only when asked for, as the list does', async () => {
    const cylinder = records().find((r) => (r.x_tag_ids as number[]).length > 0)!;
    // As the reconcile leaves a record Odoo confirmed gone.
    await h.db
      .sql!`update scrap_x_cylinder set archived_at = now(), archive_reason = 'deleted in Odoo'
      where odoo_id = ${cylinder.id}`;
    try {
      for (const path of ['', '/links/x_tag_ids']) {
        const url = `/api/models/x_cylinder/records/${cylinder.id}${path}`;
        expect([url, (await get(url)).status]).toEqual([url, 404]);
        const shown = await get<{ odooId?: number; archivedAt?: string | null }>(
          `${url}?includeArchived=true`,
        );
        expect([url, shown.status]).toEqual([url, 200]);
      }
      const detail = await get<Cylinder & { archivedAt: string | null }>(
        `/api/models/x_cylinder/records/${cylinder.id}?includeArchived=true`,
      );
      expect(detail.body).toMatchObject({ odooId: cylinder.id, archivedAt: expect.any(String) });
      // Its history stays readable: it says what happened to it.
      expect((await get(`/api/models/x_cylinder/records/${cylinder.id}/history`)).status).toBe(200);
    } finally {
      await h.db.sql!`update scrap_x_cylinder set archived_at = null, archive_reason = null
        where odoo_id = ${cylinder.id}`;
    }
  });

  it('refuses bad input with a 400 and a JSON code', async () => {
    for (const url of [
      '/api/models/x_cylinder/records?xCapacity.gte=lots',
      '/api/models/x_cylinder/records?xInService=maybe',
      '/api/models/x_cylinder/records?xStatus.gt=a',
      '/api/models/x_cylinder/records?xNotes=x',
      '/api/models/x_cylinder/records?sort=xNotes',
      '/api/models/x_cylinder/records?xName=%00',
      '/api/models/x_cylinder/records?xCheckedAt.lt=yesterday',
      '/api/models/x_cylinder/records?cursor=bm9wZQ',
      '/api/models/x_cylinder/records?xPartnerId=2147483648',
      // A needle the trigram index cannot look up would read the whole table.
      '/api/models/x_cylinder/records?xName.contains=ab',
      '/api/models/x_cylinder/records?xName.contains=a-b-c',
      '/api/models/x_cylinder/records?xName.contains=%25%25%25',
    ]) {
      const { status, body } = await get<{ error: string }>(url);
      expect([url, status]).toEqual([url, 400]);
      expect(body.error).toMatch(/^[A-Z_]+$/);
    }
    // Values PostgreSQL's calendar refuses, named by their parameter.
    for (const [parameter, value] of [
      ['xInstalledOn', '0000-01-01'],
      ['xInstalledOn.gt', '0000-02-01'],
      ['xCheckedAt.gte', '0000-01-01'],
      ['xCheckedAt.lt', '9999-12-31T23:00:00-05:00'],
      ['updatedSince', '0000-12-31T23:00:00Z'],
    ]) {
      const { status, body } = await get<{ error: string; message: string }>(
        `/api/models/x_cylinder/records?${parameter}=${encodeURIComponent(value!)}`,
      );
      expect([parameter, status]).toEqual([parameter, 400]);
      expect(body.message).toContain(`querystring.${parameter}`);
    }
  });

  it("describes each model's columns and filters in the OpenAPI document", async () => {
    const document = (await app.inject({ url: '/docs/json', headers: bearer('admin') })).json<{
      paths: Record<string, { get: { parameters: { name: string }[] } }>;
    }>();
    const parameters = document.paths['/api/models/x_cylinder/records']!.get.parameters.map(
      (p) => p.name,
    );
    expect(parameters).toEqual(
      expect.arrayContaining([
        'xStatus',
        'xStatus.in',
        'xName.contains',
        'xCapacity.gte',
        'xInService',
        'xPartnerId.in',
        'xName.null',
        'sort',
        'cursor',
        'includeArchived',
      ]),
    );
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/api/models/x_cylinder/records/{odooId}/links/x_tag_ids',
        '/api/models/x_cylinder_valve/records',
      ]),
    );
  });
});
