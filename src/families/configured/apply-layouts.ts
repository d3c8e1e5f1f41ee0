/**
 * `migrate`'s part for configured families: reads `fields_get` of every configured model and of
 * the one2many targets they name, plans each family's layout, and creates what it adds. Each
 * family in a transaction of its own under an advisory lock taken before Odoo is read, so two
 * migrators never plan from two readings nor interleave; a refused family leaves nothing half
 * done and stops no other. Run again with nothing changed, it changes nothing.
 */
import { sql } from 'drizzle-orm';
import { isOdooError } from '../../clients/odoo/odoo-errors.js';
import type { OdooClient } from '../../clients/odoo/index.js';
import type { Db } from '../../db/create-db.js';
import { syncFamilyLayout } from '../../db/schema/index.js';
import { rowsOf, textArray } from '../../db/sql-rows.js';
import { AppError } from '../../lib/errors.js';
import type { LeftOutField } from '../field-policy.js';
import { one2manyTargets, type DescribedModel } from './choose-fields.js';
import { layoutStatements } from './ddl.js';
import {
  LAYOUT_ATTRIBUTES,
  planLayout,
  sameLayout,
  TARGET_ATTRIBUTES,
  type Catalog,
  type FamilyLayout,
} from './layout.js';
import type { ConfiguredFamilySpec } from './spec.js';

/** Not the drizzle migrator's lock: a migrate holds that one and then this one. */
const LAYOUT_LOCK_KEY = 4_242_001_338;

/** The families `migrate` refused, each with its problems; the others were applied. */
export class LayoutRefusedError extends AppError {
  constructor(
    readonly problems: readonly string[],
    readonly applied: readonly AppliedLayout[],
  ) {
    super(
      'LAYOUT_REFUSED',
      `configured families not migrated, nothing of theirs changed:\n  - ${problems.join('\n  - ')}`,
    );
  }
}

export interface AppliedLayout {
  readonly family: string;
  readonly version: number;
  /** Whether this migrate changed it. */
  readonly changed: boolean;
  readonly tables: number;
  readonly columns: number;
  readonly frozen: number;
  /** Stored fields Odoo lists that the copy does not hold, and why. */
  readonly leftOut: readonly LeftOutField[];
}

type OdooSchemaSource = Pick<OdooClient, 'fieldsGet' | 'canRead'>;

/**
 * A model's fields and whether the sync user may read it; undefined when Odoo has no such model
 * (fault 2 `Object x doesn't exist`, a 404 on JSON-2: a user error on every transport) or will
 * not describe it (both are named with the family's other problems).
 */
async function describe(
  odoo: OdooSchemaSource,
  model: string,
  attributes: readonly string[],
): Promise<DescribedModel | undefined> {
  try {
    const [fields, readable] = await Promise.all([
      odoo.fieldsGet(model, attributes),
      odoo.canRead(model),
    ]);
    return { fields, readable };
  } catch (error) {
    if (
      isOdooError(error) &&
      (error.code === 'ODOO_USER_ERROR' ||
        error.code === 'ODOO_SERVER_FAULT' ||
        error.code === 'ODOO_ACCESS')
    )
      return undefined;
    throw error;
  }
}

/** The family's models and the one2many targets they name, each described once. */
async function describeFamily(
  odoo: OdooSchemaSource,
  spec: ConfiguredFamilySpec,
): Promise<Map<string, DescribedModel>> {
  const described = new Map<string, DescribedModel>();
  const own = [spec.root, ...spec.children].map((model) => model.model);
  for (const [i, found] of (
    await Promise.all(own.map((model) => describe(odoo, model, LAYOUT_ATTRIBUTES)))
  ).entries())
    if (found) described.set(own[i]!, found);
  const targets = [
    ...new Set([...described.values()].flatMap((model) => one2manyTargets(model.fields))),
  ].filter((model) => !described.has(model));
  for (const [i, found] of (
    await Promise.all(targets.map((model) => describe(odoo, model, TARGET_ATTRIBUTES)))
  ).entries())
    if (found) described.set(targets[i]!, found);
  return described;
}

