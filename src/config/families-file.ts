/**
 * The record families operators declare in a file (`SYNC_FAMILIES_FILE`, YAML or JSON), read and
 * checked once at boot: every bad entry is named, as a bad key of the environment is.
 *
 * ```yaml
 * families:
 *   - name: cylinders
 *     model: x_cylinder
 *     children:
 *       - { model: x_cylinder_valve, link: x_cylinder_id }
 *     binary: [x_photo]
 *     schedule: { every: 10m, reconcileCron: '0 4 * * *' }
 *     api: { filter: [x_status, x_partner_id], sort: [x_name] }
 * ```
 */
import { z } from 'zod';
import { FAMILY_NAME } from '../families/family.js';
import {
  defaultTableOf,
  type ConfiguredFamilySpec,
  type ConfiguredModelSpec,
} from '../families/configured/spec.js';
import { MAX_IDENTIFIER } from '../families/table-plan.js';
import { readDeclarationFile } from './declaration-file.js';
import { declaredSchedule } from './declared-schedule.js';

const modelName = z
  .string()
  .regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/, 'must be an Odoo model name such as res.partner');
const fieldName = z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be an Odoo field name');
const tableName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]*$/, 'must be a lowercase table name')
  .max(MAX_IDENTIFIER);

const api = z
  .object({
    filter: z.array(fieldName).default([]),
    sort: z.array(fieldName).default([]),
  })
  .strict()
  .default({ filter: [], sort: [] });

const model = {
  model: modelName,
  table: tableName.optional(),
  fields: z.array(fieldName).min(1).optional(),
  binary: z.array(fieldName).default([]),
  api,
};

const family = z
  .object({
    name: z.string().regex(FAMILY_NAME, 'must be lowercase letters, digits, - or _'),
    ...model,
    children: z.array(z.object({ ...model, link: fieldName }).strict()).default([]),
    schedule: declaredSchedule,
  })
  .strict();

const file = z.object({ families: z.array(family).min(1) }).strict();

/** Reads and checks the file; returns its families, or the problems (one per bad entry). */
export function readFamiliesFile(
  path: string,
  taken: { families: readonly string[]; tables: readonly string[] },
): { families: ConfiguredFamilySpec[]; problems: string[] } {
  const read = readDeclarationFile(path, file);
  if (!read.ok) return { families: [], problems: read.problems };

  const problems: string[] = [];
  const names = new Set(taken.families);
  const models = new Set<string>();
  const tables = new Set(taken.tables);
  const families = read.data.families.map((entry, i): ConfiguredFamilySpec => {
    const at = `families[${i}]`;
    if (names.has(entry.name))
      problems.push(`${at}.name: ${entry.name} is taken by another family`);
    names.add(entry.name);
    const spec = (
      declared: typeof entry | (typeof entry.children)[number],
      where: string,
    ): ConfiguredModelSpec => {
      if (models.has(declared.model))
        problems.push(`${where}.model: ${declared.model} is in another family of the file already`);
      models.add(declared.model);
      const table = declared.table ?? defaultTableOf(declared.model);
      if (table.length > MAX_IDENTIFIER)
        problems.push(
          `${where}.table: ${table} is longer than PostgreSQL's ${MAX_IDENTIFIER} characters: name the table`,
        );
      if (tables.has(table) || table.startsWith('sync_'))
        problems.push(`${where}.table: ${table} is taken`);
      tables.add(table);
      return {
        model: declared.model,
        table,
        ...(declared.fields ? { fields: declared.fields } : {}),
        binary: declared.binary,
        api: declared.api,
      };
    };
    return {
      name: entry.name,
      root: spec(entry, at),
      children: entry.children.map((child, c) => ({
        ...spec(child, `${at}.children[${c}]`),
        link: child.link,
      })),
      schedule: entry.schedule,
    };
  });
  return { families, problems };
}
