/**
 * Compares a family's copy with a real Odoo, as copy-diff.ts does with the sandbox's state, and
 * without erp-bridge's client: over JSON-2, every record Odoo has (archived included) by `read`
 * with `active_test` off in the sync user's own `lang` and `tz`, each model's stored fields as
 * `fields_get` lists them but those the copy leaves out on purpose (binaries, secrets, names that
 * are no identifiers, a one2many it does not keep, the fields `migrate` said it left out and why).
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../../src/db/create-db.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import type { ModelDeclaration, RecordFamily } from '../../src/families/family.js';
import { FIELD_NAME, isSecretField } from '../../src/families/field-policy.js';
import { sameJson } from '../../src/families/map-record.js';
import { json2Value } from './odoo19.js';

/** Who reads Odoo: its URL and the sync user's key. */
export interface OdooReader {
  readonly url: string;
  readonly apiKey: string;
}

/** A stored field `migrate` left out of a model, as its log says. */
export interface LeftOut {
  readonly model: string;
  readonly field: string;
}

type OdooRecord = { id: number } & Record<string, unknown>;

const READ_BATCH = 200;

/** The fields a copy of `model` holds, from Odoo's own `fields_get`. */
async function expectedFields(
  odoo: OdooReader,
  family: RecordFamily,
  model: ModelDeclaration,
  leftOut: readonly LeftOut[],
): Promise<string[]> {
  const described = await json2Value<
    Record<string, { type: string; store: boolean; relation?: string }>
  >(odoo, odoo.apiKey, model.model, 'fields_get', { attributes: ['type', 'store', 'relation'] });
  const children = new Set(family.children.map((child) => child.model));
  const omitted = new Set(
    leftOut.filter((field) => field.model === model.model).map((field) => field.field),
  );
  return Object.entries(described)
    .filter(([name, field]) => {
      if (!field.store || omitted.has(name)) return false;
      if (
        field.type === 'one2many' &&
        !children.has(field.relation ?? '') &&
        !model.links.some((link) => link.field === name)
      )
        return false;
      return field.type !== 'binary' && !isSecretField(name) && FIELD_NAME.test(name);
    })
    .map(([name]) => name)
    .sort();
}

/** Every record of `model` matching `domain`, archived included, read whole. */
async function readAll(
  odoo: OdooReader,
  model: string,
  domain: unknown[],
  fields: readonly string[],
  context: Record<string, unknown>,
): Promise<Map<number, OdooRecord>> {
  const ids = await json2Value<number[]>(odoo, odoo.apiKey, model, 'search', {
    domain,
    order: 'id',
    context,
  });
  const records = new Map<number, OdooRecord>();
  for (let start = 0; start < ids.length; start += READ_BATCH) {
    const batch = await json2Value<OdooRecord[]>(odoo, odoo.apiKey, model, 'read', {
      ids: ids.slice(start, start + READ_BATCH),
      fields,
      context,
    });
    for (const record of batch) records.set(record.id, record);
  }
  return records;
}

/**
 * Asserts nothing: one line per difference (a record missing from the copy, one whose data
 * differs and in which fields, one the copy holds that Odoo does not, a link table that does not
 * hold Odoo's targets in Odoo's order). Archived roots and their children are the copy's history:
 * left out.
 */
export async function diffCopyWithOdoo(
  db: Db,
  odoo: OdooReader,
  family: RecordFamily,
  leftOut: readonly LeftOut[],
): Promise<string[]> {
  const own = await json2Value<{ lang?: string; tz?: string | false }>(
    odoo,
    odoo.apiKey,
    'res.users',
    'context_get',
    {},
  );
  const context = { lang: own.lang, tz: own.tz, active_test: false };
  const diffs: string[] = [];
  const compare = async (
    model: ModelDeclaration,
    domain: unknown[],
    rows: { odoo_id: number; data: Record<string, unknown> }[],
  ) => {
    const fields = await expectedFields(odoo, family, model, leftOut);
    const expected = await readAll(odoo, model.model, domain, fields, context);
    const actual = new Map(rows.map((row) => [row.odoo_id, row.data]));
    for (const [id, record] of expected) {
      const copy = actual.get(id);
      if (!copy) {
        diffs.push(`${model.model} ${id}: missing from the copy`);
        continue;
      }
      const differing = fields.filter((name) => !sameJson(copy[name], record[name]));
      if (differing.length > 0)
        diffs.push(`${model.model} ${id}: data differs (${differing.join(', ')})`);
    }
    for (const id of actual.keys())
      if (!expected.has(id)) diffs.push(`${model.model} ${id}: in the copy but not in Odoo`);
    for (const link of model.links) {
      const stored = rowsOf<{ owner_id: number; targets: number[] }>(
        await db.execute(
          sql`select owner_id, array_agg(target_id order by position) as targets
            from ${sql.identifier(link.table)} group by owner_id`,
        ),
      );
      const byOwner = new Map(stored.map((row) => [row.owner_id, row.targets]));
      for (const [id, record] of expected) {
        const want = JSON.stringify(record[link.field] ?? []);
        const have = JSON.stringify(byOwner.get(id) ?? []);
        if (actual.has(id) && want !== have)
          diffs.push(`${model.model} ${id}: ${link.table} holds ${have}, not ${want}`);
      }
    }
    return [...expected.keys()];
  };
  const { root } = family;
  const roots = rowsOf<{ odoo_id: number; data: Record<string, unknown> }>(
    await db.execute(
      sql`select odoo_id, data from ${sql.identifier(root.table.name)}
        where archived_at is null order by odoo_id`,
    ),
  );
  const rootIds = await compare(root, [], roots);
  for (const child of family.children) {
    const children = rowsOf<{ odoo_id: number; data: Record<string, unknown> }>(
      await db.execute(
        sql`select c.odoo_id, c.data from ${sql.identifier(child.table.name)} c
          join ${sql.identifier(root.table.name)} r on r.odoo_id = c.${sql.identifier(child.parentColumn)}
          where r.archived_at is null order by c.odoo_id`,
      ),
    );
    await compare(child, [[child.parentField, 'in', rootIds]], children);
  }
  return diffs;
}
