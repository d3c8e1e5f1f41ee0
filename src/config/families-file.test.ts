import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, type ConfigError } from './config.js';
import { CODE_FAMILIES } from '../families/registry.js';
import {
  configRefusal,
  declarationFiles,
  WORKER_ENV as base,
} from '../../test/helpers/config-files.js';

const { dir, write: file } = declarationFiles('families');

const load = (env: Record<string, string>, role: 'worker' | 'migrate' = 'worker') =>
  loadConfig({ ...base, ...env }, { mode: 'production', role, codeFamilies: CODE_FAMILIES });

const problems = (env: Record<string, string>, role: 'worker' | 'migrate' = 'worker') =>
  configRefusal(() => load(env, role)).problems.map((p) => `${p.key}: ${p.message}`);

describe('SYNC_FAMILIES_FILE', () => {
  it('declares families with their defaults: tables named after the model, every field, no API filter', () => {
    const config = load({
      SYNC_FAMILIES_FILE: file(`
families:
  - name: cylinders
    model: x_cylinder
    children: [{ model: x_cylinder_valve, link: x_cylinder_id }]
    schedule: { every: 10m, reconcileCron: '0 4 * * *' }
    api: { filter: [x_status], sort: [x_name] }
  - name: tags
    model: res.partner.category
    fields: [name, color]
    table: partner_tag
`),
    });
    expect(config.sync.families.copied).toEqual(['cylinders', 'tags']);
    expect(config.sync.families.code).toEqual([]);
    expect(config.sync.families.configured).toEqual([
      {
        name: 'cylinders',
        root: {
          model: 'x_cylinder',
          table: 'scrap_x_cylinder',
          binary: [],
          api: { filter: ['x_status'], sort: ['x_name'] },
        },
        children: [
          {
            model: 'x_cylinder_valve',
            table: 'scrap_x_cylinder_valve',
            binary: [],
            api: { filter: [], sort: [] },
            link: 'x_cylinder_id',
          },
        ],
        schedule: { everyMs: 600_000, reconcileCron: '0 4 * * *' },
      },
      {
        name: 'tags',
        root: {
          model: 'res.partner.category',
          table: 'partner_tag',
          fields: ['name', 'color'],
          binary: [],
          api: { filter: [], sort: [] },
        },
        children: [],
        schedule: {},
      },
    ]);
  });

  it('reads JSON too, and copies the families SYNC_FAMILIES names beside those declared in code', () => {
    const config = load({
      SYNC_FAMILIES_FILE: file(
        JSON.stringify({ families: [{ name: 'tags', model: 'res.partner.category' }] }),
        'json',
      ),
      SYNC_FAMILIES: 'bcs,tags',
    });
    expect(config.sync.families.copied).toEqual(['bcs', 'tags']);
    expect(config.sync.families.code.map((family) => family.name)).toEqual(['bcs']);
  });

  it('names every bad entry at once', () => {
    const found = problems({
      SYNC_FAMILIES_FILE: file(`
families:
  - name: Bad Name
    model: Not A Model
    colour: red
  - name: bcs
    model: dimagaz.bc
    table: scrap_dimagaz_bc
  - name: twice
    model: x_cylinder
    children: [{ model: x_cylinder, link: x_parent_id }]
  - name: slow
    model: x_thing
    table: sync_state
    schedule: { every: soon, reconcileCron: 'at night' }
`),
    });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^SYNC_FAMILIES_FILE: families\[0\]\.name: must be lowercase/),
        expect.stringMatching(
          /^SYNC_FAMILIES_FILE: families\[0\]\.model: must be an Odoo model name/,
        ),
        expect.stringMatching(/^SYNC_FAMILIES_FILE: families\[0\]: Unrecognized key: "colour"/),
      ]),
    );
    // Entries the schema accepts are checked against each other and the code's families.
    const further = problems({
      SYNC_FAMILIES_FILE: file(`
families:
  - name: bcs
    model: x_other
    table: scrap_dimagaz_bc
  - name: twice
    model: x_cylinder
    children: [{ model: x_cylinder, link: x_parent_id }]
  - name: state
    model: x_thing
    table: sync_state
`),
    });
    expect(further).toEqual([
      'SYNC_FAMILIES_FILE: families[0].name: bcs is taken by another family',
      'SYNC_FAMILIES_FILE: families[1].children[0].model: x_cylinder is in another family of the file already',
      'SYNC_FAMILIES_FILE: families[1].children[0].table: scrap_x_cylinder is taken',
      'SYNC_FAMILIES_FILE: families[2].table: sync_state is taken',
      "SYNC_FAMILIES_FILE: bcs: x_other: table scrap_dimagaz_bc is the bcs family's, copied here: name another table",
    ]);
    // The README's example: a model a family in code copies, with its default table, while that
    // family is not copied (migrate takes the table over).
    const readme = file(`
families:
  - name: invoices
    model: account.move
    children: [{ model: account.move.line, link: move_id }]
    api: { filter: [state, partner_id], sort: [date, amount_total] }
  - name: contacts
    model: res.partner
`);
    expect(load({ SYNC_FAMILIES_FILE: readme }).sync.families.copied).toEqual([
      'invoices',
      'contacts',
    ]);
    expect(problems({ SYNC_FAMILIES_FILE: readme, SYNC_FAMILIES: 'invoices,moves' })).toEqual([
      'SYNC_FAMILIES: invoices and moves both copy account.move: copy one of them',
      'SYNC_FAMILIES: invoices and moves both copy account.move.line: copy one of them',
    ]);
    expect(
      problems({
        SYNC_FAMILIES_FILE: file(
          'families:\n  - name: slow\n    model: x_thing\n    schedule: { every: soon, reconcileCron: at night }\n',
        ),
      }),
    ).toEqual([
      'SYNC_FAMILIES_FILE: families[0].schedule.every: must be a duration such as 5m',
      'SYNC_FAMILIES_FILE: families[0].schedule.reconcileCron: must be a cron pattern such as "0 3 * * *"',
    ]);
  });

  it('says when the file cannot be read or parsed', () => {
    expect(problems({ SYNC_FAMILIES_FILE: join(dir, 'absent.yaml') })).toEqual([
      'SYNC_FAMILIES_FILE: cannot be read: ENOENT',
    ]);
    expect(problems({ SYNC_FAMILIES_FILE: file('families: [\n  - name: x') })).toEqual([
      expect.stringMatching(/^SYNC_FAMILIES_FILE: is not valid YAML: /),
    ]);
    expect(problems({ SYNC_FAMILIES_FILE: file('{"families": ', 'json') })).toEqual([
      expect.stringMatching(/^SYNC_FAMILIES_FILE: is not valid JSON: /),
    ]);
  });

  it('refuses two families copying one model, and a family no one declared', () => {
    const path = file(
      'families:\n  - name: contacts\n    model: res.partner\n    table: contact\n',
    );
    expect(
      problems({ SYNC_FAMILIES_FILE: path, SYNC_FAMILIES: 'partners,contacts,nobody' }),
    ).toEqual([
      'SYNC_FAMILIES: "nobody" is not a record family (known: bcs, partners, moves, contacts)',
      'SYNC_FAMILIES: contacts and partners both copy res.partner: copy one of them',
    ]);
    // Declared but not copied: no conflict.
    expect(
      load({ SYNC_FAMILIES_FILE: path, SYNC_FAMILIES: 'partners' }).sync.families.copied,
    ).toEqual(['partners']);
  });

  it('makes migrate need Odoo: it reads the models’ fields_get', () => {
    const path = file('families:\n  - name: tags\n    model: res.partner.category\n');
    const { ODOO_PASSWORD: _password, ...withoutPassword } = base;
    expect(
      (() => {
        try {
          loadConfig(
            { ...withoutPassword, SYNC_FAMILIES_FILE: path },
            { mode: 'production', role: 'migrate', codeFamilies: CODE_FAMILIES },
          );
        } catch (error) {
          return (error as ConfigError).problems;
        }
        return [];
      })(),
    ).toEqual([{ key: 'ODOO_PASSWORD', message: 'is required' }]);
    expect(
      loadConfig(
        { DATABASE_URL: base.DATABASE_URL },
        { mode: 'production', role: 'migrate', codeFamilies: CODE_FAMILIES },
      ).sync.families.copied,
    ).toEqual(['bcs']);
  });
});