/** Each table's columns and types, for the tables named. */
export async function readCatalog(
  db: Pick<Db, 'execute'>,
  tables: readonly string[],
): Promise<Catalog> {
  const rows = rowsOf<{ table_name: string; column_name: string; type: string }>(
    await db.execute(sql`
      select c.relname as table_name, a.attname as column_name,
        format_type(a.atttypid, a.atttypmod) as type
      from pg_attribute a
      join pg_class c on c.oid = a.attrelid
      join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relname = any(${textArray(tables)}::text[])
        and a.attnum > 0 and not a.attisdropped`),
  );
  const catalog = new Map<string, Map<string, string>>();
  for (const row of rows) {
    let columns = catalog.get(row.table_name);
    if (!columns) catalog.set(row.table_name, (columns = new Map<string, string>()));
    columns.set(row.column_name, row.type);
  }
  return catalog;
}

/** Each table's `not null` columns without a default: what a row must give. */
async function readRequiredColumns(
  db: Pick<Db, 'execute'>,
  tables: readonly string[],
): Promise<Map<string, Set<string>>> {
  const rows = rowsOf<{ table_name: string; column_name: string }>(
    await db.execute(sql`
      select c.relname as table_name, a.attname as column_name
      from pg_attribute a
      join pg_class c on c.oid = a.attrelid
      join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relname = any(${textArray(tables)}::text[])
        and a.attnum > 0 and not a.attisdropped and a.attnotnull and not a.atthasdef
        and a.attidentity = ''`),
  );
  const required = new Map<string, Set<string>>();
  for (const row of rows) {
    let columns = required.get(row.table_name);
    if (!columns) required.set(row.table_name, (columns = new Set()));
    columns.add(row.column_name);
  }
  return required;
}

/** The layouts `migrate` kept, by family. */
export async function readLayouts(db: Db): Promise<Map<string, FamilyLayout>> {
  const rows = await db.select().from(syncFamilyLayout);
  return new Map(rows.map((row) => [row.family, row.layout as FamilyLayout]));
}

/**
 * Plans and creates the tables of each configured family, each family on its own.
 * @throws LayoutRefusedError naming every problem of the families refused, after applying the others
 */
export async function applyLayouts(
  db: Db,
  odoo: OdooSchemaSource,
  specs: readonly ConfiguredFamilySpec[],
): Promise<AppliedLayout[]> {
  const applied: AppliedLayout[] = [];
  const problems: string[] = [];
  for (const spec of specs) {
    const outcome = await applyLayout(db, odoo, spec);
    if (Array.isArray(outcome)) problems.push(...outcome);
    else applied.push(outcome);
  }
  if (problems.length > 0) throw new LayoutRefusedError(problems, applied);
  return applied;
}

/** One family's layout, applied; or its problems, with nothing changed. */
async function applyLayout(
  db: Db,
  odoo: OdooSchemaSource,
  spec: ConfiguredFamilySpec,
): Promise<AppliedLayout | string[]> {
  const tables = [spec.root, ...spec.children].map((m) => m.table);
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${LAYOUT_LOCK_KEY})`);
    const described = await describeFamily(odoo, spec);
    const previous = (await readLayouts(tx)).get(spec.name);
    const catalog = await readCatalog(tx, tables);
    const { layout, problems, leftOut } = planLayout(spec, described, previous, catalog);
    for (const model of layout.models) {
      const table = catalog.get(model.table);
      if (table && !(table.has('odoo_id') && table.has('data')))
        problems.push(
          `${spec.name}: ${model.model}: table ${model.table} exists and is not a copy table`,
        );
    }
    if (problems.length > 0) return problems;

    const required = await readRequiredColumns(tx, tables);
    for (const statement of layoutStatements(layout, spec, { catalog, required }))
      await tx.execute(sql.raw(statement));
    const changed = previous?.version !== layout.version;
    if (previous === undefined || !sameLayout(previous, layout))
      await tx
        .insert(syncFamilyLayout)
        .values({ family: spec.name, specHash: layout.specHash, version: layout.version, layout })
        .onConflictDoUpdate({
          target: syncFamilyLayout.family,
          set: {
            specHash: layout.specHash,
            version: layout.version,
            layout,
            updatedAt: sql`now()`,
          },
        });
    return {
      family: spec.name,
      version: layout.version,
      changed,
      tables:
        layout.models.length +
        layout.models.reduce((n, model) => n + model.links.filter((l) => !l.frozen).length, 0),
      columns: layout.models.reduce(
        (n, model) => n + model.columns.filter((c) => !c.frozen).length,
        0,
      ),
      frozen: layout.models.reduce(
        (n, model) => n + model.columns.filter((c) => c.frozen).length,
        0,
      ),
      leftOut,
    };
  });
}
