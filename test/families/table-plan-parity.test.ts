/**
 * One model declared both ways: the Studio cylinders in code (`defineFamily`, as a developer
 * writes src/families/<family>/family.ts) and in the operators' file (planned by `migrate` from
 * Odoo's fields_get), each in a database of its own under the same table names. Field by field
 * they get the same kind, the read API the same query parameters, the tables the same indexes
 * (src/families/table-plan.ts), and the same query the same answer: what a filter or a sort
 * answers, and how PostgreSQL finds it, does not depend on how the model was declared.
 */
import type * as DrizzleKit from 'drizzle-kit/api';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../dev/sandbox/odoo-sandbox.js';
import { COLUMN_KIND_NAMES, columns as c } from '../../src/families/columns.js';
import { defineFamily } from '../../src/families/define-family.js';
import type { ModelDeclaration } from '../../src/families/family.js';
import { buildApp, type App } from '../../src/http/app.js';
import { writeFamiliesFile, type FamiliesFile } from '../helpers/families-file.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';
import { bearer, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb } from '../helpers/test-db.js';

const require = createRequire(import.meta.url);
/** Both sandboxes' clock: their records, stamps included, are the same. */
const START = new Date('2026-06-01T08:00:00.000Z');
const kit = require('drizzle-kit/api') as typeof DrizzleKit;

const FILTER = [
  'x_name',
  'x_serial',
  'x_status',
  'x_partner_id',
  'x_capacity',
  'x_in_service',
  'x_installed_on',
  'x_checked_at',
  'x_fill_count',
];
const SORT = ['x_name', 'x_status', 'x_checked_at', 'x_capacity', 'x_installed_on', 'x_fill_count'];
const VALVE_FILTER = ['x_name', 'x_open', 'x_pressure_bar'];

const inCode = defineFamily({
  name: 'tanks',
  noun: 'tank',
  root: {
    model: 'x_cylinder',
    table: 'tank',
    activeField: 'x_active',
    columns: [
      c.text('x_name'),
      c.text('x_serial'),
      c.decimal('x_capacity'),
      c.decimal('x_price'),
      c.many2one('x_currency_id', { name: 'x_currency_name' }),
      c.boolean('x_in_service'),
      c.date('x_installed_on'),
      c.datetime('x_checked_at'),
      c.selection('x_status'),
      c.text('x_notes'),
      c.text('x_photo'),
      c.many2one('x_partner_id', { name: 'x_partner_name' }),
      c.json('x_specs'),
      c.integer('x_fill_count'),
      c.datetime('create_date'),
      c.many2one('create_uid', { name: 'create_uid_name' }),
      c.many2one('write_uid', { name: 'write_uid_name' }),
    ],
    fields: { binary: ['x_photo'] },
    query: { filter: FILTER, sort: SORT },
  },
  children: [
    {
      model: 'x_cylinder_valve',
      table: 'tank_valve',
      parentField: 'x_cylinder_id',
      parentColumn: 'x_cylinder_id',
      columns: [
        c.text('x_name'),
        c.decimal('x_pressure_bar'),
        c.boolean('x_open'),
        c.datetime('create_date'),
        c.many2one('create_uid', { name: 'create_uid_name' }),
        c.many2one('write_uid', { name: 'write_uid_name' }),
      ],
      query: { filter: VALVE_FILTER, sort: [] },
    },
  ],
});

const IN_A_FILE = `
families:
  - name: tanks
    model: x_cylinder
    table: tank
    binary: [x_photo]
    api:
      filter: [${FILTER.join(', ')}]
      sort: [${SORT.join(', ')}]
    children:
      - model: x_cylinder_valve
        link: x_cylinder_id
        table: tank_valve
        api: { filter: [${VALVE_FILTER.join(', ')}] }
`;

interface Side {
  readonly h: SyncHarness;
  readonly app: App;
  readonly models: readonly ModelDeclaration[];
}

/** Each index of the family's two tables, as PostgreSQL prints it. */
async function indexesOf(side: Side): Promise<string[]> {
  const rows = await side.h.db.sql!<{ indexdef: string }[]>`
    select indexdef from pg_indexes
    where schemaname = current_schema() and tablename in ('tank', 'tank_valve')
    order by indexname`;
  return rows.map((row) => row.indexdef);
}

/** The query parameters of a model's list, as the OpenAPI document describes them. */
async function parametersOf(side: Side, model: string): Promise<object[]> {
  const document = (await side.app.inject({ url: '/docs/json', headers: bearer('admin') })).json<{
    paths: Record<string, { get: { parameters: { name: string; in: string; schema: object }[] } }>;
  }>();
  return document.paths[`/api/models/${model}/records`]!.get.parameters.map(
    ({ name, in: where, schema }) => ({ name, in: where, schema }),
  );
}

