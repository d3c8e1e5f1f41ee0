/**
 * `check`'s part for a source's families: for each model a family copies, whether the sync user
 * may read it, which stored fields the copy reads and which it leaves out (and why), the one2many
 * targets it may not read, and one read of a record with those fields — what the first copy will
 * ask of Odoo, asked once. A family declared in code reads the fields its declaration and Odoo's
 * schema give (src/sync/odoo-reads.ts); a family of the declaration file is planned as `migrate`
 * plans it (src/families/configured/), before `migrate` has run as after.
 *
 * Nothing is written anywhere: Odoo is read, and the plan is not applied.
 */
import { describeError } from '../lib/errors.js';
import type { OdooClient } from '../clients/odoo/index.js';
import { familyModels, type RecordFamily } from '../families/family.js';
import { describeFamily } from '../families/configured/apply-layouts.js';
import { planLayout } from '../families/configured/layout.js';
import type { ConfiguredFamilySpec } from '../families/configured/spec.js';
import { fieldReading } from '../sync/odoo-reads.js';
import { fail, ok, warn, type CheckLine } from './check-report.js';

/** A family a source copies, as its declaration gives it. */
export type FamilyToCheck =
  | { readonly name: string; readonly code: RecordFamily }
  | { readonly name: string; readonly spec: ConfiguredFamilySpec };

export type FamilyCheckClient = Pick<
  OdooClient,
  'canRead' | 'storedFields' | 'fieldsGet' | 'searchRead'
>;

/** How many left-out fields a line names before it counts the rest. */
const NAMED_AT_MOST = 8;

function leftOutText(leftOut: readonly { field: string; reason: string }[]): string {
  if (leftOut.length === 0) return 'leaves out none';
  const named = leftOut
    .slice(0, NAMED_AT_MOST)
    .map((left) => `${left.field} (${left.reason})`)
    .join(', ');
  const more = leftOut.length - NAMED_AT_MOST;
  return `leaves out ${leftOut.length}: ${named}${more > 0 ? `, and ${more} more` : ''}`;
}

/** One record read with the fields the copy will ask for: what a page's read needs of Odoo. */
async function readOne(
  odoo: FamilyCheckClient,
  model: string,
  fields: readonly string[],
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  try {
    await odoo.searchRead(
      model,
      [],
      { fields, limit: 1, order: 'id', context: { active_test: false } },
      { signal },
    );
    return undefined;
  } catch (error) {
    return describeError(error);
  }
}

/** The FAIL of a model whose read of the family's fields Odoo refused. */
const readFailed = (topic: string, model: string, refused: string): CheckLine =>
  fail(
    topic,
    `${model}: a read of its fields fails: ${refused}`,
    'fix what Odoo says (a field access rule, a broken computed field), or leave the family out of SYNC_FAMILIES',
  );

const REFUSED_ACTION = (user: string, model: string, family: string) =>
  `give ${user} a group that reads ${model} (Odoo: Settings → Users), or copy ${family} with another user`;

async function checkCodeFamily(
  odoo: FamilyCheckClient,
  family: RecordFamily,
  user: string,
  signal: AbortSignal | undefined,
): Promise<CheckLine[]> {
  const topic = `family ${family.name}`;
  const models = familyModels(family);
  const refusedModels: string[] = [];
  for (const model of models)
    if (!(await odoo.canRead(model.model, { signal }))) refusedModels.push(model.model);
  // A root's read lists its children: one model refused fails every read of the family.
  if (refusedModels.length > 0)
    return refusedModels.map((model) =>
      fail(
        topic,
        `${user} may not read ${model}: every read of the family would be refused`,
        REFUSED_ACTION(user, model, family.name),
      ),
    );
  const lines: CheckLine[] = [];
  for (const model of models) {
    const stored = await odoo.storedFields(model.model, { signal });
    const known = new Set(stored.map((field) => field.name));
    const missing = [
      ...new Set([...model.requiredFields, ...model.columns.map((column) => column.field)]),
    ].filter((name) => !known.has(name));
    if (missing.length > 0) {
      lines.push(
        fail(
          topic,
          `${model.model} has no stored field ${missing.join(', ')} that the family reads`,
          'install the Odoo module that adds them, or check ODOO_DATABASE names the right database',
        ),
      );
      continue;
    }
    const { read, leftOut } = fieldReading(family, model, stored, new Set());
    const refused = await readOne(odoo, model.model, read, signal);
    lines.push(
      refused === undefined
        ? ok(
            topic,
            `${model.model}: readable; reads ${read.length} fields, ${leftOutText(leftOut)}`,
          )
        : readFailed(topic, model.model, refused),
    );
  }
  return lines;
}

async function checkConfiguredFamily(
  odoo: FamilyCheckClient,
  spec: ConfiguredFamilySpec,
  user: string,
  signal: AbortSignal | undefined,
): Promise<CheckLine[]> {
  const topic = `family ${spec.name}`;
  const described = await describeFamily(
    {
      fieldsGet: (model, attributes, options) =>
        odoo.fieldsGet(model, attributes, options, { signal }),
      canRead: (model) => odoo.canRead(model, { signal }),
    },
    spec,
  );
  const { layout, problems, leftOut } = planLayout(spec, described, undefined, new Map());
  const lines: CheckLine[] = problems.map((problem) =>
    fail(
      topic,
      problem,
      /may not read/.test(problem)
        ? `give ${user} a group that reads the model (Odoo: Settings → Users), or copy ${spec.name} with another user`
        : 'fix the declaration (SYNC_FAMILIES_FILE) or the Odoo database, then run check again',
    ),
  );
  if (problems.length > 0) return lines;
  for (const model of layout.models) {
    const own = leftOut.filter((left) => left.model === model.model);
    const unreadable = own.filter((left) => /may not read/.test(left.reason));
    const read = [
      'write_date',
      ...(model.parentField === undefined ? [] : [model.parentField]),
      ...model.columns.map((column) => column.field),
      ...model.links.map((link) => link.field),
    ];
    const refused = await readOne(odoo, model.model, [...new Set(read)], signal);
    if (refused !== undefined) {
      lines.push(readFailed(topic, model.model, refused));
      continue;
    }
    const text = `${model.model}: readable; reads ${model.columns.length} fields and ${model.links.length} relations, ${leftOutText(own)}`;
    lines.push(
      unreadable.length === 0
        ? ok(topic, text)
        : warn(
            topic,
            text,
            `the relations ${unreadable.map((left) => left.field).join(', ')} are not copied while ${user} may not read their targets: give it read access to copy them`,
          ),
    );
  }
  return lines;
}

/** The lines of every family a source copies, in their order. */
export async function checkFamilies(
  odoo: FamilyCheckClient,
  families: readonly FamilyToCheck[],
  user: string,
  signal?: AbortSignal,
): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  for (const family of families)
    lines.push(
      ...('code' in family
        ? await checkCodeFamily(odoo, family.code, user, signal)
        : await checkConfiguredFamily(odoo, family.spec, user, signal)),
    );
  return lines;
}