describe('a model declared in code and in a file', () => {
  let file: FamiliesFile;
  let code: Side;
  let configured: Side;

  const sideOf = async (h: SyncHarness): Promise<Side> => {
    const families = h.runtime.sync.families;
    const app = await buildApp({
      config: testConfig(),
      logger: memoryLogger('warn').logger,
      db: h.db,
      families,
    });
    const family = families.require('tanks');
    await h.run('sync-run', { trigger: 'test' });
    return { h, app, models: [family.root, ...family.children] };
  };

  beforeAll(async () => {
    const db = await createTestDb({ poolMax: 10 });
    const generated = await kit.generateMigration(
      kit.generateDrizzleJson({}),
      kit.generateDrizzleJson(inCode.tables),
    );
    for (const statement of generated) await db.sql!.unsafe(statement);
    code = await sideOf(
      await createSyncHarness({
        db,
        sandbox: { cylinders: 60, clock: createManualClock(START).source },
        families: [inCode.family],
      }),
    );
    file = writeFamiliesFile(IN_A_FILE);
    configured = await sideOf(
      await createSyncHarness({
        sandbox: { cylinders: 60, clock: createManualClock(START).source },
        loadFamilies: (testDb, odoo) => file.loadFamilies(testDb, odoo),
      }),
    );
  });
  afterAll(async () => {
    for (const side of [code, configured]) {
      await side?.app.close();
      await side?.h.dispose();
    }
    file?.remove();
  });

  // A child's link is its table's parent column either way; the file serves it as a many2one too.
  it('gives every field the same column of the same kind, every kind among them', () => {
    const columnsOf = (side: Side) =>
      side.models.map((model) => ({
        model: model.model,
        columns: Object.fromEntries(
          model.columns
            .filter(({ field }) => field !== 'x_cylinder_id')
            .map(({ field, kind, column, nameColumn }) => [field, { kind, column, nameColumn }]),
        ),
      }));
    expect(columnsOf(code)).toEqual(columnsOf(configured));
    const kinds = new Set(configured.models.flatMap((model) => model.columns.map((c) => c.kind)));
    expect([...kinds].sort()).toEqual([...COLUMN_KIND_NAMES].sort());
  });

  it('gives the read API the same query parameters', async () => {
    const names = (parameters: object[]) =>
      parameters.map((parameter) => (parameter as { name: string }).name);
    const cylinder = await parametersOf(code, 'x_cylinder');
    expect(names(cylinder)).toEqual(
      expect.arrayContaining(['xStatus.in', 'xName.contains', 'xFillCount.gte']),
    );
    expect(names(cylinder)).not.toContain('xStatus.contains');
    expect(cylinder).toEqual(await parametersOf(configured, 'x_cylinder'));
    expect(await parametersOf(code, 'x_cylinder_valve')).toEqual(
      await parametersOf(configured, 'x_cylinder_valve'),
    );
  });

  it('gives the tables the same indexes, under the same names', async () => {
    const indexes = await indexesOf(code);
    expect(indexes).toEqual(await indexesOf(configured));
    expect(indexes).toEqual(
      expect.arrayContaining([
        'CREATE INDEX tank_x_status_idx ON public.tank USING btree (x_status, odoo_id)',
        'CREATE INDEX tank_valve_parent_idx ON public.tank_valve USING btree (x_cylinder_id, odoo_id)',
      ]),
    );
  });

  it('answers every query the same, a selection compared whole on both', async () => {
    for (const query of [
      'xStatus=filled',
      'xStatus.in=filled,empty&sort=-xCheckedAt',
      'xName.contains=CYL-0001',
      'xPartnerId.null=false&sort=xFillCount',
      'xFillCount.gte=6&sort=-xStatus',
      'xInService=true&sort=xCapacity',
      'xInstalledOn.lt=2026-01-01&sort=-xInstalledOn',
      'sort=xName&limit=7',
    ]) {
      const answers = await Promise.all(
        [code, configured].map(async ({ app }) => {
          const response = await app.inject({
            url: `/api/models/x_cylinder/records?${query}&fields=columns`,
            headers: bearer('reader'),
          });
          const body = response.json<{ items: { syncedAt?: string }[] }>();
          // When each copy wrote a row is its own.
          for (const item of body.items) delete item.syncedAt;
          return { status: response.statusCode, body };
        }),
      );
      expect(answers[0]!.status, query).toBe(200);
      expect(answers[0]!.body.items.length, query).toBeGreaterThan(0);
      expect(answers[0], query).toEqual(answers[1]);
    }
    for (const { app } of [code, configured]) {
      const response = await app.inject({
        url: '/api/models/x_cylinder/records?xStatus.contains=fil',
        headers: bearer('reader'),
      });
      expect(response.statusCode).toBe(400);
      expect(response.json<{ message: string }>().message).toContain('xStatus.contains');
    }
  });
});
